"""Ask every finalist at once and hold each to the same clock.

Each finalist runs in its own task with an overall deadline and an idle
timeout between chunks; a slow or failing one never delays the others. The
idle timer starts once the endpoint has accepted the request (`Started`):
retries of a throttled request run on the deadline, and a deadline that ends
them says why the endpoint kept refusing.
Timings (time to first token, total) are measured here, around the provider,
so every kind of endpoint is measured the same way. The MC can stop one
finalist (its answer ends as an error "stopped by the MC") and re-ask it alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from finale.core.model import Answer, AnswerStatus
from finale.core.text import inert, one_line
from finale.providers.base import (
    GenerationRequest,
    Provider,
    ProviderError,
    Retrying,
    Started,
    StreamEvent,
    TextDelta,
    Usage,
)

OnUpdate = Callable[[Answer], None]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """Per-answer limits from the event file's [generation] section."""

    timeout_s: float = 60.0
    idle_timeout_s: float = 15.0
    max_chars: int = 6000


class _Stopped(Exception):
    """The MC stopped this finalist."""


class _Idle(Exception):
    """No chunk within the idle timeout (distinct from any TimeoutError a client library raises)."""


async def _next(stream: AsyncIterator[StreamEvent], idle_s: float | None,
                stop: asyncio.Event | None) -> StreamEvent | None:
    """The next event; None at the end. Raises _Idle for our idle timeout (None: no idle timer), _Stopped."""
    step = asyncio.ensure_future(anext(stream))
    waits: set[asyncio.Future[Any]] = {step}
    stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
    if stopper is not None:
        waits.add(stopper)
    try:
        done, _ = await asyncio.wait(waits, timeout=idle_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if stopper is not None:
            stopper.cancel()
        if not step.done():
            step.cancel()
            await asyncio.wait({step})  # let the provider unwind; our own cancellation still propagates
        if step.done() and not step.cancelled() and step not in done:
            step.exception()  # retrieved: an error after our deadline is not news
    if step in done:
        try:
            return step.result()
        except StopAsyncIteration:
            return None
    if stopper is not None and stopper in done:
        raise _Stopped
    raise _Idle


async def run_one(finalist_id: str, provider: Provider, request: GenerationRequest, limits: Limits,
                  on_update: OnUpdate | None = None, stop: asyncio.Event | None = None) -> Answer:
    """Stream one finalist's answer to completion, timeout, cap or error; never raises for endpoint faults."""
    start = time.perf_counter()
    text: list[str] = []
    chars = 0
    ttft: float | None = None
    tokens_reported: int | None = None
    deltas = 0
    # the idle timer runs once the endpoint accepted the request; retries before that run on the deadline
    started = not getattr(provider, "announces_start", False)
    refused: str | None = None  # why the last attempt was refused (throttled...), while it is being retried
    status = AnswerStatus.OK
    error: str | None = None

    def snapshot(st: AnswerStatus, err: str | None = None) -> Answer:
        elapsed = (time.perf_counter() - start) * 1000.0
        tokens = tokens_reported if tokens_reported is not None else deltas
        # the endpoint controls every byte: escape sequences split across deltas are removed once joined
        return Answer(request.round_id, finalist_id, inert("".join(text)), st, one_line(err) if err else None, ttft,
                      elapsed if st is not AnswerStatus.STREAMING else None, tokens)

    def notify(answer: Answer) -> None:
        if on_update is None:
            return
        try:
            on_update(answer)
        except Exception:  # a screen bug must not turn into an endpoint failure
            log.exception("on_update failed for %s", finalist_id)

    stream = provider.stream(request).__aiter__()
    deadline = asyncio.timeout(limits.timeout_s)
    try:
        async with deadline:
            while True:
                try:
                    event = await _next(stream, limits.idle_timeout_s if started else None, stop)
                except _Idle:
                    status, error = AnswerStatus.TIMEOUT, f"no output for {limits.idle_timeout_s:g} s (idle timeout)"
                    break
                if event is None:
                    break
                if isinstance(event, Started):
                    started, refused = True, None
                    continue
                if isinstance(event, Retrying):
                    refused = event.reason
                    continue
                if isinstance(event, Usage):
                    tokens_reported = event.output_tokens
                    continue
                if isinstance(event, TextDelta) and event.text:
                    if ttft is None:
                        ttft = (time.perf_counter() - start) * 1000.0
                    deltas += 1
                    room = limits.max_chars - chars
                    piece = event.text[:room]
                    text.append(piece)
                    chars += len(piece)
                    notify(snapshot(AnswerStatus.STREAMING))
                    if chars >= limits.max_chars:
                        error = f"answer cut at the {limits.max_chars}-character cap"
                        break
    except TimeoutError as exc:
        if deadline.expired():
            status, error = AnswerStatus.TIMEOUT, f"no complete answer within {limits.timeout_s:g} s"
            if refused is not None:  # still being retried: say why (throttled, unavailable)
                error += f"; the endpoint kept refusing the request: {refused}"
        else:  # a client library's own timeout: an endpoint fault like any other
            status, error = AnswerStatus.ERROR, f"TimeoutError: {exc}"
    except _Stopped:
        status, error = AnswerStatus.ERROR, "stopped by the MC"
    except ProviderError as exc:
        status, error = AnswerStatus.ERROR, str(exc) or type(exc).__name__
    except asyncio.CancelledError:
        await _close(stream)
        raise
    except Exception as exc:  # an endpoint must never take the show down
        status, error = AnswerStatus.ERROR, f"{type(exc).__name__}: {exc}"
    await _close(stream)
    answer = snapshot(status, error)
    notify(answer)
    return answer


async def _close(stream: object) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception:
            pass


async def fan_out(providers: Mapping[str, Provider], requests: Mapping[str, GenerationRequest], limits: Limits,
                  on_update: OnUpdate | None = None,
                  stops: Mapping[str, asyncio.Event] | None = None) -> dict[str, Answer]:
    """Every finalist at once; returns when the last one has an answer, a timeout or an error.

    `stops` maps a finalist to an event the MC sets to stop that finalist alone.
    """
    async with asyncio.TaskGroup() as group:
        tasks = {
            fid: group.create_task(run_one(fid, providers[fid], req, limits, on_update,
                                           (stops or {}).get(fid)), name=f"ask:{fid}")
            for fid, req in requests.items()
        }
    return {fid: task.result() for fid, task in tasks.items()}
