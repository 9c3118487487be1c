"""The single vote-batch writer: one asyncio task, one SQLite transaction per batch.

Phones' votes queue up while a commit runs; the next commit takes everything
queued (group commit). Under load the commits are at least `window_s` apart
(20 ms by default), so a burst of 5,000 votes a second commits in batches of
about a hundred, one fsync each, rather than one commit per handful of votes:
SQLite's own CPU per vote (random voter ids: a leaf page of each index per vote,
every dirty page written to the WAL at each commit) falls with the batch size
(17 us a vote at 50, 11 at 200 here), and an ack waits at most one window more.
The commit runs in the hub's single write thread, so the event loop never waits
on the disk. A vote is answered (its `done` callback, called on the loop) only
after its batch is committed: the hub acknowledges a vote only then. No future
or task per vote: a batch's answers are plain calls.

Inside the batch's transaction the store asks the core's vote rule again on
the round as stored: a vote that the hub accepted on its cached view of the
round but that was cast (server clock) after the console closed or paused the
poll is refused, not counted; a resend of a counted vote is acknowledged once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from audience.health import WriteHealth
from audience.looplag import PeakHistory
from finale.store import VoteIn, VoteStore

log = logging.getLogger("finale.hub")
Refusal = tuple[str, str]
Answer = Callable[[Refusal | None], object]  # told a vote's outcome once its batch is committed (or refused)


def settle(fut: asyncio.Future[Refusal | None]) -> Answer:
    """An answer that resolves `fut` (once): for callers that await a vote's outcome."""
    def answer(why: Refusal | None) -> None:
        if not fut.done():
            fut.set_result(why)
    return answer


def _answer_safely(done: Answer, why: Refusal | None) -> None:
    """Call one vote's answer; a fault in it must not leave the rest of the batch unanswered or stop the writer."""
    try:
        done(why)
    except Exception:
        log.exception("answering a committed vote failed")


@dataclass
class WriterStats:
    """Counters for /healthz and the benchmark."""

    batches: int = 0
    votes: int = 0
    slowest_commit_ms: float = 0.0
    # per wall-clock second, as the loop saw them: the longest wait for a commit (what the batch's acks wait
    # for: the hand-off to the write thread, the transaction, its fsync) and the largest batch, so a slow
    # second of acks can be lined up with the loop's stalls (looplag) and the phones' send times
    commit_waits: PeakHistory = field(default_factory=PeakHistory)
    batch_sizes: PeakHistory = field(default_factory=PeakHistory)

    @property
    def largest_batch(self) -> int:
        """The largest batch committed (or refused) since the hub started."""
        return int(self.batch_sizes.longest)

    def by_second(self) -> dict[str, Any]:
        """For /healthz: the seconds whose commit wait reached 10 ms, and whose largest batch reached 200 votes."""
        return {"commit_wait_ms": self.commit_waits.report(min_ms=10.0)["by_second"],
                "largest_batch": self.batch_sizes.report(min_ms=200)["by_second"]}


class VoteWriter:
    """Queue votes with `post` (or `submit`); `run` (one task) commits them in batches."""

    def __init__(self, store: VoteStore, executor: Executor, max_batch: int = 5000,
                 health: WriteHealth | None = None, window_s: float = 0.02) -> None:
        self.store = store
        self.executor = executor
        self.max_batch = max_batch
        self.window_s = window_s
        self.health = health or WriteHealth()  # a failing commit turns /healthz not ok and is logged per interval
        self.stats = WriterStats()
        self._queue: list[tuple[VoteIn, Answer]] = []  # unbounded: no coroutine per vote waits for room
        self._queued = asyncio.Event()
        self._committing: list[tuple[VoteIn, Answer]] = []  # the batch in the write thread now

    def post(self, vote: VoteIn, done: Answer) -> None:
        """Queue a vote; `done(None)` is called on the loop once it is committed, or `done(why)` if refused."""
        self._queue.append((vote, done))
        if not self._queued.is_set():
            self._queued.set()

    async def submit(self, vote: VoteIn) -> Refusal | None:
        """Queue a vote and wait: None once it is committed, or why it was refused."""
        fut: asyncio.Future[Refusal | None] = asyncio.get_running_loop().create_future()
        self.post(vote, settle(fut))
        return await fut

    def pending(self) -> int:
        return len(self._queue)

    def _commit(self, votes: list[VoteIn]) -> list[Refusal | None]:
        started = time.perf_counter()
        results = [d.refusal for d in self.store.decide_votes(votes)]
        elapsed = (time.perf_counter() - started) * 1000
        self.stats.slowest_commit_ms = max(self.stats.slowest_commit_ms, elapsed)
        return results

    async def _next_batch(self, last_commit: float) -> list[tuple[VoteIn, Answer]]:
        """What is queued once something is and the window since the last commit has passed (at most max_batch)."""
        await self._queued.wait()
        wait = last_commit + self.window_s - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
        if not self._queue:
            self._queued.clear()
        return batch

    async def run(self) -> None:
        """Commit whatever is queued, repeatedly, until cancelled; then refuse what is left, so phones resend."""
        try:
            await self._commit_forever()
        except asyncio.CancelledError:
            gone: Refusal = ("unavailable", "the hub is shutting down; your vote will be resent")
            left, self._committing, self._queue = self._committing + self._queue, [], []
            for _, done in left:
                _answer_safely(done, gone)
            raise

    async def _commit_forever(self) -> None:
        loop = asyncio.get_running_loop()
        last_commit = 0.0
        while True:
            self._committing = batch = await self._next_batch(last_commit)
            last_commit = time.monotonic()
            started = time.perf_counter()
            try:
                results = await loop.run_in_executor(self.executor, self._commit, [v for v, _ in batch])
            except Exception as exc:  # the disk failed: refuse the batch so phones resend, keep running
                self.health.failed("votes", exc, len(batch))
                why = ("unavailable", "the hub could not store your vote just now; it will be resent")
                results = [why] * len(batch)
            else:
                self.health.stored("votes")
            self._committing = []
            self.stats.commit_waits.note((time.perf_counter() - started) * 1000)
            self.stats.batch_sizes.note(len(batch))
            self.stats.batches += 1
            self.stats.votes += results.count(None)
            for (_, done), result in zip(batch, results, strict=True):
                _answer_safely(done, result)
