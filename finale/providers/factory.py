"""Build a provider for each endpoint kind in the event file."""

from __future__ import annotations

from finale.config import BedrockEndpoint, Endpoint, OpenAIEndpoint, RehearsalEndpoint, SageMakerEndpoint
from finale.demo.script import Script
from finale.providers.base import Provider
from finale.providers.rehearsal import RehearsalProvider
from finale.providers.runtime import Runtime


def build_provider(name: str, spec: Endpoint, *, script: Script, seed: int = 0, time_scale: float = 1.0,
                   runtime: Runtime | None = None) -> Provider:
    """The provider for one finalist (or the reference) from its endpoint spec.

    Real endpoints take their boto3 clients and worker threads from `runtime`
    (one per show, see Runtime.for_event); without one they get a small private pool.
    """
    if isinstance(spec, RehearsalEndpoint):
        return RehearsalProvider(name, spec, script, seed=seed, time_scale=time_scale)
    rt = runtime or Runtime()
    if isinstance(spec, SageMakerEndpoint):
        from finale.providers.sagemaker import SageMakerProvider

        return SageMakerProvider(name, spec, rt)
    if isinstance(spec, BedrockEndpoint):
        from finale.providers.bedrock import BedrockProvider

        return BedrockProvider(name, spec, rt)
    if isinstance(spec, OpenAIEndpoint):
        from finale.providers.openai import OpenAIProvider

        return OpenAIProvider(name, spec, rt)
    raise ValueError(f"unknown endpoint kind {spec.kind!r}")
