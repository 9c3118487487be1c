"""The single vote-batch writer: one asyncio task, one SQLite transaction per batch.

Phones' votes queue up while a commit runs; the next commit takes everything
queued (group commit), so under load a batch commits every few milliseconds and
never later than the commit time (well under 50 ms) after the previous one. The
commit runs in the hub's single write thread, so the event loop never waits on
the disk. Each vote's future resolves only after its batch is committed: the
hub acknowledges a vote only then.

Inside the batch's transaction the store asks the core's vote rule again on
the round as stored: a vote that the hub accepted on its cached view of the
round but that was cast (server clock) after the console closed or paused the
poll is refused, not counted; a resend of a counted vote is acknowledged once.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor
from dataclasses import dataclass

from audience.health import WriteHealth
from finale.store import VoteIn, VoteStore

Refusal = tuple[str, str]


@dataclass
class WriterStats:
    """Counters for /healthz and the benchmark."""

    batches: int = 0
    votes: int = 0
    largest_batch: int = 0
    slowest_commit_ms: float = 0.0


class VoteWriter:
    """Queue votes with `submit`; `run` (one task) commits them in batches."""

    def __init__(self, store: VoteStore, executor: Executor, max_batch: int = 5000,
                 health: WriteHealth | None = None) -> None:
        self.store = store
        self.executor = executor
        self.max_batch = max_batch
        self.health = health or WriteHealth()  # a failing commit turns /healthz not ok and is logged per interval
        self.stats = WriterStats()
        self._queue: asyncio.Queue[tuple[VoteIn, asyncio.Future[Refusal | None]]] = asyncio.Queue()

    async def submit(self, vote: VoteIn) -> Refusal | None:
        """Queue a vote; returns None once it is committed, or why it was refused."""
        fut: asyncio.Future[Refusal | None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((vote, fut))  # the queue is unbounded: no coroutine per vote to wait for room
        return await fut

    def pending(self) -> int:
        return self._queue.qsize()

    def _commit(self, votes: list[VoteIn]) -> list[Refusal | None]:
        started = time.perf_counter()
        results = [d.refusal for d in self.store.decide_votes(votes)]
        elapsed = (time.perf_counter() - started) * 1000
        self.stats.slowest_commit_ms = max(self.stats.slowest_commit_ms, elapsed)
        return results

    async def run(self) -> None:
        """Commit whatever is queued, repeatedly, until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < self.max_batch:
                batch.append(self._queue.get_nowait())
            votes = [v for v, _ in batch]
            try:
                results = await loop.run_in_executor(self.executor, self._commit, votes)
            except asyncio.CancelledError:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_result(("unavailable", "the hub is shutting down; your vote will be resent"))
                raise
            except Exception as exc:  # the disk failed: refuse the batch so phones resend, keep running
                self.health.failed("votes", exc, len(batch))
                why = ("unavailable", "the hub could not store your vote just now; it will be resent")
                results = [why] * len(batch)
            else:
                self.health.stored("votes")
            self.stats.batches += 1
            self.stats.votes += sum(1 for r in results if r is None)
            self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
            for (_, fut), result in zip(batch, results, strict=True):
                if not fut.done():
                    fut.set_result(result)
