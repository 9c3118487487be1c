"""Questions from the floor: when phones may ask, what a question may say, and how the MC moderates it.

Pure rules, one home, shared by the hub (and its Redis path), the store (which asks
them again inside its transaction) and the Director:

- The MC opens questions between rounds only (core.phases.questions_may_open) and
  closes them at any time; asking the next round closes them.
- A question is one line of inert text (core.text), trimmed and at most
  `FloorPolicy.max_chars` characters; longer is refused (`too_long`), never cut.
- A voter (the hub's credential, never what a phone calls itself) may submit at
  most `per_voter` questions in any `per_seconds` window (`rate_limited`).
- The event file's blocklist refuses a question holding a listed word or phrase,
  case-insensitively and on word boundaries, after folding look-alikes (NFKC);
  the refusal (`filtered`) never echoes the list or the word.
- One upvote per voter per question, and not on one's own question
  (`own_question`: an upvote is the room's say, not the asker's); only an approved
  question not yet asked can be upvoted (others are `not_found`: a phone must not
  learn that a pending or rejected question exists).
- Moderation is data (`LEGAL`): pending -> approved or rejected; an approved one
  may be starred and unstarred, and asked once; rejected and asked are final.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Any

from finale.core.model import Phase
from finale.core.phases import questions_may_open
from finale.core.text import one_line, visible_form

Refusal = tuple[str, str]  # (code, message), as core.poll

MAX_CHARS = 280
PER_VOTER = 3
PER_SECONDS = 300.0
MAX_REASON_CHARS = 200
_SPACES = re.compile(r"\s+")


class QuestionRefused(ValueError):
    """A question, an upvote or a moderation move the rules refuse; `code` is what a page or the console acts on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Status(StrEnum):
    """Where a question from the floor is in moderation."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ASKED = "asked"


class Move(StrEnum):
    """What the moderator does to a question (each one an audited event, `question.<move>`)."""

    APPROVE = "approved"
    REJECT = "rejected"
    STAR = "starred"
    UNSTAR = "unstarred"
    ASK = "asked"


# Which statuses each move starts from, and the status it leaves (star/unstar keep the status).
LEGAL: dict[Move, tuple[frozenset[Status], Status | None]] = {
    Move.APPROVE: (frozenset({Status.PENDING}), Status.APPROVED),
    Move.REJECT: (frozenset({Status.PENDING}), Status.REJECTED),
    Move.STAR: (frozenset({Status.APPROVED}), None),
    Move.UNSTAR: (frozenset({Status.APPROVED}), None),
    Move.ASK: (frozenset({Status.APPROVED}), Status.ASKED),
}

WHY_NOT: dict[Status, str] = {
    Status.PENDING: "it has not been approved yet",
    Status.APPROVED: "it is approved already",
    Status.REJECTED: "it was rejected, which is final",
    Status.ASKED: "it was asked as a round already, which is final",
}


@dataclass(frozen=True)
class FloorPolicy:
    """The event file's limits for questions from the floor (`[audience_questions]`)."""

    max_chars: int = MAX_CHARS
    per_voter: int = PER_VOTER
    per_seconds: float = PER_SECONDS
    blocklist: tuple[str, ...] = ()

    @cached_property
    def _blocked(self) -> re.Pattern[str] | None:
        words = sorted({_fold(w) for w in self.blocklist if _fold(w)}, key=len, reverse=True)
        if not words:
            return None
        return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)

    def blocks(self, text: str) -> bool:
        """The text holds a blocklisted word or phrase (whole words, any case, look-alikes folded)."""
        pattern = self._blocked
        return pattern is not None and pattern.search(_fold(text)) is not None


def _fold(text: str) -> str:
    """Fullwidth and other look-alike forms to plain ones, format characters dropped, spaces collapsed, lower case."""
    return _SPACES.sub(" ", visible_form(text)).strip().casefold()


@dataclass(frozen=True)
class FloorQuestion:
    """One question from the floor as the store holds it; `reason` (a rejection's) is for the console only."""

    id: int
    voter_id: str
    text: str
    status: Status = Status.PENDING
    starred: bool = False
    upvotes: int = 0
    submitted_at: float = 0.0
    reason: str | None = None
    round_id: int | None = None  # the round it was asked as

    @property
    def public(self) -> bool:
        """Phones and the stage may see it: approved (or asked). Pending and rejected ones are seen by no page."""
        return self.status in (Status.APPROVED, Status.ASKED)


@dataclass(frozen=True)
class QuestionsState:
    """Whether the floor is open for questions, as the MC set it."""

    open: bool = False
    opened_at: float | None = None
    after_round: int | None = None  # the round the questions were opened after (None: before the first)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the store and the audit log."""
        return {"open": self.open, "opened_at": self.opened_at, "after_round": self.after_round}

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> QuestionsState:
        """Read back `as_dict`; anything odd falls back to closed."""
        raw = raw or {}
        at, after = raw.get("opened_at"), raw.get("after_round")
        return cls(open=raw.get("open") is True,
                   opened_at=float(at) if isinstance(at, int | float) and not isinstance(at, bool) else None,
                   after_round=after if isinstance(after, int) and not isinstance(after, bool) else None)


@dataclass(frozen=True)
class Board:
    """What every page may know of the questions: whether they are open, the approved ones, the declined ids."""

    open: bool = False
    approved: tuple[FloorQuestion, ...] = ()
    declined: tuple[int, ...] = field(default=())  # rejected ids only, no text: the asker's phone says "not selected"
    max_chars: int = MAX_CHARS  # the event's cap, for the phone's form


def open_questions(state: QuestionsState, phase: Phase | None, round_id: int | None, now: float) -> QuestionsState:
    """Open the floor for questions; refused while a round is under way or when already open."""
    if state.open:
        raise QuestionRefused("already_open", "questions are open already")
    if not questions_may_open(phase):
        raise QuestionRefused("round_open", f"round {round_id} is {phase}: questions open between rounds only "
                              "(make the round final or void it first)")
    return QuestionsState(open=True, opened_at=now, after_round=round_id)


def close_questions(state: QuestionsState) -> QuestionsState:
    """Close the floor; refused when it is not open."""
    if not state.open:
        raise QuestionRefused("questions_closed", "questions are not open")
    return QuestionsState(open=False, opened_at=None, after_round=state.after_round)


def clean_text(raw: object) -> str:
    """A submission as it will be stored and shown: one line of inert text, spaces collapsed, trimmed."""
    if not isinstance(raw, str):
        raise QuestionRefused("bad_message", f"a question is text; got {type(raw).__name__}")
    return _SPACES.sub(" ", one_line(raw)).strip()


def rate_refusal(recent: Iterable[float], now: float, policy: FloorPolicy) -> Refusal | None:
    """`rate_limited` when the voter submitted `per_voter` questions in the last `per_seconds`; else None."""
    window = [t for t in recent if now - policy.per_seconds < t <= now]
    if len(window) < policy.per_voter:
        return None
    wait = max(1, int(min(window) + policy.per_seconds - now + 0.999))
    return ("rate_limited", f"at most {policy.per_voter} questions per {policy.per_seconds / 60:g} minutes from one "
                            f"phone; try again in {wait} s")


def submission(raw: object, *, is_open: bool, recent: Sequence[float], now: float, policy: FloorPolicy) -> str:
    """The cleaned text of a question the rules accept, or `QuestionRefused` saying why not.

    Checked in this order: open, empty, too long, filtered, rate limited (a refused
    question does not count against the voter's limit).
    """
    if not is_open:
        raise QuestionRefused("questions_closed", "questions are not open now; the MC opens them between rounds")
    text = clean_text(raw)
    if not text:
        raise QuestionRefused("empty", "the question is empty; type a question first")
    if len(text) > policy.max_chars:
        raise QuestionRefused("too_long", f"the question has {len(text)} characters; at most {policy.max_chars} "
                              "are accepted")
    if policy.blocks(text):
        raise QuestionRefused("filtered", "the question holds a word this event does not accept; rephrase it")
    limited = rate_refusal(recent, now, policy)
    if limited is not None:
        raise QuestionRefused(*limited)
    return text


def upvote_refusal(question: FloorQuestion | None, voter_id: str, *, is_open: bool, already: bool) -> Refusal | None:
    """Why this voter may not upvote this question now (None: the upvote counts)."""
    if not is_open:
        return ("questions_closed", "questions are not open now; upvotes count while they are")
    if question is None or not question.public:
        return ("not_found", "there is no such question on the board")
    if question.status is Status.ASKED:
        return ("already_asked", "this question was asked as a round already")
    if question.voter_id == voter_id:
        return ("own_question", "you cannot upvote your own question")
    if already:
        return ("already_voted", "you upvoted this question already; one upvote per phone")
    return None


def moderate(question: FloorQuestion, move: Move, *, reason: str | None = None,
             round_id: int | None = None) -> FloorQuestion:
    """The question after the moderator's move, or `QuestionRefused` (`illegal_move`) saying why not."""
    starts, target = LEGAL[move]
    if question.status not in starts:
        raise QuestionRefused("illegal_move", f"question {question.id} cannot be {move}: {WHY_NOT[question.status]}")
    if move is Move.STAR and question.starred:
        raise QuestionRefused("illegal_move", f"question {question.id} is starred already")
    if move is Move.UNSTAR and not question.starred:
        raise QuestionRefused("illegal_move", f"question {question.id} is not starred")
    if move is Move.ASK and round_id is None:
        raise ValueError("asking a question needs the round it becomes")
    out = replace(question, status=target or question.status)
    if move in (Move.STAR, Move.UNSTAR):
        out = replace(out, starred=move is Move.STAR)
    if move is Move.REJECT:
        out = replace(out, reason=one_line(reason or "").strip()[:MAX_REASON_CHARS] or None)
    if move is Move.ASK:
        out = replace(out, round_id=round_id)
    return out


def board_order(questions: Iterable[FloorQuestion]) -> list[FloorQuestion]:
    """The public questions as the board lists them: starred first, then most upvoted, then oldest."""
    return sorted((q for q in questions if q.public), key=lambda q: (not q.starred, -q.upvotes, q.submitted_at, q.id))


def queue_order(questions: Iterable[FloorQuestion]) -> list[FloorQuestion]:
    """The moderation queue: pending first (oldest first), then approved by the board's order, then the rest."""
    rank = {Status.PENDING: 0, Status.APPROVED: 1, Status.ASKED: 2, Status.REJECTED: 3}
    return sorted(questions, key=lambda q: (rank[q.status], not q.starred if q.status is Status.APPROVED else False,
                                            -q.upvotes if q.status is Status.APPROVED else 0, q.submitted_at, q.id))
