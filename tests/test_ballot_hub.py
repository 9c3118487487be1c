"""Voters are issued by the hub: a stuffing script against the real hub, credentials across restarts,
forgeries, proof of presence, the store's own check of the per-address limit, and stepped clocks.

Real hub, real websockets clients (each phone binding its own 127.x.y.z source address, the attacker
one address for all its identities), real SQLite; nothing patched.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from audience.server import Hub
from finale.config import EventConfig
from finale.core import ballot
from finale.core.model import Round
from finale.store import Store, VoteIn
from tests.drills.phone import loopback_for
from tests.hub_helpers import (
    client,
    director_for,
    recv_type,
    running_hub,
    set_switches,
    vote_once,
    voter,
    voting_round,
    ws_url,
)

ATTACKER = "127.0.0.66"


async def _hello(hub: Hub, address: str, device: str, **fields: Any) -> tuple[Any, dict[str, Any]]:
    ws = await connect(ws_url(hub), local_addr=(address, 0))
    await ws.send(json.dumps({"type": "hello", "role": "audience", "device_id": device, **fields}))
    return ws, await recv_type(ws, "state")


async def _vote(ws: Any, rnd: Round, label: str, msg_id: str) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": label, "id": msg_id}))
    while True:
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if reply["type"] in ("ack", "error"):
            return dict(reply)


async def test_one_address_minting_identities_during_a_poll_gets_at_most_the_configured_votes(
        store: Store, db_path: Path) -> None:
    """The issue's forty-line script: fresh device id each connection, hello, vote B, disconnect; 60 times."""
    rnd = await voting_round(director_for(store))
    b = sorted(rnd.labels.values())[1]
    policy = store.event().ballot
    replies: list[dict[str, Any]] = []
    started = time.monotonic()
    async with running_hub(db_path) as hub:
        for i in range(60):
            ws, first = await _hello(hub, ATTACKER, f"d{i:023x}")
            replies.append({**await _vote(ws, rnd, b, f"m{i}"), "credential_error": first["credential_error"]})
            await ws.close()
        async with client(hub, device="honest-phone-1") as (phone, _):  # another address: unaffected
            assert (await _vote(phone, rnd, b, "h1"))["type"] == "ack"
    acked = [r for r in replies if r["type"] == "ack"]
    codes = {r.get("code") for r in replies if r["type"] == "error"}
    assert len(acked) == policy.devices_per_address == 2, "at most the configured devices per address count"
    assert codes == {"address_limit", "no_credential"}, codes
    minted = [r for r in replies if r["credential_error"] is None]
    refilled = (time.monotonic() - started) * policy.credentials_per_address_per_min / 60
    assert 5 == policy.credentials_per_address_per_min <= len(minted) <= 5 + refilled, "new credentials a minute"
    assert all(r["credential_error"] is None for r in replies[:5])
    assert {r["credential_error"]["code"] for r in replies if r["credential_error"]} == {"credential_limit"}
    votes = store.votes(rnd.id)
    assert len(votes) == 3 and sum(store.vote_counts(rnd.id).values()) == 3
    attacker = ballot.origin_tag(store.voter_secret(), ATTACKER)
    assert [v["origin"] for v in votes].count(attacker) == 2 and ATTACKER not in json.dumps(votes)
    assert all(v["issued_at"] is not None and v["device_id"].startswith("v") for v in votes)
    assert len(store.credentials_since(0)) == len(minted) + 1, "every issued credential recorded"


async def test_a_phone_keeps_its_credential_across_hub_restarts_and_a_forgery_is_replaced(
        store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    a, b = sorted(rnd.labels.values())[:2]
    async with running_hub(db_path) as hub:
        async with client(hub, device="phone-keeps-1") as (ws, first):
            assert first["credential"] and first["credential_error"] is None
            assert (await _vote(ws, rnd, a, "k1"))["type"] == "ack"
        token, voter_id = first["credential"], voter(hub, "phone-keeps-1")
    async with running_hub(db_path) as hub:  # a new hub process on the same database: the secret is stored
        ws, again = await _hello(hub, "127.0.0.77", "another-device-id", credential=token)
        assert again["credential"] == token and again["credential_error"] is None and again["my_vote"] == a
        assert (await _vote(ws, rnd, b, "k2"))["type"] == "ack", "the vote changes: one voter, one vote"
        await ws.close()
        voter_part, stamp, sig = token.split(".")[1:]
        forged = f"v1.{voter_part[:-1]}{'0' if voter_part[-1] != '0' else '1'}.{stamp}.{sig}"
        ws, replaced = await _hello(hub, "127.0.0.78", "forger-device", credential=forged)
        assert replaced["credential_error"]["code"] == "bad_credential" and replaced["credential"] not in (None, forged)
        assert replaced["my_vote"] is None, "a forgery does not borrow the voter it names"
        await ws.close()
        foreign = ballot.issue_credential(b"another event's secret", voter_part, float(stamp) / 1000)
        ws, other = await _hello(hub, "127.0.0.79", "visitor-device", credential=foreign)
        assert other["credential_error"]["code"] == "bad_credential"
        await ws.close()
    assert [(v["device_id"], v["label"]) for v in store.votes(rnd.id)] == [(voter_id, b)]


async def test_a_vote_without_a_credential_is_refused_with_its_reason(store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    _use_presence(store)
    async with running_hub(db_path) as hub:
        ws, first = await _hello(hub, "127.0.0.90", "no-join-code-1")
        assert first["credential"] is None and first["credential_error"]["code"] == "join_code_needed"
        assert first["answers"], "a phone without a credential still sees the round"
        refused = await _vote(ws, rnd, sorted(rnd.labels.values())[0], "n1")
        assert refused["code"] == "no_credential" and "scan the QR code" in refused["message"]
        await ws.close()
    assert store.votes(rnd.id) == []


def _use_presence(store: Store, **voting: Any) -> EventConfig:
    config = store.event_config()
    changed = config.model_copy(update={"voting": config.voting.model_copy(update={"presence": True, **voting})})
    store.setup_event(changed)
    return changed


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


async def test_with_presence_no_credential_without_a_fresh_join_code(store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    policy = _use_presence(store).voting.ballot_policy()
    secret = store.voter_secret()
    label = sorted(rnd.labels.values())[0]
    async with running_hub(db_path) as hub, client(hub, role="stage", device="stage-screen-1") as (_stage, view):
        code = view["join_url"].rsplit("j=", 1)[1]
        assert view["join_url"] == f"http://127.0.0.1:8765/?j={code}" and ballot.JOIN_CODE.match(code)
        stale = ballot.join_code(secret, ballot.join_window(time.time() - 600, policy.join_code_rotate_s))
        for i, join in enumerate([None, stale, "AAAAAAAA", ballot.join_code(b"x" * 32, 1)]):
            extra = {"join": join} if join else {}
            ws, first = await _hello(hub, f"127.0.1.{i + 1}", f"outside-{i:04d}", **extra)
            assert first["credential"] is None and first["credential_error"]["code"] == "join_code_needed", join
            await ws.close()
        ws, inside = await _hello(hub, "127.0.2.1", "in-the-room-1", join=code)
        assert inside["credential"] and inside["credential_error"] is None
        assert (await _vote(ws, rnd, label, "p1"))["type"] == "ack"
        await ws.close()
        ws, back = await _hello(hub, "127.0.2.1", "in-the-room-1", credential=inside["credential"])
        assert back["credential"] == inside["credential"], "an issued credential needs no code"
        await ws.close()
        base = f"http://127.0.0.1:{hub.port}"
        assert await asyncio.to_thread(_get, f"{base}/qr/{code}.svg") == 200
        assert await asyncio.to_thread(_get, f"{base}/qr/{stale}.svg") == 404
        assert await asyncio.to_thread(_get, f"{base}/qr/AAAAAAAA.png") == 404
    assert len(store.votes(rnd.id)) == 1


async def test_the_store_holds_the_per_address_limit_when_the_hub_forgets(store: Store, db_path: Path) -> None:
    """A restarted hub has no memory of who voted: the store's own check of the same rule refuses the third."""
    rnd = await voting_round(director_for(store))
    label = sorted(rnd.labels.values())[0]
    for n in range(3):
        async with running_hub(db_path) as hub:
            ws, _ = await _hello(hub, "127.0.3.3", f"shared-net-{n}")
            reply = await _vote(ws, rnd, label, f"s{n}")
            await ws.close()
    assert reply["type"] == "error" and reply["code"] == "address_limit", reply
    assert len(store.votes(rnd.id)) == 2


async def test_with_the_clock_stepped_back_the_last_vote_to_arrive_counts_and_the_log_agrees(
        store: Store, db_path: Path) -> None:
    """A changed vote arriving with an earlier cast time (the clock stepped back 5 s) replaces the counted one."""
    rnd = await voting_round(director_for(store))
    a, b = sorted(rnd.labels.values())[:2]
    now = time.time()
    async with running_hub(db_path) as hub:
        first = await hub.writer.submit(VoteIn(rnd.id, "v" + "a" * 24, a, "c1", now, origin="o1", issued_at=now))
        stepped = await hub.writer.submit(VoteIn(rnd.id, "v" + "a" * 24, b, "c2", now - 5.0, origin="o1",
                                                 issued_at=now))
    assert first is None and stepped is None, "both acknowledged"
    (row,) = store.votes(rnd.id)
    logged = [v for e in store.events(kind="votes.recorded", round_id=rnd.id) for v in e.payload["votes"]]
    assert (row["label"], row["client_msg_id"]) == (b, "c2") == (logged[-1][1], logged[-1][2])
    assert store.vote_labels(rnd.id) == {b: 1}


async def test_a_hellos_answer_reaches_the_phone_before_any_broadcast(store: Store, db_path: Path) -> None:
    """The answer to hello carries the phone's credential and its counted vote; a state broadcast does not.

    150 phones say hello at once while the MC pauses and resumes the show every few milliseconds (each change
    is a broadcast to every phone in the hub's audience set): every phone's first frame is its hello's answer.
    """
    await voting_round(director_for(store))
    changes = 0
    async with running_hub(db_path) as hub:
        stop = asyncio.Event()

        async def mc_toggles() -> None:
            nonlocal changes
            while not stop.is_set():
                await asyncio.to_thread(set_switches, store, paused=changes % 2 == 0)
                changes += 1
                await asyncio.sleep(0.005)

        async def phone(i: int) -> dict[str, Any]:
            device = f"hello-order-{i:03d}"
            async with connect(ws_url(hub), local_addr=(loopback_for(device), 0)) as ws:
                await ws.send(json.dumps({"type": "hello", "role": "audience", "device_id": device}))
                return dict(json.loads(await asyncio.wait_for(ws.recv(), 20)))

        toggler = asyncio.create_task(mc_toggles())
        try:
            firsts = await asyncio.gather(*(phone(i) for i in range(150)))
        finally:
            stop.set()
            await toggler
    assert changes > 5, "the show changed while the phones joined"
    late = [f for f in firsts if "credential" not in f]
    assert not late, f"{len(late)} of 150 phones got a broadcast before their hello's answer: {late[0]}"
    assert all(f["type"] == "state" and f["credential"] and "my_vote" in f for f in firsts)


async def test_behind_a_trusted_balancer_each_phone_keeps_its_own_address(store: Store, db_path: Path) -> None:
    """Four phones through one balancer address: untrusted, the hall shares one address (2 votes count);
    trusted, each phone is the address X-Forwarded-For names, and a phone that forges the header directly
    is still its own address."""
    rnd = await voting_round(director_for(store))
    a = sorted(rnd.labels.values())[0]
    hall = [f"203.0.113.{i}" for i in range(1, 5)]
    async with running_hub(db_path) as hub:  # no trusted proxy: the header is ignored
        untrusted = [await vote_once(ws_url(hub), f"plain-{i}-phone", rnd.id, a, forwarded_for=ip)
                     for i, ip in enumerate(hall)]
    assert [r["type"] for r in untrusted].count("ack") == store.event().ballot.devices_per_address == 2
    assert {r.get("code") for r in untrusted if r["type"] == "error"} == {"address_limit"}
    async with running_hub(db_path, trusted_proxies=("127.0.0.1",)) as hub:
        trusted = [await vote_once(ws_url(hub), f"hall-{i}-phone", rnd.id, a, forwarded_for=f"1.2.3.4, {ip}")
                   for i, ip in enumerate(hall)]
        forged = await vote_once(ws_url(hub), "forger-phone", rnd.id, a, address="127.0.0.42", forwarded_for=hall[0])
        assert forged["type"] == "ack"
    assert [r["type"] for r in trusted] == ["ack"] * 4
    secret = store.voter_secret()
    origins = [v["origin"] for v in store.votes(rnd.id)]
    for ip in hall:
        assert origins.count(ballot.origin_tag(secret, ip)) == 1, f"{ip}: one vote, keyed on the phone's address"
    assert ballot.origin_tag(secret, "127.0.0.42") in origins, "a forged header from an untrusted peer is ignored"
    assert ballot.origin_tag(secret, "1.2.3.4") not in origins, "what a phone writes left of the balancer's entry"


async def test_a_trusted_balancer_that_forwards_no_address_is_named_once_in_the_log(
        store: Store, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    await voting_round(director_for(store))
    async with running_hub(db_path, trusted_proxies=("127.0.0.1",)) as hub:
        for i in range(3):  # a balancer without `option forwardfor`: the phones all look like 127.0.0.1
            async with connect(ws_url(hub), local_addr=("127.0.0.1", 0)) as ws:
                await ws.send(json.dumps({"type": "hello", "role": "audience", "device_id": f"unforwarded-{i}"}))
                await recv_type(ws, "state")
    said = [r.getMessage() for r in caplog.records if "sent no X-Forwarded-For" in r.getMessage()]
    assert said == ["the trusted proxy 127.0.0.1 sent no X-Forwarded-For: every phone behind it shares its "
                    "address (HAProxy: option forwardfor; nginx: proxy_set_header X-Forwarded-For)"]
