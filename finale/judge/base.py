"""The one interface every judge backend speaks.

A judge scores one anonymised answer at a time, so one failure never holds
up the others and each verdict can be re-run on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from finale.core.headtohead import HeadToHead
from finale.core.model import Criterion, JurorVerdict


@dataclass(frozen=True)
class JudgeRequest:
    """One answer to score, under its anonymous label, with what the judge may know."""

    question: str
    label: str
    answer: str
    criteria: tuple[Criterion, ...]
    expected: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    tokens: int = 0
    question_id: str | None = None
    finalist_id: str = ""  # for scripted judges only; never shown to a real judge model
    reference: str | None = None  # the reference model's answer: a jury judges the head-to-head too


@dataclass(frozen=True)
class JudgeVerdict:
    """Scores per criterion (0-10) and a short rationale, or a failure with its reason."""

    ok: bool
    scores: dict[str, float] = field(default_factory=dict)
    rationale: str = ""
    reason: str | None = None
    raw: str = ""
    flags: tuple[str, ...] = ()  # e.g. a jury member dropped out, the jury disagreeing; for the head judge
    spread: dict[str, float] = field(default_factory=dict)  # per criterion, over the jury
    jurors: tuple[JurorVerdict, ...] = ()  # each judge model's own verdict
    head_to_head: HeadToHead | None = None  # against the request's reference answer, both orders


@dataclass(frozen=True)
class PairRequest:
    """Two answers to one question in the order they are shown, to say which is better (one head-to-head call)."""

    question: str
    first: str
    second: str
    criteria: tuple[Criterion, ...]
    expected: str | None = None
    question_id: str | None = None
    finalist_id: str = ""  # for scripted judges only, like `finalist_first`: never shown to a judge model
    finalist_first: bool = True


class Better(StrEnum):
    """Which of the two answers, by the position it was shown in, the judge found better."""

    FIRST = "1"
    SECOND = "2"
    TIE = "tie"


@dataclass(frozen=True)
class PairVerdict:
    """A head-to-head call's answer (`better`), or a failure with its reason."""

    ok: bool
    better: Better | None = None
    rationale: str = ""
    reason: str | None = None
    raw: str = ""


class Judge(Protocol):
    """A judge backend; `judge` never raises for a bad model reply, it returns a failed verdict.

    One model scores one answer (`judge`) and compares two (`compare`); a jury of them
    (finale.judge.jury) adds up the scores and runs the head-to-head both ways round.
    """

    name: str

    async def judge(self, request: JudgeRequest) -> JudgeVerdict: ...

    async def compare(self, request: PairRequest) -> PairVerdict: ...

    async def aclose(self) -> None: ...
