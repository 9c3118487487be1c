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
    """The endpoint's own count of generated tokens; 0 when a whole reply came without one (unknown)."""

    output_tokens: int


@dataclass(frozen=True)
class Started:
    """The endpoint accepted the request (its reply began): the idle timer runs from here, not before.

    Until then the request may be retried (throttling, a server busy); that runs on
    the answer's overall deadline, never on the idle timer.
    """


@dataclass(frozen=True)
class Retrying:
    """An attempt was refused in a way worth another (throttled, unavailable); `reason` says how."""

    reason: str


StreamEvent = TextDelta | Usage | Started | Retrying


class ProviderError(Exception):
    """An endpoint failed; the message is readable on stage and holds no secret."""


class Provider(Protocol):
    """A finalist endpoint. `stream` raises ProviderError for failures it can name.

    A provider whose stream yields `Started` says so with `announces_start = True`; the
    fan-out then holds it to the idle timeout only from that event on (others from the start).
    """

    name: str

    def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]: ...

    async def aclose(self) -> None: ...
