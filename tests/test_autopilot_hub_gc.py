"""The hub process's garbage-collection policy (audience/gcpolicy.py), found necessary by bench/hub_load.py."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from audience import gcpolicy
from audience.gcpolicy import GcPolicy


class Node:
    """A reference cycle: only the cyclic collector can free it."""

    def __init__(self) -> None:
        self.me = self


@asynccontextmanager
async def policy(voting_open: Callable[[], bool], **options: Any) -> AsyncIterator[GcPolicy]:
    """The policy running in this loop; the test process's collector is restored afterwards."""
    running = GcPolicy(voting_open, **{"every_s": 0.01, "min_every_s": 0.01, "settle_s": 0.0, **options})
    task = asyncio.create_task(running.run())
    await asyncio.sleep(0.05)
    try:
        yield running
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        gc.unfreeze()
    assert running.log not in gc.callbacks and gc.isenabled()


async def test_the_steps_collect_instead_of_the_automatic_collector_and_freeze_survivors() -> None:
    voting = {"open": False}
    async with policy(lambda: voting["open"]) as running:
        for is_open in (False, True, False):
            voting["open"] = is_open
            steps = running.steps
            await asyncio.sleep(0.1)
            assert not gc.isenabled() and running.steps > steps  # each object is walked once, by a step
            assert gc.get_freeze_count() > 0  # survivors are out of the collector's way
        report = gcpolicy.report()
        assert report["policy"] is True and report["steps"] >= running.steps - 1 and report["frozen"] > 0
        assert report["pauses"]["count"] > 0 and report["us_per_object"] > 0
        assert report["collections"][2] + report["freeze_only_steps"] >= running.steps - 1
        assert sum(report["collecting_cpu_ms"]) >= 0
    assert gcpolicy.report()["policy"] is False


async def test_garbage_made_during_a_poll_is_collected_by_the_next_collecting_step_not_frozen() -> None:
    async with policy(lambda: True, reclaim_every_s=0.0, open_collect_every_s=0.0) as running:
        found = running.log.found
        cycle = Node()
        gone = weakref.ref(cycle)
        del cycle
        await asyncio.sleep(0.1)  # a few steps, no reclaim (the poll is open)
        assert gone() is None and running.log.found > found


async def test_frozen_cyclic_garbage_is_reclaimed_only_when_no_poll_is_open() -> None:
    voting = {"open": True}
    async with policy(lambda: voting["open"], reclaim_every_s=0.0, reclaim_budget_ms=10_000) as running:
        cycle = Node()
        gone = weakref.ref(cycle)
        await asyncio.sleep(0.05)  # alive at a step: frozen with the survivors
        del cycle
        await asyncio.sleep(0.1)
        assert gone() is not None and running.reclaims == 0, "no full collection while a poll is open"
        voting["open"] = False
        await asyncio.sleep(0.1)
        assert gone() is None and running.reclaims > 0


async def test_no_reclaim_in_the_settle_time_after_a_poll() -> None:
    voting = {"open": True}
    async with policy(lambda: voting["open"], reclaim_every_s=0.0, reclaim_budget_ms=10_000, settle_s=0.3) as running:
        voting["open"] = False
        await asyncio.sleep(0.15)
        assert running.reclaims == 0, "the close and the reveal are not the time for a full collection"
        await asyncio.sleep(0.3)
        assert running.reclaims > 0


async def test_a_reclaim_that_would_stop_the_loop_too_long_waits() -> None:
    async with policy(lambda: False, reclaim_every_s=0.0, reclaim_budget_ms=0.0) as running:
        await asyncio.sleep(0.1)
        assert running.reclaims == 0 and running.reclaims_waiting > 0


async def test_during_a_poll_steps_only_freeze_between_collecting_steps() -> None:
    """A vote burst's young objects are waits for the next frame: the steps skip the walk, and sample it."""
    async with policy(lambda: True, open_collect_every_s=0.2) as running:
        collections, freezes = running.log.by_generation[2], running.freeze_only_steps
        await asyncio.sleep(0.5)
        collected = running.log.by_generation[2] - collections
        frozen_only = running.freeze_only_steps - freezes
        assert 1 <= collected <= 4 and frozen_only > 5 * collected, (collected, frozen_only)
        assert gcpolicy.report()["freeze_only_steps"] == running.freeze_only_steps


async def test_a_poll_that_makes_cyclic_garbage_goes_back_to_collecting_at_every_step() -> None:
    async with policy(lambda: True, open_collect_every_s=0.05, garbage_floor=10) as running:
        loop = asyncio.get_running_loop()

        async def leak(seconds: float) -> None:  # cycles that die between steps, as a leaky path's would
            until = loop.time() + seconds
            while loop.time() < until:
                for _ in range(50):
                    Node()
                await asyncio.sleep(0.002)

        await leak(0.2)  # a collecting step finds them ...
        freezes, found = running.freeze_only_steps, running.log.found
        await leak(0.3)  # ... and from then on every step collects
        assert running.freeze_only_steps == freezes, "no step only freezes while the poll makes garbage"
        assert running.log.found > found and running.last_found > 10
        await asyncio.sleep(0.2)
        assert running.freeze_only_steps > freezes, "the garbage stopped: the steps only freeze again"
