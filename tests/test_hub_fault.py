"""A fault (a bug) while the hub takes a vote: the vote is answered, the connection closes 1011, the resend counts.

The fault is injected: the ballot box's `offer` raises once, as a bug there would. Everything else
is real (the hub in this loop, websockets clients, the store). What must hold: the phone is never
left waiting for an answer (the frames behind a vote wait for it), it is told `unavailable` (the
page resends), its connection is closed 1011 so the page reconnects, the other phones are served
meanwhile, and the resent vote is counted once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from finale.store import Store
from tests.hub_helpers import client, director_for, running_hub, voter, voting_round


async def _vote(ws: Any, round_id: int, label: str, msg_id: str) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "vote", "round": round_id, "label": label, "id": msg_id}))
    while True:
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if reply["type"] in ("ack", "error") and reply.get("id") == msg_id:
            return dict(reply)


async def test_a_fault_taking_a_vote_is_answered_closes_1011_and_the_resend_counts_once(
        store: Store, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rnd = await voting_round(director_for(store), window_s=60)
    first, second = sorted(rnd.labels.values())[:2]
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
        with caplog.at_level(logging.ERROR, logger="finale.hub"):
            async with client(hub, device="faulty-phone") as (ws, _):
                answer = await _vote(ws, rnd.id, first, "faulty-1")
                assert answer["type"] == "error" and answer["code"] == "unavailable", answer
                assert "will be resent" in answer["message"]
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        await asyncio.wait_for(ws.recv(), 5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        assert len(faults) == 1
        assert any("closing the connection (1011)" in r.getMessage() for r in caplog.records)
        async with client(hub, device="other-phone") as (ws, _):  # the hub serves the others all along
            assert (await _vote(ws, rnd.id, second, "other-1"))["type"] == "ack"
        async with client(hub, device="faulty-phone") as (ws, _):  # the page reconnects and resends
            assert (await _vote(ws, rnd.id, first, "faulty-1"))["type"] == "ack"
            assert (await _vote(ws, rnd.id, first, "faulty-1"))["type"] == "ack"  # its ack lost: a replay
        counted = {r["device_id"]: r["label"] for r in store.votes(rnd.id)}
        assert counted == {voter(hub, "faulty-phone"): first, voter(hub, "other-phone"): second}
    recorded = [row for e in store.events(kind="votes.recorded", round_id=rnd.id) for row in e.payload["votes"]]
    assert sorted(row[2] for row in recorded) == ["faulty-1", "other-1"]  # each once in the audit log
