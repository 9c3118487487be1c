"""Broadcasting a state change to hundreds of phones: everyone gets it, the loop never stalls long."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

from finale.store import Store
from tests.hub_helpers import director_for, recv_type, running_hub, voting_round, ws_url

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
PHONES = 400


@pytest.mark.serial  # it measures wall-clock time: run alone, not beside the other worker
async def test_a_state_change_reaches_every_phone_in_short_slices(store: Store, db_path: Path) -> None:
    director = director_for(store)
    rnd = await voting_round(director)
    async with running_hub(db_path) as hub, AsyncExitStack() as stack:
        phones: list[ClientConnection] = []
        for i in range(PHONES):
            ws = await stack.enter_async_context(connect(ws_url(hub), max_size=2**20))
            await ws.send(json.dumps({"type": "hello", "role": "audience", "device_id": f"phone-{i:05d}"}))
            phones.append(ws)
        await asyncio.gather(*(recv_type(ws, "state") for ws in phones))
        started = time.perf_counter()
        await asyncio.to_thread(director.close_poll, rnd.id)
        states = await asyncio.gather(*(recv_type(ws, "state", timeout=10) for ws in phones))
        elapsed = time.perf_counter() - started
        assert all(s["phase"] == "closed" for s in states)
        assert hub.longest_broadcast_slice_s < 0.010, f"{hub.longest_broadcast_slice_s * 1000:.1f} ms"
        assert elapsed < 3.0, f"{PHONES} phones took {elapsed:.2f}s"
