"""Build the judge backend named in the event file."""

from __future__ import annotations

from finale.config import BedrockJudge as BedrockJudgeConfig
from finale.config import JudgeConfig
from finale.config import OpenAIJudge as OpenAIJudgeConfig
from finale.config import RehearsalJudge as RehearsalJudgeConfig
from finale.demo.script import Script
from finale.judge.base import Judge
from finale.judge.ensemble import EnsembleJudge
from finale.judge.rehearsal import RehearsalJudge
from finale.providers.runtime import Runtime


def build_judge(spec: JudgeConfig, *, script: Script, seed: int = 0, time_scale: float = 1.0,
                runtime: Runtime | None = None) -> Judge:
    """The judge for this event; several model ids make an averaging ensemble."""
    if isinstance(spec, RehearsalJudgeConfig):
        return RehearsalJudge(script, seed=seed, delay_ms=spec.delay_ms, time_scale=time_scale)
    rt = runtime or Runtime()
    judges: list[Judge]
    if isinstance(spec, BedrockJudgeConfig):
        from finale.judge.bedrock import BedrockJudge

        judges = [BedrockJudge(spec, rt, m) for m in (spec.model_id, *spec.extra_model_ids)]
    elif isinstance(spec, OpenAIJudgeConfig):
        from finale.judge.openai import OpenAIJudge

        judges = [OpenAIJudge(spec, rt, m) for m in (spec.model, *spec.extra_models)]
    else:
        raise ValueError(f"unknown judge kind {spec.kind!r}")
    return judges[0] if len(judges) == 1 else EnsembleJudge(judges, spec.disagreement)
