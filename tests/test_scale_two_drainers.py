"""Two drainers on one event database: a batch read before the other drainer stored it is refused whole.

Written anyway, a phone's older vote, read by the slow drainer before the other drainer stored the
phone's newer one, would replace it: "the last vote counts" would depend on which drainer won.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from audience.scale.bridge import Bridge
from audience.scale.keys import EventKeys
from finale.core.poll import VoteOutcome
from finale.store import DrainRaced, Store, VoteIn
from tests.drills.phone import Phone
from tests.hub_helpers import director_for, running_hub, voting_round
from tests.redis_server import RedisServer
from tests.test_scale_redis import bridged, until


async def test_a_batch_read_after_marks_the_database_has_passed_stores_nothing(store: Store) -> None:
    rnd = await voting_round(director_for(store), window_s=60)
    label = sorted(rnd.labels.values())[0]
    first = VoteIn(rnd.id, "voter-1", label, "m1", time.time())
    drained = store.drain([first], [], {"votes": "5-0", "floor": "5-0"}, after={"votes": "0-0"})
    assert [d.outcome for d in drained] == [VoteOutcome.ACCEPT]
    events = len(store.events())
    with pytest.raises(DrainRaced) as raced:  # read after 0-0, but this database is at 5-0 now
        store.drain([VoteIn(rnd.id, "voter-1", label, "m0", time.time())], [], {"votes": "3-0"},
                    after={"votes": "0-0"})
    assert raced.value.code == "drain_raced"
    assert "votes was drained to 5-0 in this database, not 0-0" in str(raced.value)
    assert len(store.events()) == events and store.drained_id("votes") == "5-0"
    assert [r["client_msg_id"] for r in store.votes(rnd.id)] == ["m1"]
    # a floor request at or before the floor's mark was relayed already
    with pytest.raises(DrainRaced, match="drained to 5-0 in this database, not before 5-0"):
        store.relay_floor("question", "voter-1", "Why?", time.time(), "floor", "5-0")
    assert len(store.events()) == events


async def test_a_slow_drainer_does_not_put_a_phones_older_vote_over_its_newer_one(
        store: Store, db_path: Path, redis_server: RedisServer) -> None:
    rnd = await voting_round(director_for(store), window_s=60)
    first, second = sorted(rnd.labels.values())[:2]
    keys = EventKeys(store.event_id() or "")
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    start = {keys.stream: "0-0", keys.credentials: "0-0", keys.floor: "0-0"}
    async with bridged(db_path, redis_server.url) as fast, \
            running_hub(None, redis_url=redis_server.url) as node:  # type: ignore[arg-type]
        phone = Phone(f"ws://127.0.0.1:{node.port}/ws", "two-drainers-phone")
        await phone.connect()
        await phone.wait_for_voting()
        assert await phone.vote(rnd.id, first)
        await until(lambda: fast.stats.drained_votes >= 1)
        stale = await redis.xread(start, count=100)  # what a slow drainer read: the first vote, not yet stored
        assert await phone.vote(rnd.id, second)
        await until(lambda: fast.stats.drained_votes >= 2)
        await phone.close()
        slow = Bridge(db_path, redis_server.url)
        await slow.start()
        try:
            marks = dict(start)
            await slow._drain_batch(list(stale), marks)  # the slow drainer's batch lands after the fast one's
            assert slow.stats.raced == 1 and slow.stats.drained_votes == 0
            assert marks == {name: store.drained_id(name) for name in start}  # it reads on from the database's
        finally:
            await slow.close()
    assert [(r["device_id"], r["label"]) for r in store.votes(rnd.id)] == [(phone.voter_id, second)]
    assert sum(len(e.payload["votes"]) for e in store.events(kind="votes.recorded", round_id=rnd.id)) == 2
    assert slow.report()["raced"] == 1
    await redis.aclose()
