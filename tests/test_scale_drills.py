"""Must show 2 of issue 14: drills on real processes (`finale hub` nodes, `finale drain`, a real redis-server).

- kill -9 one node during a burst: its phones reconnect to the other nodes and resend the vote
  they were waiting on; every acknowledged vote is in SQLite after the drain (each phone's row is
  its last acknowledged vote) and each acknowledged message id is in the audit log exactly once.
- kill -9 redis-server during a poll and start it again on its append-only file: every node says
  `unavailable` (to a phone's vote and on /healthz), phones keep resending, the nodes recover by
  themselves, nothing acknowledged is lost, and `finale verify` passes on the database.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis

from audience.scale.keys import EventKeys
from finale.core.model import Round
from finale.store import Store
from tests.drills.checks import check_phone_votes
from tests.drills.phone import Phone
from tests.hub_helpers import director_for, voting_round
from tests.redis_server import RedisServer, entries_added
from tests.test_scale_many_hubs import NodeProcess
from tests.test_scale_redis import until

PHONES = 240
FINALE = [sys.executable, "-m", "finale.cli"]


@contextmanager
def draining(db_path: Path, url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`finale drain` as a child process (the console's bridge, run on its own): publishes the show, drains votes."""
    with log.open("ab") as out:
        proc = subprocess.Popen([*FINALE, "drain", "--db", str(db_path), "--redis", url], stdout=out,
                                stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        yield proc
    finally:
        proc.terminate()  # it stops on SIGTERM within a drain batch; if it does not, the wait fails the test
        try:
            proc.wait(20)
        finally:
            if proc.poll() is None:
                proc.kill()


@contextmanager
def running_nodes(url: str, folder: Path, n: int, db_path: Path | None = None) -> Iterator[list[NodeProcess]]:
    """`n` hub processes on one Redis (the first with the database when given: the primary), stopped after."""
    with ExitStack() as stack:
        nodes = []
        for i in range(n):
            node = NodeProcess(url, folder / f"node{i}.log", db_path if i == 0 else None)
            stack.callback(node.stop)
            nodes.append(node)
        yield nodes


async def healths(nodes: list[NodeProcess]) -> list[dict[str, object]]:
    return [await asyncio.to_thread(n.health) for n in nodes]


async def started(nodes: list[NodeProcess], event_id: str | None) -> None:
    """Every node answers /healthz, and for this event (not some other test's hub)."""
    assert [h["database"]["event_id"] for h in await healths(nodes)] == [event_id] * len(nodes)  # type: ignore[index]


def scale_ok(health: dict[str, object]) -> bool:
    return bool(health["scale"]["redis"]["ok"])  # type: ignore[index]


async def until_nodes_say(nodes: list[NodeProcess], ok: bool, timeout: float) -> None:
    """Until every node's /healthz says Redis is `ok` (or is not), asked off the event loop."""
    deadline = time.monotonic() + timeout
    while not all(scale_ok(h) is ok for h in await healths(nodes)):
        assert time.monotonic() < deadline, f"the nodes did not report redis ok={ok} within {timeout} s"
        await asyncio.sleep(0.1)


async def phones_voting(urls: list[str], n: int, prefix: str) -> list[Phone]:
    """`n` phones spread round-robin over the nodes, each connected and seeing the poll open."""
    phones = [Phone(urls[i % len(urls)], f"{prefix}-{i:04d}", ack_timeout_s=15) for i in range(n)]
    gate = asyncio.Semaphore(60)

    async def join(p: Phone) -> None:
        async with gate:
            await p.connect()
            await p.wait_for_voting(60)

    await asyncio.wait_for(asyncio.gather(*(join(p) for p in phones)), 120)
    return phones


async def vote_until(phones: list[Phone], round_id: int, labels: list[str], stop: asyncio.Event,
                     seed: str) -> None:
    """Every phone votes (a change of mind each time), a pause between, until `stop`; each vote until acked."""
    async def one(i: int, phone: Phone) -> None:
        rng = random.Random(f"{seed}-{i}")
        while not stop.is_set():
            assert await phone.vote(round_id, rng.choice(labels)), phone.log.refused
            await asyncio.sleep(rng.uniform(0.1, 0.5))

    await asyncio.gather(*(one(i, p) for i, p in enumerate(phones)))


async def until_drained(store: Store, redis: Redis, keys: EventKeys, timeout: float = 60.0) -> int:
    """Wait until SQLite's drain mark is the stream's last entry; how many entries it ever had."""
    last = await redis.xrevrange(keys.stream, count=1)
    assert last, "no vote reached the stream"
    await until(lambda: store.drained_id(keys.stream) == last[0][0], timeout)
    return await entries_added(redis, keys.stream)


async def assert_every_ack_once(store: Store, redis: Redis, keys: EventKeys, round_id: int,
                                phones: list[Phone]) -> dict[str, int]:
    """Drained; every sent vote acknowledged; each acked message id in the audit log once; rows = last acks."""
    logs = [p.log for p in phones]
    sent, acked = sum(len(p.sent) for p in logs), sum(len(p.acked) for p in logs)
    assert sent == acked, {p.device: p.refused for p in logs if p.refused}
    stream_len = await until_drained(store, redis, keys)
    check = check_phone_votes(store, round_id, logs)
    assert (check.lost, check.duplicates, check.unsent) == (0, 0, 0), check
    assert check.table_matches_log and check.rows == len(phones) and check.acknowledged == acked
    assert stream_len == acked  # Redis recorded each acknowledged vote once (a resend of it was a replay)
    last = Counter(p.sent[p.acked[-1]] for p in logs)
    tally = {k: int(v) for k, v in (await redis.hgetall(keys.tally(round_id))).items() if int(v)}
    assert tally == dict(last)  # the stage's bars on Redis agree with SQLite
    return {"sent": sent, "acked": acked, "resends": sum(p.resends for p in logs),
            "reconnects": sum(p.reconnects for p in logs)}


async def poll_open(store: Store) -> tuple[Round, list[str], EventKeys]:
    """The demo's first round with its poll open for longer than a drill; its labels and the event's keys."""
    rnd = await voting_round(director_for(store), window_s=600)
    return rnd, sorted(rnd.labels.values()), EventKeys(store.event_id() or "")


@pytest.mark.slow
async def test_kill_9_of_a_node_during_a_burst_loses_no_acknowledged_vote_and_counts_none_twice(
        store: Store, db_path: Path, tmp_path: Path, redis_server: RedisServer) -> None:
    rnd, labels, keys = await poll_open(store)
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    with draining(db_path, redis_server.url, tmp_path / "drain.log"), \
            running_nodes(redis_server.url, tmp_path, 3, db_path) as nodes:
        await started(nodes, store.event_id())
        phones = await phones_voting([n.ws for n in nodes], PHONES, "kill-node")
        victim, survivors = nodes[1], [nodes[0], nodes[2]]
        theirs = [p for i, p in enumerate(phones) if i % 3 == 1]
        stop = asyncio.Event()
        burst = asyncio.create_task(vote_until(phones, rnd.id, labels, stop, "burst"))
        await asyncio.sleep(1.5)
        # the node freezes first, so votes are sure to be in flight on it (sent, unanswered) at the kill -9
        assert victim.proc.poll() is None
        os.kill(victim.proc.pid, signal.SIGSTOP)
        await asyncio.sleep(0.5)
        in_flight = [p.log.sent and list(p.log.sent)[-1] for p in theirs if len(p.log.sent) > len(p.log.acked)]
        killed_ms = time.time() * 1000
        victim.proc.kill()
        victim.proc.wait(10)
        for i, phone in enumerate(theirs):  # the load balancer sends them to the nodes still up
            phone.client.url = survivors[i % 2].ws
        await asyncio.sleep(2.5)
        stop.set()
        await asyncio.wait_for(burst, 90)
        figures = await assert_every_ack_once(store, redis, keys, rnd.id, phones)
        moved = [p for p in theirs if p.log.reconnects]
        assert len(moved) == len(theirs)  # every phone of the killed node reconnected elsewhere and voted on
        assert in_flight and sum(p.log.resends for p in theirs) >= len(in_flight)  # in flight at the kill: resent
        read_at = {msg: cast_at * 1000 for e in store.events(kind="votes.recorded")  # every drained vote, once
                   for _device, _label, msg, cast_at in e.payload["votes"]}
        figures["in_flight_at_kill"] = len(in_flight)  # of which Redis had some before the kill: replays elsewhere
        figures["recorded_by_killed_node_then_resent"] = sum(read_at[m] < killed_ms for m in in_flight)
        after = await healths(survivors)
        assert sum(int(h["audience"]) for h in after) == PHONES  # type: ignore[call-overload]
        assert all(scale_ok(h) for h in after)
        await asyncio.gather(*(p.close() for p in phones))
    await redis.aclose()
    print("kill -9 of a node:", figures)


@pytest.mark.slow
async def test_kill_9_of_redis_during_a_poll_nodes_say_unavailable_recover_and_lose_nothing(
        store: Store, db_path: Path, tmp_path: Path, redis_always: RedisServer) -> None:
    """With AOF `always` (the `durability = "always"` setting; see tests/redis_server.py for everysec)."""
    redis_server = redis_always
    rnd, labels, keys = await poll_open(store)
    with draining(db_path, redis_server.url, tmp_path / "drain.log"), \
            running_nodes(redis_server.url, tmp_path, 2, db_path) as nodes:
        await started(nodes, store.event_id())
        phones = await phones_voting([n.ws for n in nodes], PHONES, "kill-redis")
        probe = Phone(nodes[1].ws, "probe-phone-0001", ack_timeout_s=15)
        await probe.connect()
        stop = asyncio.Event()
        poll = asyncio.create_task(vote_until(phones, rnd.id, labels, stop, "poll"))
        await asyncio.sleep(1.5)
        redis_server.kill()
        down_at = time.monotonic()
        reply = await probe.client.request({"type": "vote", "round": rnd.id, "label": labels[0], "id": "p-1"}, 15)
        assert reply["code"] == "unavailable", reply
        await until_nodes_say(nodes, False, 20)  # every node says so
        await asyncio.sleep(max(0.0, 3.0 - (time.monotonic() - down_at)))  # phones resend meanwhile
        redis_server.start()  # same port and folder: the append-only file replays
        await until_nodes_say(nodes, True, 30)  # by themselves
        await asyncio.sleep(1.5)
        stop.set()
        await asyncio.wait_for(poll, 90)
        redis = Redis.from_url(redis_server.url, decode_responses=True)
        figures = await assert_every_ack_once(store, redis, keys, rnd.id, phones)
        assert figures["resends"] >= PHONES // 2  # the phones did resend through the outage
        await asyncio.gather(probe.close(), *(p.close() for p in phones))
        await redis.aclose()
    verified = subprocess.run([*FINALE, "verify", "--db", str(db_path)], capture_output=True, text=True,
                              timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    print("kill -9 of redis-server:", figures)
