"""Questions from the floor: submissions, upvotes, moderation and the open/closed switch, each with its audit event.

Every write asks core.questions again inside its BEGIN IMMEDIATE transaction, on the
rows as they are now (whatever the hub decided on its cached view), and logs one
event in the same transaction: `question.submitted`, `question.upvoted`,
`question.approved`, `question.rejected`, `question.starred`, `question.unstarred`,
`question.asked`, `questions.opened`, `questions.closed`. A refusal is a StoreError
with the core's code (`questions_closed`, `too_long`, `filtered`, ...) and changes nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any

from finale.config import EventConfig
from finale.core.questions import (
    Board,
    FloorPolicy,
    FloorQuestion,
    Move,
    QuestionRefused,
    QuestionsState,
    Status,
    board_order,
    moderate,
    submission,
    upvote_refusal,
)
from finale.store.base import StoreError
from finale.store.rounds import RoundsMixin

_SELECT = ("SELECT q.id, q.voter_id, q.text, q.status, q.starred, q.submitted_at, q.reason, q.round_id, "
           "(SELECT COUNT(*) FROM question_upvotes u WHERE u.question_id = q.id) AS upvotes FROM audience_questions q")


def _question(row: Any) -> FloorQuestion:
    qid, voter, text, status, starred, at, reason, round_id, upvotes = row
    return FloorQuestion(int(qid), str(voter), str(text), Status(status), bool(starred), int(upvotes), float(at),
                         reason, round_id)


class QuestionsMixin(RoundsMixin):
    """Storing and moderating questions from the floor (the hub writes submissions and upvotes, the Director moves)."""

    _floor_cache: tuple[str, FloorPolicy] | None = None

    def floor_policy(self) -> FloorPolicy:
        """The event file's limits for questions, parsed again only when the stored event file changes."""
        raw = self.conn.execute("SELECT value FROM meta WHERE key='event_config'").fetchone()
        if raw is None:
            return FloorPolicy()
        cached = self._floor_cache
        if cached is None or cached[0] != raw[0]:
            config = EventConfig.model_validate_json(raw[0])
            cached = self._floor_cache = (raw[0], config.audience_questions.floor_policy())
        return cached[1]

    def questions_state(self) -> QuestionsState:
        """Whether questions are open, as the MC set it (core.questions.QuestionsState)."""
        row = self.conn.execute("SELECT value FROM show_state WHERE key='questions'").fetchone()
        return QuestionsState.from_dict(json.loads(row[0]) if row is not None else None)

    def save_questions_state(self, state: QuestionsState, actor: str, kind: str,
                             payload: dict[str, Any] | None = None) -> QuestionsState:
        """Write the open/closed switch the core moved, with its audit event, in one transaction."""
        with self.transaction():
            self._set_show("questions", state.as_dict())
            self.log(actor, kind, {**state.as_dict(), **(payload or {})})
        return state

    def submit_question(self, voter_id: str, text: object, at: float | None = None,
                        actor: str = "hub") -> FloorQuestion:
        """Store a voter's question as pending, if the rules take it now (open, length, filter, rate limit)."""
        now = at if at is not None else time.time()
        with self.transaction():
            policy = self.floor_policy()
            recent = [float(t) for (t,) in self.conn.execute(
                "SELECT submitted_at FROM audience_questions WHERE voter_id=? AND submitted_at > ?",
                (voter_id, now - policy.per_seconds))]
            try:
                clean = submission(text, is_open=self.questions_state().open, recent=recent, now=now, policy=policy)
            except QuestionRefused as exc:
                raise StoreError(exc.message, exc.code) from None
            cur = self.conn.execute(
                "INSERT INTO audience_questions (voter_id, text, status, submitted_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)", (voter_id, clean, Status.PENDING.value, now, now))
            qid = int(cur.lastrowid or 0)
            self.log(actor, "question.submitted", {"question_id": qid, "voter_id": voter_id, "text": clean,
                                                   "chars": len(clean)}, at=now)
        return self.floor_question(qid)

    def upvote_question(self, question_id: int, voter_id: str, at: float | None = None,
                        actor: str = "hub") -> FloorQuestion:
        """Count one voter's upvote of an approved question, if the rules take it; the question with its new count."""
        now = at if at is not None else time.time()
        with self.transaction():
            question = self._find(question_id)
            already = self.conn.execute("SELECT 1 FROM question_upvotes WHERE question_id=? AND voter_id=?",
                                        (question_id, voter_id)).fetchone() is not None
            why = upvote_refusal(question, voter_id, is_open=self.questions_state().open, already=already)
            if why is not None:
                raise StoreError(why[1], why[0])
            self.conn.execute("INSERT INTO question_upvotes (question_id, voter_id, at) VALUES (?, ?, ?)",
                              (question_id, voter_id, now))
            counted = self.floor_question(question_id)
            self.log(actor, "question.upvoted", {"question_id": question_id, "voter_id": voter_id,
                                                 "upvotes": counted.upvotes}, at=now)
        return counted

    def moderate_question(self, question_id: int, move: Move, actor: str, reason: str | None = None,
                          round_id: int | None = None) -> FloorQuestion:
        """Apply the moderator's move (core.questions.moderate) to the question as stored, with its event."""
        with self.transaction():
            before = self._find(question_id)
            if before is None:
                raise StoreError(f"no question {question_id} from the floor", "not_found")
            try:
                after = moderate(before, move, reason=reason, round_id=round_id)
            except QuestionRefused as exc:
                raise StoreError(exc.message, exc.code) from None
            self.conn.execute(
                "UPDATE audience_questions SET status=?, starred=?, reason=?, round_id=?, updated_at=? "
                "WHERE id=? AND status=?", (after.status.value, int(after.starred), after.reason, after.round_id,
                                            time.time(), question_id, before.status.value))
            payload: dict[str, Any] = {"question_id": question_id, "status": after.status.value,
                                       "starred": after.starred}
            if move is Move.REJECT:
                payload["reason"] = after.reason
            self.log(actor, f"question.{move.value}", payload, round_id)
        return after

    def _find(self, question_id: int) -> FloorQuestion | None:
        row = self.conn.execute(f"{_SELECT} WHERE q.id=?", (question_id,)).fetchone()
        return None if row is None else _question(row)

    def floor_question(self, question_id: int) -> FloorQuestion:
        """One question from the floor with its upvote count; a StoreError (`not_found`) if there is none."""
        found = self._find(question_id)
        if found is None:
            raise StoreError(f"no question {question_id} from the floor", "not_found")
        return found

    def floor_questions(self, status: Status | None = None) -> list[FloorQuestion]:
        """Every question from the floor (or those of one status), oldest first, with upvote counts."""
        if status is None:
            rows = self.conn.execute(f"{_SELECT} ORDER BY q.id")
        else:
            rows = self.conn.execute(f"{_SELECT} WHERE q.status=? ORDER BY q.id", (status.value,))
        return [_question(r) for r in rows]

    def question_board(self) -> Board:
        """What every page may know: open or not, the approved questions in board order, the rejected ids."""
        everything = self.floor_questions()
        return Board(open=self.questions_state().open, approved=tuple(board_order(everything)),
                     declined=tuple(q.id for q in everything if q.status is Status.REJECTED),
                     max_chars=self.floor_policy().max_chars)
