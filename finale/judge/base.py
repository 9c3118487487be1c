"""The one interface every judge backend speaks.

A judge scores one anonymised answer at a time, so one failure never holds
up the others and each verdict can be re-run on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from finale.core.model import Criterion


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


@dataclass(frozen=True)
class JudgeVerdict:
    """Scores per criterion (0-10) and a short rationale, or a failure with its reason."""

    ok: bool
    scores: dict[str, float] = field(default_factory=dict)
    rationale: str = ""
    reason: str | None = None
    raw: str = ""
    flags: tuple[str, ...] = ()  # e.g. several judge models disagreeing; for the head judge


class Judge(Protocol):
    """A judge backend; `judge` never raises for a bad model reply, it returns a failed verdict."""

    name: str

    async def judge(self, request: JudgeRequest) -> JudgeVerdict: ...

    async def aclose(self) -> None: ...
