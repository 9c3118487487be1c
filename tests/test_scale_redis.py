"""The audience path on a real Redis, in process: a primary hub, a node without the database, the bridge.

A phone votes on one node, reconnects to the other and changes its vote: one vote counted, the
last, in Redis and, after the drain, in SQLite; the stage's tally is the same on both nodes; a
node without the database refuses a judge's page clearly; a node that loses Redis refuses votes
`unavailable` and recovers by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from redis.asyncio import Redis
from websockets.asyncio.client import connect

from audience.scale.bridge import Bridge
from audience.scale.keys import EventKeys
from finale.cli import main
from finale.config import EventConfig
from finale.core import ballot
from finale.store import Store
from tests.drills.phone import Phone
from tests.hub_helpers import client, director_for, recv_type, running_hub, vote_once, voting_round
from tests.readme_samples import health_check_regex
from tests.redis_server import RedisServer, entries_added


@contextlib.asynccontextmanager
async def bridged(db_path: Path, url: str) -> AsyncIterator[Bridge]:
    """The console's bridge (publisher and drainer), running."""
    bridge = Bridge(db_path, url)
    await bridge.start()
    task = asyncio.create_task(bridge.run())
    try:
        yield bridge
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await bridge.close()


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return bytes(resp.read())


async def until(test: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not test():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_a_phone_that_moves_between_nodes_has_one_vote_the_last(store: Store, db_path: Path,
                                                                      redis_server: RedisServer) -> None:
    director = director_for(store)
    rnd = await voting_round(director, window_s=60)
    labels = sorted(rnd.labels.values())
    async with bridged(db_path, redis_server.url) as bridge, \
            running_hub(db_path, redis_url=redis_server.url) as primary, \
            running_hub(None, redis_url=redis_server.url) as node:  # type: ignore[arg-type]
        phone = Phone(f"ws://127.0.0.1:{primary.port}/ws", "mover-phone-01")
        await phone.connect()
        await phone.wait_for_voting()
        assert await phone.vote(rnd.id, labels[0])
        await phone.close()
        phone.client.url = f"ws://127.0.0.1:{node.port}/ws"
        await phone.connect()
        assert phone.state["my_vote"] == labels[0]  # the other node knows this phone's vote
        assert await phone.vote(rnd.id, labels[1])
        await phone.close()
        await until(lambda: bridge.stats.drained_votes >= 2)
        rows = store.votes(rnd.id)
        assert [(r["device_id"], r["label"]) for r in rows] == [(phone.voter_id, labels[1])]
        redis = Redis.from_url(redis_server.url, decode_responses=True)
        keys = EventKeys(store.event_id() or "")
        assert await redis.hgetall(keys.tally(rnd.id)) == {labels[0]: "0", labels[1]: "1"}
        assert await entries_added(redis, keys.stream) == 2
        # SQLite has both (the bridge trims once a batch is committed): Redis keeps only the last drained entry
        assert [e[0] for e in await redis.xrange(keys.stream)] == [store.drained_id(keys.stream)]
        assert node.health()["scale"]["redis"]["ok"] is True
        await redis.aclose()


async def test_the_drain_trims_what_sqlite_holds_and_never_what_it_does_not(store: Store, db_path: Path,
                                                                             redis_server: RedisServer) -> None:
    rnd = await voting_round(director_for(store), window_s=60)
    labels = sorted(rnd.labels.values())
    keys = EventKeys(store.event_id() or "")
    redis = Redis.from_url(redis_server.url, decode_responses=True)

    async def vote(node: int, first: int, n: int) -> None:
        for i in range(first, first + n):
            assert (await vote_once(f"ws://127.0.0.1:{node}/ws", f"trim-phone-{i}", rnd.id, labels[i % 2],
                                   address=f"127.0.0.{40 + i}"))["type"] == "ack"

    async def held(stream: str) -> list[str]:
        return [e[0] for e in await redis.xrange(stream)]

    async with contextlib.AsyncExitStack() as stack:
        console = contextlib.AsyncExitStack()  # the first console's bridge, stopped half-way
        stack.push_async_callback(console.aclose)
        first = await console.enter_async_context(bridged(db_path, redis_server.url))
        node = await stack.enter_async_context(running_hub(None, redis_url=redis_server.url))  # type: ignore[arg-type]
        await vote(node.port, 0, 5)
        await until(lambda: first.stats.drained_votes >= 5)
        for stream in (keys.stream, keys.credentials):  # each keeps only its last drained entry
            assert await held(stream) == [store.drained_id(stream)], stream
        await console.aclose()  # the console is away: Redis holds the next votes until it is back
        await vote(node.port, 5, 3)
        undrained = await held(keys.stream)
        assert len(undrained) == 1 + 3 and undrained[0] == store.drained_id(keys.stream)
        second = await stack.enter_async_context(bridged(db_path, redis_server.url))
        await until(lambda: second.stats.drained_votes >= 3)
        assert await held(keys.stream) == [undrained[-1]] == [store.drained_id(keys.stream)]
    assert Counter(v["label"] for v in store.votes(rnd.id)) == {labels[0]: 4, labels[1]: 4}  # all 8, once
    assert await entries_added(redis, keys.stream) == 8
    await redis.aclose()


async def test_an_unreadable_stream_entry_is_kept_in_the_audit_log_before_the_trim_drops_it(
        store: Store, db_path: Path, redis_server: RedisServer) -> None:
    """An entry another version (or a hand on redis-cli) wrote: the mark passes it and the trim removes it from
    Redis, so the drain keeps it whole in SQLite's audit log, in the batch's transaction; verify still agrees."""
    from finale.verify import verify

    rnd = await voting_round(director_for(store), window_s=60)
    keys = EventKeys(store.event_id() or "")
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    async with bridged(db_path, redis_server.url) as bridge:
        odd = await redis.xadd(keys.stream, {"round": str(rnd.id), "voter": "v-from-elsewhere", "colour": "red"})
        await until(lambda: bridge.stats.unreadable >= 1)
        assert await redis.xrange(keys.stream) == [(odd, {"round": str(rnd.id), "voter": "v-from-elsewhere",
                                                          "colour": "red"})]  # the mark's own entry stays
    [kept] = store.events(kind="redis.unreadable")
    assert kept.payload["entries"] == [{"stream": keys.stream, "id": odd, "fields": {
        "round": str(rnd.id), "voter": "v-from-elsewhere", "colour": "red"}}]
    assert store.drained_id(keys.stream) == odd and store.votes(rnd.id) == []
    assert verify(store).ok
    await redis.aclose()


def test_missed_by_says_a_mark_is_behind_only_when_the_trim_passed_it() -> None:
    from audience.scale.bridge import missed_by

    assert not missed_by("0-0", "5-0", "9-0", added=4, length=4)  # nothing trimmed yet
    assert not missed_by("7-0", "7-0", "9-0", added=4, length=2)  # in step: the mark's entry is the first left
    assert not missed_by("8-1", "7-0", "9-0", added=4, length=3)  # ahead of the trim (it runs after the commit)
    assert missed_by("0-0", "7-0", "9-0", added=4, length=2)  # a database that drained nothing, after a trim
    assert missed_by("5-0", "7-0", "9-0", added=4, length=2)
    assert missed_by("5-0", None, "9-0", added=4, length=0) and not missed_by("9-0", None, "9-0", added=4, length=0)
    assert missed_by("7-3", "7-10", "9-0", added=20, length=5)  # ids compare as numbers, not text


async def test_a_backup_of_the_database_behind_what_redis_trimmed_says_so_when_drained(
        store: Store, db_path: Path, tmp_path: Path, redis_server: RedisServer,
        caplog: pytest.LogCaptureFixture) -> None:
    import sqlite3

    rnd = await voting_round(director_for(store), window_s=60)
    labels = sorted(rnd.labels.values())
    backup = tmp_path / "backup.db"
    with sqlite3.connect(backup) as copy:  # taken before any vote: its marks are behind
        store.conn.backup(copy)
    keys = EventKeys(store.event_id() or "")
    async with bridged(db_path, redis_server.url) as bridge, \
            running_hub(None, redis_url=redis_server.url) as node:  # type: ignore[arg-type]
        for i in range(3):
            assert (await vote_once(f"ws://127.0.0.1:{node.port}/ws", f"kept-phone-{i}", rnd.id, labels[0],
                                    address=f"127.0.0.{70 + i}"))["type"] == "ack"
        await until(lambda: bridge.stats.drained_votes >= 3)
    with caplog.at_level(logging.ERROR, logger="finale.bridge"):
        async with bridged(backup, redis_server.url) as behind:
            await until(lambda: keys.stream in behind.stats.missed)
    assert behind.stats.missed[keys.stream] == 2  # of 3 votes, the trim kept the mark's entry only
    assert "drained into another database of this event" in caplog.text
    assert bridge.stats.missed == {}  # the database the event was drained into is in step


async def test_a_node_without_the_database_sends_judges_to_the_primary(store: Store, db_path: Path,
                                                                       redis_server: RedisServer) -> None:
    from tests.hub_helpers import client

    token = next(iter(store.tokens("panelists").values()))
    async with bridged(db_path, redis_server.url), running_hub(None, redis_url=redis_server.url) as node:  # type: ignore[arg-type]
        import json

        from websockets.asyncio.client import connect
        async with connect(f"ws://127.0.0.1:{node.port}/ws") as ws:
            await ws.send(json.dumps({"type": "hello", "role": "judge", "device_id": "judge-page-1", "token": token}))
            reply = json.loads(await ws.recv())
        assert reply["code"] == "wrong_hub" and "primary hub" in reply["message"]
        async with client(node, "stage", "stage-screen-1") as (_ws, first):
            assert first["role"] == "stage" and first["event"] == store.event().name
        served = await asyncio.to_thread(_get, f"http://127.0.0.1:{node.port}/i18n/index.json")
        assert json.loads(served) == store.event_config().pages.languages()  # the event's, announced on Redis


async def test_a_node_that_loses_redis_refuses_votes_unavailable_and_recovers(store: Store, db_path: Path,
                                                                              redis_server: RedisServer) -> None:
    director = director_for(store)
    rnd = await voting_round(director, window_s=120)
    label = sorted(rnd.labels.values())[0]
    async with bridged(db_path, redis_server.url) as bridge, \
            running_hub(None, redis_url=redis_server.url) as node:  # type: ignore[arg-type]
        phone = Phone(f"ws://127.0.0.1:{node.port}/ws", "steady-phone-01", ack_timeout_s=3)
        await phone.connect()
        await phone.wait_for_voting()
        redis_server.kill()
        reply = await phone.client.request({"type": "vote", "round": rnd.id, "label": label, "id": "x-1"}, 10)
        assert reply["code"] == "unavailable"
        assert node.health()["scale"]["redis"]["ok"] is False
        assert node.health()["ok"] is False and "Redis at" in node.health()["problems"][0]
        healthz = f"http://127.0.0.1:{node.port}/healthz"
        assert not re.search(health_check_regex(), (await asyncio.to_thread(_get, healthz)).decode()), \
            "the README's HAProxy check takes a node that lost Redis out"
        redis_server.start()  # the AOF replays; the node reconnects by itself
        sent = asyncio.create_task(phone.vote(rnd.id, label))
        assert await asyncio.wait_for(sent, 30)
        await until(lambda: bridge.stats.drained_votes >= 1, 30)
        assert [r["label"] for r in store.votes(rnd.id)] == [label]
        await until(lambda: node.health()["scale"]["redis"]["ok"], 10)
        assert re.search(health_check_regex(), (await asyncio.to_thread(_get, healthz)).decode())
        await phone.close()


async def test_durability_always_with_a_replica_acknowledges_only_once_the_replica_has_the_vote(
        tmp_path: Path, redis_server: RedisServer) -> None:
    from finale.config import ScaleSection, load_event
    from finale.demo import DEMO_EVENT

    db = tmp_path / "always.db"
    config = load_event(DEMO_EVENT)
    config = config.model_copy(update={"scale": ScaleSection(durability="always", wait_replicas=1,
                                                             wait_timeout_ms=300)})
    store = Store(db)
    store.setup_event(config)
    rnd = await voting_round(director_for(store), window_s=120)
    label = sorted(rnd.labels.values())[0]
    async with bridged(db, redis_server.url), running_hub(None, redis_url=redis_server.url) as node:  # type: ignore[arg-type]
        await until(lambda: node.scale is not None and node.scale.box.wait_replicas == 1, 10)
        health = node.health()["scale"]["redis"]
        assert health["durability"] == "always"
        assert any("appendfsync everysec" in w for w in health["warnings"])  # the server persists less than asked
        phone = Phone(f"ws://127.0.0.1:{node.port}/ws", "replica-phone-1", ack_timeout_s=5)
        await phone.connect()
        await phone.wait_for_voting()
        reply = await phone.client.request({"type": "vote", "round": rnd.id, "label": label, "id": "r-1"}, 10)
        assert reply["code"] == "unavailable" and "replicas" in reply["message"]  # no replica: never acknowledged
        folder = tmp_path / "replica"
        folder.mkdir()
        replica = RedisServer(folder, extra=("--replicaof", "127.0.0.1", str(redis_server.port)))
        await asyncio.to_thread(replica.start)  # never block the loop the hub and the bridge run on
        try:
            again = await phone.client.request({"type": "vote", "round": rnd.id, "label": label, "id": "r-1"}, 30)
            deadline = time.monotonic() + 30
            while again["type"] != "ack" and time.monotonic() < deadline:  # the replica is still syncing
                await asyncio.sleep(0.3)
                again = await phone.client.request({"type": "vote", "round": rnd.id, "label": label, "id": "r-1"},
                                                   30)
            assert again["type"] == "ack"
            replica_says = Redis.from_url(replica.url, decode_responses=True)
            keys = EventKeys(store.event_id() or "")
            entry = await replica_says.hget(keys.votes(rnd.id), phone.voter_id or "") or ""
            assert entry.split("\t")[:2] == ["r-1", label]  # the replica holds the vote: message id and label
            entries = await replica_says.xrange(keys.stream)
            assert len(entries) == 1, entries[:3]  # the resend was a replay: one record
            await replica_says.aclose()
        finally:
            await asyncio.to_thread(replica.stop)
            await phone.close()
    store.close()


def test_drain_and_a_node_against_an_unreachable_redis_say_so_without_the_password(store: Store,
                                                                                    db_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.hub_helpers import free_port

    url = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"  # nothing listens there
    drain = subprocess.run([sys.executable, "-m", "finale.cli", "drain", "--db", str(db_path), "--redis", url],
                           capture_output=True, text=True, timeout=60)
    assert drain.returncode == 1 and "Usage:" not in drain.stderr  # a runtime failure, not a usage error
    assert "Error: Redis at redis://:***@127.0.0.1:" in drain.stderr and "hunter2" not in drain.stderr
    nowhere = subprocess.run([sys.executable, "-m", "finale.cli", "hub"], capture_output=True, text=True,
                             timeout=60, env={k: v for k, v in os.environ.items()
                                              if k not in ("FINALE_DB", "FINALE_REDIS_URL")})
    assert nowhere.returncode == 2 and "--db PATH" in nowhere.stderr and "--redis URL" in nowhere.stderr


async def test_nodes_behind_a_trusted_balancer_key_each_phone_on_its_own_address(
        store: Store, db_path: Path, redis_server: RedisServer) -> None:
    """Four phones through one balancer (127.0.0.1), alternating two nodes: every vote counts once, keyed on
    the address X-Forwarded-For names, in Redis's per-origin rule and in SQLite after the drain."""
    rnd = await voting_round(director_for(store), window_s=60)
    label = sorted(rnd.labels.values())[0]
    hall = [f"203.0.113.{i}" for i in range(1, 5)]
    lb = ("127.0.0.1",)
    async with bridged(db_path, redis_server.url) as bridge, \
            running_hub(None, redis_url=redis_server.url, trusted_proxies=lb) as one, \
            running_hub(None, redis_url=redis_server.url, trusted_proxies=lb) as two:  # type: ignore[arg-type]
        replies = [await vote_once(f"ws://127.0.0.1:{(one, two)[i % 2].port}/ws", f"hall-phone-{i}", rnd.id, label,
                                   forwarded_for=ip) for i, ip in enumerate(hall)]
        assert [r["type"] for r in replies] == ["ack"] * 4, replies
        await until(lambda: bridge.stats.drained_votes >= 4)
    secret = store.voter_secret()
    origins = sorted(v["origin"] for v in store.votes(rnd.id))
    assert origins == sorted(ballot.origin_tag(secret, ip) for ip in hall)


async def test_one_address_minting_credentials_across_nodes_gets_the_events_rate_not_each_nodes(
        store: Store, db_path: Path, redis_server: RedisServer) -> None:
    """A script on one address says hello as a new phone 12 times, alternating two nodes: the nodes share one
    bucket on Redis (finale_take_token), so 5 credentials a minute are issued in all, not 5 by each node."""
    await voting_round(director_for(store), window_s=60)
    per_min = store.event().ballot.credentials_per_address_per_min
    started = time.monotonic()
    async with bridged(db_path, redis_server.url) as bridge, \
            running_hub(None, redis_url=redis_server.url) as one, \
            running_hub(None, redis_url=redis_server.url) as two:  # type: ignore[arg-type]
        firsts = []
        for i in range(12):
            async with connect(f"ws://127.0.0.1:{(one, two)[i % 2].port}/ws", local_addr=("127.0.0.66", 0)) as ws:
                await ws.send(json.dumps({"type": "hello", "role": "audience", "device_id": f"minted-{i:02d}"}))
                firsts.append(await recv_type(ws, "state", timeout=10))
        issued = [f for f in firsts if f["credential"]]
        refilled = (time.monotonic() - started) * per_min / 60
        assert per_min == 5 <= len(issued) <= per_min + refilled, [f["credential_error"] for f in firsts]
        assert [f["credential"] is not None for f in firsts[:5]] == [True] * 5
        assert {f["credential_error"]["code"] for f in firsts if not f["credential"]} == {"credential_limit"}
        assert min(one.voters.issued, two.voters.issued) >= 2, "both nodes issued some of the five"
        await until(lambda: bridge.stats.drained_credentials >= len(issued))
    assert len(store.credentials_since(0)) == len(issued)


async def test_a_node_pinned_to_its_event_ignores_another_console_on_the_same_redis(
        store: Store, db_path: Path, tmp_path: Path, demo_config: EventConfig, redis_server: RedisServer) -> None:
    """A rehearsal console started later on the show's Redis announces its own event: a node started with
    `--event-id` keeps serving the show's event; one without follows the last announcement."""
    rnd = await voting_round(director_for(store), window_s=60)
    show_id = store.event_id()
    with Store(tmp_path / "rehearsal.db") as rehearsal:
        rehearsal.setup_event(demo_config)
        rehearsal_id = rehearsal.event_id()
    assert show_id and rehearsal_id and show_id != rehearsal_id
    async with bridged(db_path, redis_server.url), bridged(tmp_path / "rehearsal.db", redis_server.url):
        async with running_hub(None, redis_url=redis_server.url, event_id=show_id) as pinned, \
                running_hub(None, redis_url=redis_server.url) as follower:  # type: ignore[arg-type]
            assert (pinned.event_id, follower.event_id) == (show_id, rehearsal_id)
            async with client(pinned, device="pinned-phone-1") as (_, first):
                assert first["round"] == rnd.id and first["phase"] == "voting", "the show's round, not a draft"


def test_event_id_is_refused_beside_a_database_with_why(db_path: Path, store: Store) -> None:
    result = CliRunner().invoke(main, ["hub", "--db", str(db_path), "--event-id", "some-other-event"])
    assert result.exit_code == 2
    assert "--event-id is for a node without --db: a hub with the database serves that database's event" \
        in result.output


async def test_the_readme_health_check_reads_the_hubs_own_ok_not_its_redis_link(
        store: Store, db_path: Path, redis_server: RedisServer) -> None:
    """The primary on Redis with a full disk: /healthz says ok false while its Redis link is fine; the README's
    HAProxy check (the top-level ok) takes it out, where a bare `"ok": true` would match the nested one."""
    await voting_round(director_for(store), window_s=60)
    async with running_hub(db_path, redis_url=redis_server.url) as primary:
        healthz = f"http://127.0.0.1:{primary.port}/healthz"
        assert re.search(health_check_regex(), (await asyncio.to_thread(_get, healthz)).decode())
        primary.write_health.failed("votes", OSError(28, "database or disk is full"), 1)
        body = (await asyncio.to_thread(_get, healthz)).decode()
        assert primary.health()["ok"] is False and primary.health()["scale"]["redis"]["ok"] is True
        assert '"ok": true' in body, "the nested Redis link is fine"
        assert not re.search(health_check_regex(), body), "the balancer takes the failing hub out"
