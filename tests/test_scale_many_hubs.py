"""Must show 1 of issue 14: three hub processes on one real Redis, 600 real phones, one vote each, the last.

Each phone votes on one node (round-robin), reconnects to the next node and changes its vote.
After the drain, SQLite holds exactly one vote per phone, the one it sent last; every vote
sent was acknowledged, every acknowledged vote is in the audit log once, the stage tally on
Redis agrees, and `finale verify` passes on the database.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from finale.store import Store
from tests import children
from tests.drills.phone import Phone
from tests.hub_helpers import director_for, voting_round, wait_healthy
from tests.redis_server import RedisServer
from tests.test_scale_redis import bridged, until

PHONES = 600
NODES = 3


class NodeProcess:
    """`finale hub --redis URL` as a child process; the first one also has the database (the primary).

    It listens on a port the kernel picks (--port 0) and the port is read from its ready line: a port
    chosen here and bound later could be taken meanwhile by another test's hub, which would then answer.
    """

    def __init__(self, redis_url: str, log: Path, db_path: Path | None = None) -> None:
        self.log = log
        self._from = log.stat().st_size if log.exists() else 0
        self._port: int | None = None
        args = [sys.executable, "-m", "finale.cli", "hub", "--redis", redis_url, "--host", "127.0.0.1",
                "--port", "0", "--public-url", "http://127.0.0.1:8765"]
        if db_path is not None:
            args += ["--db", str(db_path)]
        with log.open("ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         env={**os.environ, "PYTHONUNBUFFERED": "1"})

    @property
    def port(self) -> int:
        """The port it listens on, from its ready line (waits for it)."""
        deadline = time.monotonic() + 60
        while self._port is None:
            with self.log.open("rb") as f:
                f.seek(self._from)
                found = re.search(rb"listening on http://127\.0\.0\.1:(\d+)/", f.read())
            if found:
                self._port = int(found.group(1))
            elif self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"hub did not start (status {self.proc.poll()}): {self.log.read_text()[-2000:]}")
            else:
                time.sleep(0.05)
        return self._port

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def health(self) -> dict[str, object]:
        return wait_healthy(f"http://127.0.0.1:{self.port}", 30, self.proc)

    def stop(self) -> None:
        children.stop(self.proc, 15)


@pytest.fixture
def nodes_on(tmp_path: Path) -> Iterator[list[NodeProcess]]:
    started: list[NodeProcess] = []
    yield started
    for node in started:
        node.stop()


@pytest.mark.slow
async def test_three_hubs_600_phones_one_vote_each_the_last(store: Store, db_path: Path, tmp_path: Path,
                                                            redis_server: RedisServer,
                                                            nodes_on: list[NodeProcess]) -> None:
    director = director_for(store)
    rnd = await voting_round(director, window_s=240)
    labels = sorted(rnd.labels.values())
    async with bridged(db_path, redis_server.url) as bridge:
        nodes_on.extend(NodeProcess(redis_server.url, tmp_path / f"node{i}.log", db_path if i == 0 else None)
                        for i in range(NODES))
        for node in nodes_on:
            await asyncio.to_thread(node.health)
        phones = [Phone(nodes_on[i % NODES].ws, f"crowd-{i:05d}", ack_timeout_s=20) for i in range(PHONES)]
        gate = asyncio.Semaphore(100)

        async def vote_twice(i: int, phone: Phone) -> None:
            async with gate:
                await phone.connect()
                await phone.wait_for_voting()
                assert await phone.vote(rnd.id, labels[i % len(labels)])
                await phone.close()
                phone.client.url = nodes_on[(i + 1) % NODES].ws  # the load balancer sends it elsewhere
                await phone.connect()
                assert phone.state.get("my_vote") == labels[i % len(labels)]
                assert await phone.vote(rnd.id, labels[(i + 1) % len(labels)])
                await phone.close()

        await asyncio.wait_for(asyncio.gather(*(vote_twice(i, p) for i, p in enumerate(phones))), 180)
        sent = sum(len(p.log.sent) for p in phones)
        acked = sum(len(p.log.acked) for p in phones)
        assert sent == acked == 2 * PHONES
        await until(lambda: bridge.stats.drained_votes >= 2 * PHONES, 60)
        assert bridge.stats.refused_at_drain == 0
        director.close_poll(rnd.id)
        redis = Redis.from_url(redis_server.url, decode_responses=True)
        tally = {label: int(n) for label, n in (await redis.hgetall(bridge.keys.tally(rnd.id))).items()}
        await redis.aclose()
        healths = [await asyncio.to_thread(n.health) for n in nodes_on]

    rows = store.votes(rnd.id)
    last = {p.voter_id: p.log.sent[p.log.acked[-1]] for p in phones}
    assert len(rows) == PHONES  # one vote per phone...
    assert {r["device_id"]: r["label"] for r in rows} == last  # ...the one it sent last
    recorded = [m for e in store.events(kind="votes.recorded") for (_d, _l, m, _t) in e.payload["votes"]]
    assert Counter(recorded) == Counter(m for p in phones for m in p.log.acked)  # each acknowledged vote, once
    assert sum(int(h["scale"]["votes_recorded"]) for h in healths) == 2 * PHONES  # type: ignore[index]
    assert all(h["scale"]["redis"]["ok"] for h in healths)  # type: ignore[index]
    verified = subprocess.run([sys.executable, "-m", "finale.cli", "verify", "--db", str(db_path)],
                              capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verified" in verified.stdout
    assert store.vote_labels(rnd.id) == dict(Counter(last.values())) == tally  # SQLite, the phones, Redis agree
