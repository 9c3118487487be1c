"""The single vote-batch writer against a real SQLite store."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from audience.writer import VoteWriter
from finale.store import Store, VoteIn
from tests.hub_helpers import director_for, voting_round


async def _with_writer(db_path: Path, votes: list[VoteIn]) -> tuple[list[tuple[str, str] | None], VoteWriter]:
    pool = ThreadPoolExecutor(1)
    own = Store(db_path)
    writer = VoteWriter(own, pool)
    task = asyncio.create_task(writer.run())
    try:
        results = await asyncio.gather(*(writer.submit(v) for v in votes))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pool.shutdown()
        own.close()
    return list(results), writer


async def test_concurrent_votes_commit_in_few_batches_and_all_count(store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    label = sorted(rnd.labels.values())[0]
    now = rnd.vote_opened_at or 0
    votes = [VoteIn(rnd.id, f"phone-{i:05d}", label, f"m{i}", now + 1) for i in range(2000)]
    results, writer = await _with_writer(db_path, votes)
    assert results == [None] * 2000
    assert store.vote_labels(rnd.id) == {label: 2000}
    assert writer.stats.batches < 100, writer.stats
    assert len(store.events(kind="votes.recorded")) == writer.stats.batches
    # the largest batch is in /healthz's per-second peaks, on the wall-clock second it was committed in
    seconds = writer.stats.by_second()["largest_batch"]
    assert max(peak for _, peak in seconds) == writer.stats.largest_batch >= 200, seconds
    assert all(abs(second - time.time()) < 60 for second, _ in seconds), seconds


async def test_a_vote_cast_before_the_close_counts_one_after_does_not(store: Store, db_path: Path) -> None:
    director = director_for(store)
    rnd = await voting_round(director)
    closed = director.close_poll(rnd.id)
    assert closed.vote_deadline is not None
    a, b = sorted(rnd.labels.values())[:2]
    before = VoteIn(rnd.id, "early-phone", a, "e1", closed.vote_deadline - 0.01)
    after = VoteIn(rnd.id, "late-phone1", b, "l1", closed.vote_deadline + 0.01)
    results, _ = await _with_writer(db_path, [before, after])
    assert results[0] is None
    assert results[1] is not None and results[1][0] == "poll_closed"
    assert store.vote_labels(rnd.id) == {a: 1}


async def test_each_vote_is_answered_once_after_its_batch_commits_and_commits_are_a_window_apart(
        store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    label = sorted(rnd.labels.values())[0]
    now = rnd.vote_opened_at or 0
    starts: list[float] = []  # when the loop handed each batch to the write thread: what the window spaces

    class HandOffs(ThreadPoolExecutor):
        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
            starts.append(time.monotonic())  # on the loop (run_in_executor), not in the thread: a thread that
            return super().submit(fn, *args, **kwargs)  # starts late on a loaded machine shortens no gap

    pool = HandOffs(1)
    own = Store(db_path)
    writer = VoteWriter(own, pool, window_s=0.05)
    answers: dict[str, list[tuple[str, str] | None]] = {}
    stored_when_answered: dict[str, bool] = {}

    def answer(device: str) -> Callable[[tuple[str, str] | None], None]:
        def told(why: tuple[str, str] | None) -> None:
            answers.setdefault(device, []).append(why)
            stored_when_answered[device] = device in {v["device_id"] for v in store.votes(rnd.id)}
        return told

    task = asyncio.create_task(writer.run())
    try:
        posting = time.monotonic()
        for i in range(60):  # a vote every 5 ms for 0.3 s: about 60 commits without the window
            writer.post(VoteIn(rnd.id, f"phone-{i:05d}", label, f"m{i}", now + 1), answer(f"phone-{i:05d}"))
            await asyncio.sleep(0.005)
        posted_s = time.monotonic() - posting  # longer than 0.3 s on a loaded machine
        while len(answers) < 60:
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pool.shutdown()
        own.close()
    assert answers == {f"phone-{i:05d}": [None] for i in range(60)}, "each vote answered once, accepted"
    assert all(stored_when_answered.values()), "answered only once its batch is in the database"
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) <= posted_s / 0.05 + 2 and min(gaps) >= 0.045, (len(starts), posted_s, gaps)


async def test_votes_queued_at_shutdown_are_answered_unavailable(store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    label = sorted(rnd.labels.values())[0]
    pool = ThreadPoolExecutor(1)
    own = Store(db_path)
    writer = VoteWriter(own, pool, window_s=10.0)  # the second batch waits for a window it never gets
    told: list[tuple[str, str] | None] = []
    task = asyncio.create_task(writer.run())
    try:
        writer.post(VoteIn(rnd.id, "phone-first", label, "m1", (rnd.vote_opened_at or 0) + 1), told.append)
        while not told:
            await asyncio.sleep(0.01)
        writer.post(VoteIn(rnd.id, "phone-later", label, "m2", (rnd.vote_opened_at or 0) + 1), told.append)
        await asyncio.sleep(0.05)
        assert told == [None] and writer.pending() == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pool.shutdown()
        own.close()
    assert told[1] is not None and told[1][0] == "unavailable", told
    assert [v["device_id"] for v in store.votes(rnd.id)] == ["phone-first"]
