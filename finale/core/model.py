"""The nouns of the show, as immutable values.

Frozen dataclasses so a value read from the store can be shared between the
console, the hub and the scorer without anyone changing it underneath.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from finale.core.ballot import BallotPolicy
from finale.core.discount import VoteDiscount

if TYPE_CHECKING:
    from finale.core.headtohead import HeadToHead


class Phase(StrEnum):
    """Where a round is in `draft -> asking -> answered -> judging -> voting -> closed -> final`."""

    DRAFT = "draft"
    ASKING = "asking"
    ANSWERED = "answered"
    JUDGING = "judging"
    VOTING = "voting"
    CLOSED = "closed"
    FINAL = "final"
    VOID = "void"


class Component(StrEnum):
    """The three scored components of a round total."""

    LLM = "llm"
    PANEL = "panel"
    AUDIENCE = "audience"


class AnswerStatus(StrEnum):
    """How a finalist's answer ended."""

    PENDING = "pending"
    STREAMING = "streaming"
    OK = "ok"
    TIMEOUT = "timeout"
    ERROR = "error"


class JudgmentStatus(StrEnum):
    """Whether the LLM judge produced usable scores; failed ones go to a human."""

    OK = "ok"
    FAILED = "failed"


class OverrideAction(StrEnum):
    """An override replaces a component value, waives the component, or discounts a slice of the round's votes."""

    REPLACE = "replace"
    WAIVE = "waive"
    DISCOUNT = "discount"  # audience only, the whole round (core.discount)


@dataclass(frozen=True)
class Weights:
    """Component weights; the event file's, validated to sum to 1."""

    llm: float = 0.4
    panel: float = 0.4
    audience: float = 0.2

    def of(self, component: Component) -> float:
        return {Component.LLM: self.llm, Component.PANEL: self.panel, Component.AUDIENCE: self.audience}[
            component
        ]


@dataclass(frozen=True)
class Criterion:
    """One rubric line the judge and the panel score from 0 to 10."""

    id: str
    description: str


@dataclass(frozen=True)
class PromptSettings:
    """What a finalist tunes between rounds; `version` is frozen into each round asked."""

    system_prompt: str = ""
    temperature: float = 0.2
    max_tokens: int = 512
    version: int = 1


@dataclass(frozen=True)
class Finalist:
    """A competitor and the defaults their endpoint starts with."""

    id: str
    name: str
    settings: PromptSettings = field(default_factory=PromptSettings)


@dataclass(frozen=True)
class Panelist:
    """An expert on the panel."""

    id: str
    name: str


@dataclass(frozen=True)
class Question:
    """A deck question; `expected` and `check` let a checker second-guess the judge."""

    id: str
    prompt: str
    expected: str | None = None
    check: str | None = None


@dataclass(frozen=True)
class Event:
    """What the core needs to know about an event (endpoints stay in the config layer)."""

    name: str
    finalists: tuple[Finalist, ...]
    panelists: tuple[Panelist, ...]
    rubric: tuple[Criterion, ...]
    questions: tuple[Question, ...] = ()
    weights: Weights = field(default_factory=Weights)
    dispute_margin: float = 30.0
    z_normalise_panel: bool = False
    hide_results_until_close: bool = True
    vote_window_s: float = 45.0
    ballot: BallotPolicy = field(default_factory=BallotPolicy)  # who may vote (core.ballot)
    head_to_head_weight: float = 0.0  # share of the LLM component from the head-to-head (core.headtohead.blend)
    length_bias_ratio: float = 2.0  # flag a top LLM score on an answer this much longer than the median; 0: off
    stage_win_rate_label: str | None = None  # "beat the 90B": the stage shows the win rates under it; None: not

    @property
    def finalist_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.finalists)

    @property
    def criterion_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.rubric)

    def finalist(self, finalist_id: str) -> Finalist:
        for f in self.finalists:
            if f.id == finalist_id:
                return f
        raise KeyError(f"no finalist {finalist_id!r}")

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"no question {question_id!r}")


@dataclass(frozen=True)
class Round:
    """One prompt put to every finalist; labels map finalist id -> anonymous label."""

    id: int
    prompt: str
    phase: Phase = Phase.DRAFT
    question_id: str | None = None
    seed: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    settings_versions: dict[str, int] = field(default_factory=dict)
    vote_opened_at: float | None = None
    vote_deadline: float | None = None
    revealed: bool = False
    vote_paused_at: float | None = None  # set while the MC has the poll paused (see core.poll)
    audience_question_id: int | None = None  # a question from the floor (core.questions), not the deck's question_id

    @property
    def from_audience(self) -> bool:
        """The prompt is a question from the floor: the stage and the report say "a question from the audience"."""
        return self.audience_question_id is not None


@dataclass(frozen=True)
class Answer:
    """A finalist's (or the reference's) reply to a round, with its timings."""

    round_id: int
    finalist_id: str
    text: str = ""
    status: AnswerStatus = AnswerStatus.PENDING
    error: str | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    tokens: int = 0

    @property
    def failed(self) -> bool:
        """The endpoint errored or ran out of time: no usable answer, the MC may re-ask it."""
        return self.status in (AnswerStatus.ERROR, AnswerStatus.TIMEOUT)

    @property
    def finished(self) -> bool:
        """The answer will not change any more unless re-asked: it came in, failed or timed out."""
        return self.status in (AnswerStatus.OK, AnswerStatus.ERROR, AnswerStatus.TIMEOUT)

    @property
    def tokens_per_s(self) -> float | None:
        if not self.total_ms or not self.tokens:
            return None
        return self.tokens / (self.total_ms / 1000.0)


@dataclass(frozen=True)
class JurorVerdict:
    """One judge model's verdict on one answer, kept as it gave it (a jury member's own row)."""

    judge: str
    ok: bool
    scores: dict[str, float] = field(default_factory=dict)
    rationale: str = ""
    reason: str | None = None
    raw: str = ""


@dataclass(frozen=True)
class Judgment:
    """The LLM judge's verdict on one answer; failed ones carry a reason, never a number."""

    round_id: int
    finalist_id: str
    status: JudgmentStatus
    scores: dict[str, float] = field(default_factory=dict)
    rationale: str = ""
    reason: str | None = None
    raw: str = ""
    flags: tuple[str, ...] = ()  # for the head judge: a jury member dropped out, the jury disagrees
    spread: dict[str, float] = field(default_factory=dict)  # per criterion, highest minus lowest juror score
    jurors: tuple[JurorVerdict, ...] = ()  # each judge model's own verdict (core.scoring.aggregate_jury)
    head_to_head: HeadToHead | None = None  # against the reference answer, both orders (core.headtohead)

    @property
    def failed(self) -> bool:
        """The judge produced no usable scores: a human must score or re-judge it."""
        return self.status is JudgmentStatus.FAILED


@dataclass(frozen=True)
class PanelScore:
    """One panelist's criterion scores for one finalist in one round."""

    round_id: int
    finalist_id: str
    panelist_id: str
    scores: dict[str, float]


@dataclass(frozen=True)
class Vote:
    """A device's vote in a round; the last one before the close counts."""

    round_id: int
    device_id: str
    label: str


@dataclass(frozen=True)
class Override:
    """A human decision replacing or waiving one component, on the record."""

    id: int
    round_id: int
    finalist_id: str
    component: Component
    action: OverrideAction
    reason: str
    actor: str
    value: float | None = None
    reverted: bool = False
    discount: VoteDiscount | None = None  # which votes a DISCOUNT removes
    panelist_id: str | None = None  # a WAIVE of the panel for one panelist only (core.scoring.waived_panelists)


class DecisionKind(StrEnum):
    """A head judge's ruling on a flagged answer that changes no score."""

    KEEP_JUDGE = "keep_judge"  # a judge-vs-panel gap: the LLM judge's score stands as it is


@dataclass(frozen=True)
class Decision:
    """A ruling on the record (its store event), with the two values it was made on (core.disputes)."""

    round_id: int
    finalist_id: str
    kind: DecisionKind
    reason: str
    actor: str
    llm: float | None = None
    panel: float | None = None
    seq: int = 0  # the sequence number of its event in the audit log
