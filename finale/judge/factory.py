"""Build the judge named in the event file: a jury of its judge models (one model is a jury of one)."""

from __future__ import annotations

from finale.config import BedrockJudge as BedrockJudgeConfig
from finale.config import JudgeConfig
from finale.config import OpenAIJudge as OpenAIJudgeConfig
from finale.config import RehearsalJudge as RehearsalJudgeConfig
from finale.demo.script import Script
from finale.judge.base import Judge
from finale.judge.jury import Jury
from finale.judge.rehearsal import RehearsalJudge
from finale.providers.runtime import Runtime


def build_judge(spec: JudgeConfig, *, script: Script, seed: int = 0, time_scale: float = 1.0,
                runtime: Runtime | None = None) -> Jury:
    """The judge for this event: every model of the jury, kept per judge and added up by the core."""
    members: list[Judge]
    if isinstance(spec, RehearsalJudgeConfig):
        members = [RehearsalJudge(script, seed=seed, delay_ms=spec.delay_ms, time_scale=time_scale)]
    elif isinstance(spec, BedrockJudgeConfig):
        from finale.judge.bedrock import BedrockJudge

        rt = runtime or Runtime()
        members = [BedrockJudge(spec, rt, m) for m in spec.jury]
    elif isinstance(spec, OpenAIJudgeConfig):
        from finale.judge.openai import OpenAIJudge

        rt = runtime or Runtime()
        members = [OpenAIJudge(spec, rt, m) for m in spec.jury]
    else:
        raise ValueError(f"unknown judge kind {spec.kind!r}")
    return Jury(members, aggregation=spec.aggregation, quorum=spec.jury_quorum, margin=spec.disagreement)
