"""Loops stop when cancelled even when a library swallowed the cancellation (audience.cancellation).

`swallowing_read` does what CPython 3.11's `asyncio.wait_for` does (redis-py 8.1 sends each
command through it; a trace of a swallowed cancellation on a real redis-server pointed there):
when the cancellation arrives in the same turn as the result, it returns the result. A CI
run hung for 300 s in `Hub.stop` on exactly that.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from audience.cancellation import cancel_and_wait, checkpoint


async def swallowing_read(reply: asyncio.Future[str]) -> str:
    """A read that returns its reply when cancelled in the same turn the reply came (3.11's wait_for)."""
    try:
        return await asyncio.shield(reply)
    except asyncio.CancelledError:
        if reply.done():
            return reply.result()
        raise


async def _cancel_as_the_reply_comes(task: asyncio.Task[None], replies: list[asyncio.Future[str]]) -> None:
    """Let the loop go round a few times, then deliver a reply and cancel the task in the same turn."""
    while len(replies) < 3:
        await asyncio.sleep(0)
        if replies and not replies[-1].done():
            replies[-1].set_result("not yet")
    while not replies or replies[-1].done():
        await asyncio.sleep(0)
    replies[-1].set_result("the reply")
    task.cancel()


async def _loop(replies: list[asyncio.Future[str]], check: bool) -> None:
    loop = asyncio.get_running_loop()
    while True:
        if check:
            checkpoint()
        replies.append(loop.create_future())
        await swallowing_read(replies[-1])


@pytest.mark.parametrize("check", [False, True])
async def test_a_loop_with_a_checkpoint_ends_when_its_cancellation_was_swallowed(check: bool) -> None:
    replies: list[asyncio.Future[str]] = []
    task = asyncio.create_task(_loop(replies, check))
    await _cancel_as_the_reply_comes(task, replies)
    await asyncio.sleep(0.05)
    for reply in replies:
        if not reply.done():
            reply.set_result("later")
    await asyncio.sleep(0.05)
    if check:
        assert task.cancelled(), "the checkpoint raises the cancellation the read swallowed"
    else:  # the setup is real: without the checkpoint the loop carries on as if never cancelled
        assert not task.done() and task.cancelling() == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_cancel_and_wait_asks_again_a_task_that_swallowed_its_first_cancellation() -> None:
    async def swallows_once() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass  # as a library's read did
        while True:
            await asyncio.sleep(10)

    task = asyncio.create_task(swallows_once())
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    left = await cancel_and_wait([task], "the test", grace_s=2, again_s=0.1)
    assert left == set() and task.cancelled()
    assert 0.1 <= loop.time() - began < 1.0, "ended on the second cancellation, a tenth of a second later"


async def test_cancel_and_wait_gives_up_on_a_task_that_will_not_stop_and_names_it(
        caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()

    async def stubborn() -> None:
        while not stop.is_set():
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn(), name="stubborn-loop")
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    with caplog.at_level(logging.WARNING, logger="finale.hub"):
        left = await cancel_and_wait([task], "the test", grace_s=0.3, again_s=0.05)
    assert left == {task} and loop.time() - began < 1.0
    assert "stopping the test left 1 task(s) running: stubborn-loop" in caplog.text
    stop.set()
    await task


async def test_cancel_and_wait_reads_the_error_a_task_ended_with() -> None:
    async def fails_on_the_way_out() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            raise RuntimeError("while closing")

    task = asyncio.create_task(fails_on_the_way_out())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task], "the test", grace_s=1) == set()
    assert isinstance(task.exception(), RuntimeError)
