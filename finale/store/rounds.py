"""Rounds, their answers and their LLM judgments."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from finale.core.model import Answer, AnswerStatus, Judgment, JudgmentStatus, Phase, Round
from finale.store.base import StoreError
from finale.store.jury import JuryMixin, jury_payload


class RoundsMixin(JuryMixin):
    """Creating and moving rounds; storing what the finalists answered and what the judge said."""

    @staticmethod
    def _round(r: dict[str, Any]) -> Round:
        return Round(
            id=r["id"], prompt=r["prompt"], phase=Phase(r["phase"]), question_id=r["question_id"],
            seed=r["seed"], labels=json.loads(r["labels"]), settings_versions=json.loads(r["settings_versions"]),
            vote_opened_at=r["vote_opened_at"], vote_deadline=r["vote_deadline"], revealed=bool(r["revealed"]),
            vote_paused_at=r["vote_paused_at"], audience_question_id=r.get("audience_question_id"),
        )

    def create_round(self, prompt: str, question_id: str | None, seed: int, labels: dict[str, str],
                     actor: str, audience_question_id: int | None = None) -> Round:
        """A new draft round; settings versions are frozen when it is asked.

        `audience_question_id` marks a round asked from a question from the floor (finale.store.questions).
        """
        now = time.time()
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO rounds (question_id, prompt, phase, seed, labels, settings_versions, created_at, "
                "updated_at, audience_question_id) VALUES (?, ?, ?, ?, ?, '{}', ?, ?, ?)",
                (question_id, prompt, Phase.DRAFT.value, seed, json.dumps(labels), now, now, audience_question_id),
            )
            round_id = int(cur.lastrowid or 0)
            self._set_show("current_round", round_id)
            extra = {} if audience_question_id is None else {"source": "audience",
                                                             "audience_question_id": audience_question_id}
            self.log(actor, "round.created", {"question_id": question_id, "prompt": prompt, "seed": seed, **extra},
                     round_id)
        return self.round(round_id)

    def round(self, round_id: int) -> Round:
        """One round; a StoreError if there is none with that id."""
        rows = list(self.db.query("SELECT * FROM rounds WHERE id=?", [round_id]))
        if not rows:
            raise StoreError(f"no round {round_id}")
        return self._round(rows[0])

    def rounds(self) -> list[Round]:
        """Every round, in the order they were created."""
        return [self._round(r) for r in self.db.query("SELECT * FROM rounds ORDER BY id")]

    def current_round(self) -> Round | None:
        """The round the show is on (the latest created), or None before the first."""
        value = self.show_state().get("current_round")
        return self.round(int(value)) if value is not None else None

    def move_round(self, round_id: int, change: Callable[[Round], Round], actor: str, kind: str,
                   payload: dict[str, Any] | Callable[[Round, Round], dict[str, Any]] | None = None) -> Round:
        """Read a round, apply a core rule to it and write the result, all in one BEGIN IMMEDIATE transaction.

        `change` is a pure function from finale.core (a transition, a poll move); whatever it
        raises (IllegalTransition, ValueError) leaves the round and the audit log untouched. As
        no other writer can commit between the read and the write, a move decided on a stale
        copy of the round cannot happen: it is decided again on the row as it is now.
        `payload` may be a function of (before, after) for events that report the change.
        """
        with self.transaction():
            before = self.round(round_id)
            after = change(before)
            if after.id != round_id:
                raise StoreError(f"a move of round {round_id} returned round {after.id}")
            extra = payload(before, after) if callable(payload) else payload
            self._write_round(after, expect=before.phase)
            self.log(actor, kind, {"phase": after.phase.value, **(extra or {})}, round_id)
        return after

    def update_round(self, rnd: Round, actor: str, kind: str, payload: dict[str, Any] | None = None, *,
                     expect: Phase) -> Round:
        """Persist a round the core moved from phase `expect`; refused (StoreError) if it has moved since.

        Prefer `move_round`, which decides the move on the row itself.
        """
        with self.transaction():
            self._write_round(rnd, expect=expect)
            self.log(actor, kind, {"phase": rnd.phase.value, **(payload or {})}, rnd.id)
        return rnd

    def _write_round(self, rnd: Round, *, expect: Phase) -> None:
        cur = self.conn.execute(
            "UPDATE rounds SET phase=?, labels=?, settings_versions=?, vote_opened_at=?, vote_deadline=?, "
            "revealed=?, vote_paused_at=?, updated_at=? WHERE id=? AND phase=?",
            (rnd.phase.value, json.dumps(rnd.labels), json.dumps(rnd.settings_versions), rnd.vote_opened_at,
             rnd.vote_deadline, int(rnd.revealed), rnd.vote_paused_at, time.time(), rnd.id, expect.value),
        )
        if cur.rowcount != 1:
            now = self.conn.execute("SELECT phase FROM rounds WHERE id=?", (rnd.id,)).fetchone()
            if now is None:
                raise StoreError(f"no round {rnd.id}", "no_round")
            raise StoreError(f"round {rnd.id} is {now[0]} now, not {expect}; the move to {rnd.phase} was refused",
                             "stale")

    def save_answer(self, answer: Answer, actor: str = "console", is_reference: bool = False,
                    log: bool = True) -> None:
        """Store an answer's latest state; the final state is logged, streaming updates are not."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO answers (round_id, finalist_id, is_reference, text, status, error, ttft_ms, total_ms, "
                "tokens, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(round_id, finalist_id) DO "
                "UPDATE SET text=excluded.text, status=excluded.status, error=excluded.error, "
                "ttft_ms=excluded.ttft_ms, total_ms=excluded.total_ms, tokens=excluded.tokens, "
                "updated_at=excluded.updated_at, attempt=CASE WHEN excluded.status='pending' "
                "THEN answers.attempt + 1 ELSE answers.attempt END",
                (answer.round_id, answer.finalist_id, int(is_reference), answer.text, answer.status.value,
                 answer.error, answer.ttft_ms, answer.total_ms, answer.tokens, time.time()),
            )
            if log:
                self.log(actor, "answer.saved", {
                    "finalist_id": answer.finalist_id, "status": answer.status.value, "error": answer.error,
                    "ttft_ms": answer.ttft_ms, "total_ms": answer.total_ms, "tokens": answer.tokens,
                    "chars": len(answer.text), "reference": is_reference}, answer.round_id)

    def answers(self, round_id: int, include_reference: bool = False) -> dict[str, Answer]:
        """A round's answers by finalist id; the reference model's only when asked for."""
        sql = "SELECT * FROM answers WHERE round_id=?" + ("" if include_reference else " AND is_reference=0")
        return {
            r["finalist_id"]: Answer(r["round_id"], r["finalist_id"], r["text"], AnswerStatus(r["status"]),
                                     r["error"], r["ttft_ms"], r["total_ms"], r["tokens"])
            for r in self.db.query(sql, [round_id])
        }

    def save_judgment(self, judgment: Judgment, judge: str, actor: str = "judge") -> None:
        """Store (or replace) the LLM judge's verdict on one answer, each jury member's and the head-to-head
        included, with its event (which holds every judge's scores, for the audit and the replay)."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO judgments (round_id, finalist_id, status, scores, rationale, reason, raw, judge, "
                "updated_at, flags, spread) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(round_id, finalist_id) DO UPDATE SET status=excluded.status, scores=excluded.scores, "
                "rationale=excluded.rationale, reason=excluded.reason, raw=excluded.raw, judge=excluded.judge, "
                "updated_at=excluded.updated_at, flags=excluded.flags, spread=excluded.spread",
                (judgment.round_id, judgment.finalist_id, judgment.status.value, json.dumps(judgment.scores),
                 judgment.rationale, judgment.reason, judgment.raw, judge, time.time(), json.dumps(judgment.flags),
                 json.dumps(judgment.spread)),
            )
            self._save_jury(judgment)
            self.log(actor, "judgment.saved", {"finalist_id": judgment.finalist_id, "status": judgment.status.value,
                                               "scores": judgment.scores, "reason": judgment.reason,
                                               "judge": judge, **jury_payload(judgment)}, judgment.round_id)

    def judgments(self, round_id: int) -> dict[str, Judgment]:
        """A round's LLM judgments by finalist id, each with its jury's verdicts and its head-to-head."""
        jurors, heads = self.jury_verdicts(round_id), self.head_to_heads(round_id)
        return {
            r["finalist_id"]: Judgment(r["round_id"], r["finalist_id"], JudgmentStatus(r["status"]),
                                       json.loads(r["scores"]), r["rationale"], r["reason"], r["raw"],
                                       tuple(json.loads(r["flags"])), json.loads(r["spread"]),
                                       jurors.get(r["finalist_id"], ()), heads.get(r["finalist_id"]))
            for r in self.db.query("SELECT * FROM judgments WHERE round_id=?", [round_id])
        }

    def judges(self, round_id: int) -> dict[str, str]:
        """Which judge model gave each finalist's judgment in a round, by finalist id (for the report)."""
        rows = self.conn.execute("SELECT finalist_id, judge FROM judgments WHERE round_id=?", (round_id,))
        return {str(fid): str(judge) for fid, judge in rows}

    def latest_answer_update(self) -> float | None:
        """When any answer last changed (streamed text included), or None before the first answer."""
        at = self.conn.execute("SELECT MAX(updated_at) FROM answers").fetchone()[0]
        return None if at is None else float(at)
