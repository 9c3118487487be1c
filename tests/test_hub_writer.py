"""The single vote-batch writer against a real SQLite store."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
