"""Build the judge backend named in the event file."""

from __future__ import annotations

from finale.config import JudgeConfig
from finale.config import RehearsalJudge as RehearsalJudgeConfig
from finale.demo.script import Script
from finale.judge.base import Judge
from finale.judge.rehearsal import RehearsalJudge


def build_judge(spec: JudgeConfig, *, script: Script, seed: int = 0, time_scale: float = 1.0) -> Judge:
    """The judge for this event."""
    if isinstance(spec, RehearsalJudgeConfig):
        return RehearsalJudge(script, seed=seed, delay_ms=spec.delay_ms, time_scale=time_scale)
    raise NotImplementedError(f"judge kind {spec.kind!r} is not available yet")
