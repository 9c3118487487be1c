"""The one interface every finalist endpoint speaks.

A provider turns a prompt and generation settings into an async stream of
text deltas (and, when the endpoint reports it, a token count). Timing,
deadlines, caps and statuses are measured around it by the fan-out, so every
kind of endpoint is held to the same clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class GenerationRequest:
    """What a finalist's endpoint is asked: the round's prompt and their frozen settings."""

    prompt: str
    system_prompt: str = ""
    temperature: float = 0.2
    max_tokens: int = 512
    round_id: int = 0
    question_id: str | None = None


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer as it streams in."""

    text: str


@dataclass(frozen=True)
class Usage:
    """The endpoint's own count of generated tokens, when it reports one."""

    output_tokens: int


StreamEvent = TextDelta | Usage


class ProviderError(Exception):
    """An endpoint failed; the message is readable on stage and holds no secret."""


class Provider(Protocol):
    """A finalist endpoint. `stream` raises ProviderError for failures it can name."""

    name: str

    def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]: ...

    async def aclose(self) -> None: ...
