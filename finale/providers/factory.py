"""Build a provider for each endpoint kind in the event file."""

from __future__ import annotations

from finale.config import Endpoint, RehearsalEndpoint
from finale.demo.script import Script
from finale.providers.base import Provider
from finale.providers.rehearsal import RehearsalProvider


def build_provider(name: str, spec: Endpoint, *, script: Script, seed: int = 0, time_scale: float = 1.0) -> Provider:
    """The provider for one finalist (or the reference) from its endpoint spec."""
    if isinstance(spec, RehearsalEndpoint):
        return RehearsalProvider(name, spec, script, seed=seed, time_scale=time_scale)
    raise NotImplementedError(f"endpoint kind {spec.kind!r} is not available yet")
