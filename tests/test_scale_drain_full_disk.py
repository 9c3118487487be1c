"""The console's disk fills while nodes take votes on Redis: Redis keeps every vote until SQLite has it.

The drain's write fails (SQLite: database or disk is full); the bridge keeps the batch and retries,
and trims nothing, so the stream still holds every vote acknowledged meanwhile. Once the space is
back, each is stored exactly once and only then trimmed from Redis.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from redis.asyncio import Redis

from audience.scale.keys import EventKeys
from finale.config import EventConfig
from finale.store import Store
from tests.full_disk import fill_disk, small_disk
from tests.hub_helpers import director_for, running_hub, vote_once, voting_round
from tests.redis_server import RedisServer
from tests.test_scale_redis import bridged, until

pytestmark = pytest.mark.timeout(120)
__all__ = ["small_disk"]  # the fixture


async def test_a_full_disk_at_the_console_keeps_every_vote_in_redis_until_it_is_stored_once(
        small_disk: Path, demo_config: EventConfig, redis_server: RedisServer,
        caplog: pytest.LogCaptureFixture) -> None:
    db = small_disk / "event.db"
    store = Store(db)
    store.setup_event(demo_config)
    rnd = await voting_round(director_for(store), window_s=60)
    labels = sorted(rnd.labels.values())
    keys = EventKeys(store.event_id() or "")
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    caplog.set_level(logging.WARNING, logger="finale.bridge")
    try:
        async with bridged(db, redis_server.url) as bridge, \
                running_hub(None, redis_url=redis_server.url) as node:  # type: ignore[arg-type]
            url = f"ws://127.0.0.1:{node.port}/ws"
            assert (await vote_once(url, "before-phone", rnd.id, labels[0], address="127.0.0.60"))["type"] == "ack"
            await until(lambda: bridge.stats.drained_votes == 1)
            filler = fill_disk(small_disk)
            for i in range(6):  # the nodes need no disk: Redis acknowledges each vote
                reply = await vote_once(url, f"full-phone-{i}", rnd.id, labels[i % 2], address=f"127.0.0.{61 + i}")
                assert reply["type"] == "ack", reply
            await until(lambda: any("could not store" in r.getMessage() and "full" in r.getMessage()
                                    for r in caplog.records))
            await asyncio.sleep(1.5)  # a retry or two
            assert bridge.stats.drained_votes == 1
            assert len(store.votes(rnd.id)) == 1
            held = [e[0] for e in await redis.xrange(keys.stream)]
            assert len(held) == 1 + 6 and held[0] == store.drained_id(keys.stream)  # nothing trimmed
            filler.unlink()  # space again
            await until(lambda: bridge.stats.drained_votes == 7, timeout=20)
            assert [e[0] for e in await redis.xrange(keys.stream)] == [held[-1]] == [store.drained_id(keys.stream)]
        rows = store.votes(rnd.id)
        assert len(rows) == 7 and len({r["device_id"] for r in rows}) == 7
        recorded = [row for e in store.events(kind="votes.recorded", round_id=rnd.id) for row in e.payload["votes"]]
        assert len(recorded) == 7  # each vote once in the audit log, whatever the retries
        assert store.integrity_check() == "ok"
    finally:
        store.close()
        await redis.aclose()
