"""Failures are loud: a hub that cannot store votes says so on /healthz, in its log and on the console.

Before: with the disk full every vote was refused (rightly) but the hub logged nothing, /healthz said
`ok: true` and the console said `hub: up`. Here the event database sits on a small tmpfs mounted by
the test (root only; skipped with the reason otherwise), filled by a file: votes are refused
`unavailable`, /healthz is not ok with the reason, the log gets one line per interval (not one per
vote), the console's header turns red with the reason (Pilot, against that hub), and once the filler
is deleted the resent votes are stored; nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from pathlib import Path

import pytest

from audience.health import WriteHealth
from finale.demo import DEMO_EVENT
from finale.director import build_endpoints
from finale.store import Store
from finale.tui.app import FinaleApp
from finale.tui.hub import HubStatus, check_hub
from finale.tui.widgets.header import header_text
from tests.drills.hub import voting_db
from tests.full_disk import FULL, fill_disk, small_disk
from tests.hub_helpers import client, recv_type, running_hub
from tests.tui_support import wait_until

pytestmark = pytest.mark.timeout(120)
__all__ = ["small_disk"]  # the fixture


def test_write_failures_are_logged_once_per_interval_and_clear_on_the_next_success(
        caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    health = WriteHealth(log_interval_s=10, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="finale.hub")
    full = sqlite3.OperationalError("database or disk is full")  # what SQLite raises on a full disk
    for n in range(250):  # a vote every 0.1 s for 25 s
        now[0] = n / 10
        health.failed("votes", full)
    now[0] = 25.0
    assert health.problems() == [FULL]
    assert health.report()["votes"]["refused"] == 250
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines  # at the start, after 10 s, after 20 s: not 250
    assert lines[0].startswith(FULL) and "said once per 10 s" in lines[0]
    assert "100 refused in the last 10 s" in lines[1]
    health.stored("votes")
    assert health.problems() == []
    assert "votes are stored again after 25 s (250 refused" in caplog.records[-1].getMessage()


def _vote(rnd: int, label: str, mid: str) -> str:
    return json.dumps({"type": "vote", "round": rnd, "label": label, "id": mid})


async def test_a_full_disk_turns_healthz_and_the_console_red_and_resent_votes_are_stored(
        small_disk: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = small_disk / "event.db"
    round_id, labels = await asyncio.to_thread(voting_db, db)
    store = Store(db)
    config = store.event_config()
    app = FinaleApp(store, build_endpoints(config, DEMO_EVENT.parent, time_scale=0), hub_interval=0.2)
    caplog.set_level(logging.INFO, logger="finale.hub")
    async with running_hub(db) as hub:
        url = f"http://127.0.0.1:{hub.port}"
        app.use_hub(url)
        async with app.run_test(size=(160, 40)) as pilot, client(hub, device="phone-before") as (first, _):
            await first.send(_vote(round_id, labels[0], "before"))
            assert (await recv_type(first, "ack"))["id"] == "before"
            await wait_until(pilot, lambda: app.hub_status.state == "up", "hub: up")
            filler = await asyncio.to_thread(fill_disk, small_disk)

            async with contextlib.AsyncExitStack() as stack:
                opened = [await stack.enter_async_context(client(hub, device=f"phone-full-{n:02d}"))
                          for n in range(20)]
                for n, (ws, _) in enumerate(opened):
                    await ws.send(_vote(round_id, labels[n % len(labels)], f"v{n}"))
                refusals = [await recv_type(ws, "error") for ws, _ in opened]
                assert {(r["code"], r["id"]) for r in refusals} == {("unavailable", f"v{n}") for n in range(20)}
                health = hub.health()
                assert health["ok"] is False and health["problems"] == [FULL], health
                assert health["failing"]["votes"]["refused"] == 20
                status = await asyncio.to_thread(check_hub, url)
                assert status == HubStatus("failing", 21, url, problem=FULL)
                await wait_until(pilot, lambda: app.hub_status.state == "failing", "the console sees it")
                line = header_text(app.snapshot, app.hub_status, 0)
                assert f"hub: FAILING: {FULL} · 21 phones" in line.plain
                [span] = [s for s in line.spans if line.plain[s.start:s.end].startswith("hub: FAILING")]
                assert "on red" in str(span.style)
                logged = [r for r in caplog.records if FULL in r.getMessage()]
                assert len(logged) == 1, "one line per interval, not one per vote"

                filler.unlink()  # space returns: the pages resend (same ids), the hub stores them
                for n, (ws, _) in enumerate(opened):
                    await ws.send(_vote(round_id, labels[n % len(labels)], f"v{n}"))
                acks = [await recv_type(ws, "ack") for ws, _ in opened]
                assert [a["id"] for a in acks] == [f"v{n}" for n in range(20)]
                assert hub.health()["ok"] is True and hub.health()["problems"] == []
                await wait_until(pilot, lambda: app.hub_status.state == "up", "the console sees it recover")
    store.close()
    assert any("votes are stored again" in r.getMessage() for r in caplog.records)
    with Store(db) as check:
        stored = sorted(v["client_msg_id"] for v in check.votes(round_id))
    assert stored == sorted(["before", *(f"v{n}" for n in range(20))]), "every acknowledged vote, each once"
