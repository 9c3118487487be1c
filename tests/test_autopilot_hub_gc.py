"""The hub process's garbage-collection policy (audience/gcpolicy.py), found necessary by bench/hub_load.py."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from audience.gcpolicy import keep_collections_short


@asynccontextmanager
async def policy(voting_open: Callable[[], bool], **options: Any) -> AsyncIterator[None]:
    """The policy running in this loop; the test process's collector is restored afterwards."""
    task = asyncio.create_task(keep_collections_short(voting_open, every_s=0.01, **options))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        gc.unfreeze()
        gc.callbacks[:] = [cb for cb in gc.callbacks if type(cb).__name__ != "PauseLog"]


async def test_collection_is_off_while_a_poll_is_open_and_back_on_after() -> None:
    voting = {"open": False}
    seen: list[tuple[bool, bool]] = []
    async with policy(lambda: voting["open"], reclaim_every_s=0.05):
        for is_open in (False, True, True, False):
            voting["open"] = is_open
            await asyncio.sleep(0.1)
            seen.append((is_open, gc.isenabled()))
            assert gc.get_freeze_count() > 0  # survivors are out of the collector's way
    assert seen == [(False, True), (True, False), (True, False), (False, True)]
    assert gc.isenabled()


async def test_frozen_cyclic_garbage_is_reclaimed_when_no_poll_is_open() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    async with policy(lambda: False, reclaim_every_s=0.05):
        await asyncio.sleep(0.03)
        cycle = Node()
        gone = weakref.ref(cycle)
        del cycle
        await asyncio.sleep(0.2)  # frozen, then a reclaim (unfreeze + full collection) has run
        assert gone() is None


async def test_a_poll_left_open_too_long_gets_collection_back() -> None:
    async with policy(lambda: True, max_off_s=0.1):
        await asyncio.sleep(0.05)
        assert not gc.isenabled()
        await asyncio.sleep(0.2)
        assert gc.isenabled()
