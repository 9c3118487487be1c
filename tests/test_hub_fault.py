"""A fault (a bug) while the hub takes a vote: the vote is answered, the connection closes 1011, the resend counts.

The fault is injected, on each of the two paths a vote takes: the ballot box's `offer` (a vote
answered as it is read) or `post` (a vote in the connection's handler task) raises once, as a bug
there would. Everything else is real (the hub in this loop, websockets clients, the store). What
must hold: the phone is never left waiting for an answer (the frames behind a vote wait for it),
it is told `unavailable` (the page resends), its connection is closed 1011 so the page
reconnects, the fault is logged with its traceback, the other phones are served meanwhile, and
the resent vote is counted once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from audience.server import Hub
from finale.core.model import Round
from finale.store import Store
from tests.hub_helpers import client, director_for, running_hub, voter, voting_round


async def _vote(ws: Any, round_id: int, label: str, msg_id: str) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "vote", "round": round_id, "label": label, "id": msg_id}))
    while True:
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if reply["type"] in ("ack", "error") and reply.get("id") == msg_id:
            return dict(reply)


async def _a_fault_then_the_resend(hub: Hub, store: Store, rnd: Round, caplog: pytest.LogCaptureFixture,
                                   logged: str) -> None:
    """The faulty phone answered and closed 1011, the fault logged (`logged`), the others served, the resend counted."""
    first, second = sorted(rnd.labels.values())[:2]
    with caplog.at_level(logging.ERROR):
        async with client(hub, device="faulty-phone") as (ws, _):
            answer = await _vote(ws, rnd.id, first, "faulty-1")
            assert answer["type"] == "error" and answer["code"] == "unavailable", answer
            assert "will be resent" in answer["message"]
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        for _ in range(100):  # websockets logs a handler's fault once its closing handshake is over
            if any(logged in r.getMessage() and r.exc_info for r in caplog.records):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"no {logged!r} with its traceback in {[r.getMessage() for r in caplog.records]}")
    async with client(hub, device="other-phone") as (ws, _):  # the hub serves the others all along
        assert (await _vote(ws, rnd.id, second, "other-1"))["type"] == "ack"
    async with client(hub, device="faulty-phone") as (ws, _):  # the page reconnects and resends
        assert (await _vote(ws, rnd.id, first, "faulty-1"))["type"] == "ack"
        assert (await _vote(ws, rnd.id, first, "faulty-1"))["type"] == "ack"  # its ack lost: a replay
    counted = {r["device_id"]: r["label"] for r in store.votes(rnd.id)}
    assert counted == {voter(hub, "faulty-phone"): first, voter(hub, "other-phone"): second}
    recorded = [row for e in store.events(kind="votes.recorded", round_id=rnd.id) for row in e.payload["votes"]]
    assert sorted(row[2] for row in recorded) == ["faulty-1", "other-1"]  # each once in the audit log


async def test_a_fault_taking_a_vote_as_it_is_read_is_answered_closes_1011_and_the_resend_counts_once(
        store: Store, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rnd = await voting_round(director_for(store), window_s=60)
    async with running_hub(db_path) as hub:
        box = hub.inline_box
        assert box is not None
        real_offer, faults = box.offer, []

        def offer_with_a_bug(*cast: Any) -> None:
            if not faults:
                faults.append(cast)
                raise RuntimeError("a bug in the ballot box")
            real_offer(*cast)

        box.offer = offer_with_a_bug  # type: ignore[method-assign]
        await _a_fault_then_the_resend(hub, store, rnd, caplog, "closing the connection (1011)")
        assert len(faults) == 1


async def test_a_fault_in_the_handler_task_is_answered_closes_1011_and_the_resend_counts_once(
        store: Store, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The path of every vote of a node on Redis, and of a vote behind a frame still being handled.

    Here the hub's inline box is set aside, so each vote goes through `Hub._on_frame` to the ballot
    box's `post`, which raises once.
    """
    rnd = await voting_round(director_for(store), window_s=60)
    async with running_hub(db_path) as hub:
        box = hub.inline_box
        assert box is not None and hub.ballots is box
        hub.inline_box = None
        real_post, faults = box.post, []

        async def post_with_a_bug(*cast: Any) -> None:
            if not faults:
                faults.append(cast)
                raise RuntimeError("a bug in the ballot box")
            await real_post(*cast)

        box.post = post_with_a_bug  # type: ignore[method-assign]
        await _a_fault_then_the_resend(hub, store, rnd, caplog, "connection handler failed")
        assert len(faults) == 1
        assert hub.answered_inline == 0  # none took the inline path
