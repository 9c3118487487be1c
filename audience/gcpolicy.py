"""Keep Python's cyclic garbage collector from stalling the hub's event loop while phones vote.

Every connection holds about 90 long-lived Python objects, so with 10,000
phones a full collection walks about 900,000 objects and stops the loop for
300-600 ms: bench/hub_load.py measured a p99 vote ack of 1,156 ms in a 2 s
burst of 10,000 votes, with gen-2 pauses of 460-580 ms in the hub's log.

The policy, checked every `every_s`:
- whatever has survived so far moves to the permanent generation
  (`gc.freeze()`), so no collection walks the connections again;
- while a poll is open, automatic collection is off: votes are freed by
  reference counting, phones joining mid-poll are frozen with the rest, and
  nothing stops the loop while votes are counted (a young collection of the
  objects of 2,000 joining phones took 80-225 ms); a poll left open longer
  than `max_off_s` gets collection back, so garbage stays bounded;
- while no poll is open, collection is on, and once every `reclaim_every_s`
  the frozen objects are unfrozen and collected in full (cyclic garbage of
  closed connections), when a pause delays nothing that is being counted.
Collections slower than SLOW_PAUSE_MS are logged with their generation.

Used by the `finale hub` process only: a hub run inside another program
(tests) leaves that program's collector alone.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger("finale.hub")
SLOW_PAUSE_MS = 50.0


class PauseLog:
    """A `gc.callbacks` hook that logs every collection slower than SLOW_PAUSE_MS (with its generation)."""

    def __init__(self) -> None:
        self.started = 0.0
        self.longest_ms = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
            return
        took = (time.perf_counter() - self.started) * 1000
        self.longest_ms = max(self.longest_ms, took)
        if took > SLOW_PAUSE_MS:
            log.warning("garbage collection of generation %d paused the hub for %.0f ms", info["generation"], took)


def _timed(what: str, collect: Callable[[], int]) -> None:
    started = time.perf_counter()
    found = collect()
    log.info("%s: %d unreachable objects in %.0f ms", what, found, (time.perf_counter() - started) * 1000)


async def keep_collections_short(voting_open: Callable[[], bool], every_s: float = 2.0,
                                 reclaim_every_s: float = 60.0, max_off_s: float = 300.0) -> None:
    """Run the policy above until cancelled; `voting_open()` says whether a poll is open now."""
    gc.callbacks.append(PauseLog())
    gc.freeze()
    last_reclaim = time.monotonic()
    off_since: float | None = None
    try:
        while True:
            await asyncio.sleep(every_s)
            if voting_open():
                off_since = off_since if off_since is not None else time.monotonic()
                if time.monotonic() - off_since < max_off_s:
                    gc.disable()
                elif not gc.isenabled():
                    log.warning("a poll open for over %.0f s: garbage collection is back on", max_off_s)
                    gc.enable()
            else:
                off_since = None
                gc.enable()
                if time.monotonic() - last_reclaim >= reclaim_every_s:
                    gc.unfreeze()
                    _timed("full collection (no poll open)", gc.collect)
                    last_reclaim = time.monotonic()
            gc.freeze()
    finally:
        gc.enable()
