"""The Redis group commit (audience.scale.batcher) on a real redis-server: a burst shares round trips,
each caller gets its own reply, and one bad command fails only its own caller."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from audience.scale.batcher import CallBatcher
from tests.redis_server import RedisServer


async def test_a_burst_shares_pipelines_and_each_caller_gets_its_own_reply(redis_server: RedisServer) -> None:
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    batcher = CallBatcher(redis, max_batch=500)
    replies = await asyncio.gather(*(batcher.call("INCRBY", "counter", i) for i in range(1, 2001)))
    assert sorted(int(r) for r in replies)[-1] == sum(range(1, 2001))  # every INCRBY applied once
    assert len(set(replies)) == 2000  # each caller saw the counter right after its own increment
    assert batcher.batches < 200 and batcher.largest > 1  # shared round trips, not one per call
    bad, good = await asyncio.gather(batcher.call("INCRBY", "counter", "not-a-number"), batcher.call("PING"),
                                     return_exceptions=True)
    assert isinstance(bad, ResponseError) and good in (True, "PONG")  # one bad command fails only its caller
    await batcher.close()
    await redis.aclose()
