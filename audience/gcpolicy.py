"""Keep Python's cyclic garbage collector from stalling the hub's event loop, and give it little to find.

Why: every connection holds about 90 long-lived Python objects, so with 10,000
phones a full collection walks about 900,000 objects and stops the loop for
300-600 ms (bench/hub_load.py: a p99 vote ack of 1,156 ms). The first policy
froze survivors every 2 s, kept collection off during a poll and reclaimed
(unfreeze, full collection) after it; but a freeze keeps garbage too, so 60 s of
connection churn during a poll (41,700 connections, each a reference cycle on
Python 3.11) left 117 MB that the reclaim at the close found in one 1,107 ms
stop, as the reveal started (bench/hub_churn.py). The second kept Python's
automatic collections on and collected (`gc.collect(2)`) and froze every step:
under a 5,000 votes/s burst about 15 objects per vote outlive a step (each
connection's wait for its next frame; a vote waiting for its commit), and the
automatic collections walked each of them several times before the step
(generation 0, then 1, then 2, whose trigger fires often once everything older
is frozen), about 40 us of the hub's CPU per vote and 40-150 ms steps
(bench/hub_load.py).

Now:
- closed connections leave no cycles (audience.connection), so reference
  counting frees them at once, frozen or not: the cause;
- at start-up one full collection, then `gc.freeze()`: the start-up heap is
  never walked again, and its cost per object is measured;
- the automatic collector is off while the policy runs; the steps do all the
  collecting: outside a poll every step collects what is not frozen
  (everything allocated since the last step: nothing else is young) and
  freezes the survivors, so each object is walked once while young, no
  garbage is frozen, and no
  collection walks more than a step's worth of objects. The step interval
  halves while a step's own CPU time is over `step_budget_ms` (phones joining,
  a burst of votes), and grows back to `every_s`;
- while a poll is open, a step only freezes (no walk at all) unless
  `open_collect_every_s` has passed since the last collecting step, or that
  step found more than `garbage_floor` unreachable objects: during a vote
  burst nearly everything young is a connection's wait for its next frame and
  the collections find nothing (20 objects in a whole bench/hub_load.py run,
  about 50 us of the hub's CPU per vote on a slow machine), so the walk is
  skipped; the collecting steps keep sampling, and a poll that does make
  cyclic garbage goes back to collecting at every step. A freeze costs
  nothing, so during a poll the steps come every `min_every_s`: a collecting
  step then walks only that interval's survivors (a 1 s interval was a
  200 ms step in a burst). What a freeze-only
  step keeps is reclaimed with the rest, below;
- what became garbage after it was frozen is reclaimed (unfreeze, full
  collection) at most every `reclaim_every_s`, never while a poll is open nor
  in the `settle_s` after one (the close and the reveal), and only when the
  highest cost per object measured so far says it fits `reclaim_budget_ms`;
  otherwise it waits, and says so in the log.
Every collection's pause goes to /healthz (`report`), with the CPU time spent
collecting; slower than SLOW_PAUSE_MS it is logged with its generation. The
frozen count in /healthz is the one taken at start-up or at the last reclaim
check: Python 3.11 walks the whole frozen list to count it (10-50 ms with
10,000 phones), which /healthz, asked every 20 ms by the bench, did every 5 s.

Used by the `finale hub` process only: a hub run inside another program
(tests) leaves that program's collector alone.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from audience.looplag import PeakHistory

log = logging.getLogger("finale.hub")
SLOW_PAUSE_MS = 50.0


class PauseLog:
    """A `gc.callbacks` hook: each collection's pause into a PeakHistory, slow ones logged with their generation."""

    def __init__(self, policy: GcPolicy | None = None) -> None:
        self.policy = policy
        self.started = 0.0
        self.pauses = PeakHistory()
        self.by_generation = [0, 0, 0]
        self.cpu_started = 0.0
        self.cpu_ms_by_generation = [0.0, 0.0, 0.0]  # CPU time spent collecting (bench/hub_load.py: per vote)
        self.found = 0  # unreachable objects the collections found (and freed)

    @property
    def longest_ms(self) -> float:
        return self.pauses.longest

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started, self.cpu_started = time.perf_counter(), time.thread_time()
            return
        took = (time.perf_counter() - self.started) * 1000
        self.cpu_ms_by_generation[info["generation"]] += (time.thread_time() - self.cpu_started) * 1000
        self.pauses.note(took)
        self.by_generation[info["generation"]] += 1
        self.found += info["collected"]
        if took > SLOW_PAUSE_MS:
            log.warning("garbage collection of generation %d paused the hub for %.0f ms", info["generation"], took)


class GcPolicy:
    """The policy above; `run` until cancelled, `voting_open()` says whether a poll is open now."""

    def __init__(self, voting_open: Callable[[], bool], every_s: float = 1.0, min_every_s: float = 0.05,
                 step_budget_ms: float = 10.0, reclaim_every_s: float = 60.0, settle_s: float = 20.0,
                 reclaim_budget_ms: float = 20.0, open_collect_every_s: float = 5.0, garbage_floor: int = 100) -> None:
        self.voting_open = voting_open
        self.every_s, self.min_every_s, self.step_budget_ms = every_s, min_every_s, step_budget_ms
        self.open_collect_every_s, self.garbage_floor = open_collect_every_s, garbage_floor
        self.freeze_only_steps = 0
        self.last_found = 0  # unreachable objects the last collecting step found
        self.reclaim_every_s, self.settle_s, self.reclaim_budget_ms = reclaim_every_s, settle_s, reclaim_budget_ms
        self.interval = min(every_s, 0.25)
        self.ms_per_object = 0.0
        self.steps = 0
        self.last_step_ms = 0.0
        self.reclaims = 0
        self.reclaims_waiting = 0
        self.log = PauseLog(self)
        self._frozen, self._frozen_at = 0, float("-inf")

    async def run(self) -> None:
        gc.callbacks.append(self.log)
        gc.disable()  # the steps collect instead (see the module docstring); gc.collect() works while disabled
        walked = len(gc.get_objects())  # once, at start-up: after this the frozen count says how many
        self._full("start-up collection", walked)
        last_reclaim = last_open = last_collect = time.monotonic()
        voting = False
        try:
            while True:
                await asyncio.sleep(self.min_every_s if voting else self.interval)
                now = time.monotonic()
                voting = self.voting_open()
                collect = not voting or now - last_collect >= self.open_collect_every_s \
                    or self.last_found > self.garbage_floor
                self._step(collect)
                if collect:
                    last_collect = now
                if voting:
                    last_open = now
                elif now - last_reclaim >= self.reclaim_every_s and now - last_open >= self.settle_s:
                    last_reclaim = now
                    await asyncio.sleep(0)  # the step and the reclaim are two stops, not one
                    self._reclaim()
        finally:
            gc.enable()
            gc.callbacks.remove(self.log)

    def _step(self, collect: bool = True) -> None:
        """Collect what is not frozen (allocated since the last step) unless told not to, freeze the survivors,
        adapt the interval."""
        started, cpu_started = time.perf_counter(), time.thread_time()
        if collect:
            self.last_found = gc.collect(2)
        else:
            self.freeze_only_steps += 1
        gc.freeze()
        self.last_step_ms = (time.perf_counter() - started) * 1000
        took = (time.thread_time() - cpu_started) * 1000  # its own work: a wait for a core is not the step's
        self.steps += 1
        if took > self.step_budget_ms:
            self.interval = max(self.min_every_s, self.interval / 2)
        elif took < self.step_budget_ms / 4:
            self.interval = min(self.every_s, self.interval * 1.5)

    def _reclaim(self) -> None:
        frozen = self._count_frozen(time.monotonic())
        estimate = self.ms_per_object * frozen
        if estimate > self.reclaim_budget_ms:
            self.reclaims_waiting += 1
            log.info("frozen objects not reclaimed: %d would take about %.0f ms, over the %.0f ms budget",
                     frozen, estimate, self.reclaim_budget_ms)
            return
        gc.unfreeze()
        self._full("full collection (no poll open)", frozen)
        self.reclaims += 1

    def _full(self, what: str, walked: int) -> None:
        """One full collection of everything not frozen (`walked` objects); then freeze the survivors.

        The cost per object kept is the highest seen: the estimate must not let a reclaim run long.
        """
        started = time.perf_counter()
        found = gc.collect()
        took = (time.perf_counter() - started) * 1000
        self.ms_per_object = max(self.ms_per_object, took / max(1, walked))
        gc.freeze()
        self._count_frozen(time.monotonic())
        log.info("%s: %d unreachable of %d objects in %.0f ms", what, found, walked, took)

    def _count_frozen(self, now: float) -> int:
        """Count the frozen objects (Python 3.11 walks the whole list to count): at start-up and each reclaim check."""
        self._frozen, self._frozen_at = gc.get_freeze_count(), now
        return self._frozen

    def frozen(self) -> int:
        """The frozen objects as last counted (see `_count_frozen`); /healthz never walks the list."""
        return self._frozen

    def report(self) -> dict[str, Any]:
        return {"policy": True, "frozen": self.frozen(),
                "frozen_counted_s_ago": round(time.monotonic() - self._frozen_at, 1),
                "pauses": self.log.pauses.report(), "collections": self.log.by_generation,
                "collecting_cpu_ms": [round(ms, 1) for ms in self.log.cpu_ms_by_generation],
                "found": self.log.found, "steps": self.steps, "freeze_only_steps": self.freeze_only_steps,
                "last_found": self.last_found,
                "step_interval_s": round(self.interval, 3), "last_step_ms": round(self.last_step_ms, 2),
                "reclaims": self.reclaims, "reclaims_waiting": self.reclaims_waiting,
                "us_per_object": round(self.ms_per_object * 1000, 4)}


async def keep_collections_short(voting_open: Callable[[], bool], **options: Any) -> None:
    """Run the policy above until cancelled (the `finale hub` process; see GcPolicy for the options)."""
    await GcPolicy(voting_open, **options).run()


def report() -> dict[str, Any]:
    """For /healthz: the running policy's figures (found in gc.callbacks, where it hooks in), or just the freeze."""
    for callback in gc.callbacks:
        if isinstance(callback, PauseLog) and callback.policy is not None:
            return callback.policy.report()
    return {"policy": False, "frozen": gc.get_freeze_count()}
