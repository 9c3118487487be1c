"""The hub process's garbage-collection policy (audience/gcpolicy.py), found necessary by bench/hub_load.py."""

from __future__ import annotations

import asyncio
import gc
import weakref

from audience.gcpolicy import keep_collections_short


async def test_collection_is_off_while_a_poll_is_open_and_back_on_after() -> None:
    voting = {"open": False}
    seen: list[tuple[bool, bool]] = []
    task = asyncio.create_task(keep_collections_short(lambda: voting["open"], every_s=0.01, reclaim_every_s=0.05))
    try:
        for is_open in (False, True, True, False):
            voting["open"] = is_open
            await asyncio.sleep(0.1)
            seen.append((is_open, gc.isenabled()))
            assert gc.get_freeze_count() > 0  # survivors are out of the collector's way
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        gc.unfreeze()
        gc.callbacks[:] = [cb for cb in gc.callbacks if type(cb).__name__ != "PauseLog"]
    assert seen == [(False, True), (True, False), (True, False), (False, True)]
    assert gc.isenabled()


async def test_frozen_cyclic_garbage_is_reclaimed_when_no_poll_is_open() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    task = asyncio.create_task(keep_collections_short(lambda: False, every_s=0.01, reclaim_every_s=0.05))
    try:
        await asyncio.sleep(0.03)
        cycle = Node()
        gone = weakref.ref(cycle)
        del cycle
        await asyncio.sleep(0.2)  # a reclaim (unfreeze + full collection) has run since
        assert gone() is None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        gc.unfreeze()
        gc.callbacks[:] = [cb for cb in gc.callbacks if type(cb).__name__ != "PauseLog"]
