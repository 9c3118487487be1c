"""Group commit for Redis: the calls queued while one pipeline is in flight go out together in the next one.

A burst of thousands of votes would otherwise need thousands of round trips (or thousands of
pooled connections); like the SQLite hub's batch writer, one task sends whatever is queued as
one pipeline (not a transaction: each FCALL is atomic on its own) and resolves each caller's
future with its own reply or error, in order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from audience.cancellation import cancel_and_wait, checkpoint

MAX_BATCH = 1000


class CallBatcher:
    """`call(*command)` returns that command's reply; the commands of one burst share a round trip."""

    def __init__(self, redis: Redis, max_batch: int = MAX_BATCH) -> None:
        self.redis = redis
        self.max_batch = max_batch
        self._queue: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sending: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []  # the batch in flight
        self.batches = 0
        self.largest = 0

    async def call(self, *command: Any) -> Any:
        """Queue one command; its reply once the pipeline it went in has answered (or its error, raised)."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((command, fut))
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return await fut

    async def _run(self) -> None:
        while True:
            checkpoint()  # a cancellation the pipeline's read swallowed still stops it (audience.cancellation)
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
                self._sending = batch
                await self._send(batch)
                self._sending = []

    async def _send(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        self.batches += 1
        self.largest = max(self.largest, len(batch))
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for command, _ in batch:
                    pipe.execute_command(*command)
                replies = await pipe.execute(raise_on_error=False)
        except (RedisError, OSError) as exc:
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for (_, fut), reply in zip(batch, replies, strict=True):
            if fut.done():
                continue
            if isinstance(reply, Exception):
                fut.set_exception(reply)
            else:
                fut.set_result(reply)

    async def close(self) -> None:
        """Stop the sending task; callers still waiting get a ConnectionError."""
        if self._task is not None:
            await cancel_and_wait([self._task], "the Redis batcher")
        for _, fut in self._sending + self._queue:  # a batch cut short by the cancel is answered too
            if not fut.done():
                fut.set_exception(RedisError("the hub node is shutting down"))
        self._queue.clear()
        self._sending = []
