"""A judge's page in real Chromium while another client from the same address misbehaves.

Must show #4: the page keeps working (loads, connects, saves) while another client from
127.0.0.1 tries 100 wrong links; before, ten wrong links made every judge and finalist page
behind the address say "This link is not valid" and stop reconnecting for good. And a page
whose hello is rate limited says so and retries until it gets in.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from finale.config import load_event
from finale.demo import DEMO_EVENT
from finale.store import Store
from tests.drills.hub import voting_db, with_hub_limits
from tests.hub_helpers import HubProcess, free_port, http_status

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]


def _wrong_links(hub: HubProcess, count: int, answers: list[object]) -> None:
    """`count` wrong private links from this address: pages and WebSocket hellos, alternately."""
    for n in range(count):
        if n % 2:
            answers.append(http_status(f"{hub.base}/judge/wrong-{n:03d}-{'x' * 18}"))
            continue
        with connect(f"ws://127.0.0.1:{hub.port}/ws", open_timeout=10) as ws:
            ws.send(json.dumps({"type": "hello", "role": "judge", "device_id": "guesser-01", "token": f"guess-{n}"}))
            answers.append(json.loads(ws.recv(10))["code"])


def _save(page: Page, label: str, value: str) -> None:
    form = page.locator(f"form[data-label='{label}']")
    for crit in ("generalization", "quality", "efficiency"):
        form.get_by_label(crit).fill(value)
    form.get_by_role("button").click()
    expect(page.locator("#notice")).to_have_text(f"Saved scores for answer {label}.")


def test_a_judge_page_keeps_working_while_the_same_address_tries_100_wrong_links(
        browser: Browser, tmp_path: Path) -> None:
    db = tmp_path / "event.db"
    round_id, labels = voting_db(db)
    with Store(db) as store:
        token = store.tokens("panelists")["panel-1"]
    hub = HubProcess(db, free_port(), tmp_path / "hub.log")
    hub.start()
    try:
        page = browser.new_context().new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{hub.base}/judge/{token}")
        expect(page.locator("#status")).to_have_attribute("data-status", "connected")
        answers: list[object] = []
        guesser = threading.Thread(target=_wrong_links, args=(hub, 100, answers))
        guesser.start()
        _save(page, labels[0], "6")  # while the guesses run
        guesser.join(60)
        assert len(answers) == 100 and answers[:10] == [404 if n % 2 else "bad_token" for n in range(10)]
        assert set(answers[10:]) == {429, "rate_limited"}, "the guesser is refused, not the judge"
        response = page.reload()  # a page opened now, behind the same address, loads, connects and saves
        assert response is not None and response.status == 200
        expect(page.locator("#status")).to_have_attribute("data-status", "connected")
        _save(page, labels[1], "8")
        expect(page.locator("#status")).not_to_have_text("This link is not valid")
        assert errors == []
    finally:
        hub.stop()
    with Store(db) as store:
        assert {s.finalist_id for s in store.panel_scores(round_id) if s.panelist_id == "panel-1"} == {
            fid for fid, label in store.round(round_id).labels.items() if label in labels[:2]}
    log = hub.log_path.read_text()
    assert token not in log and "guess-" not in log and "Traceback" not in log


def _flood(hub: HubProcess, stop: threading.Event) -> None:
    """Pings from this address on fresh connections (each a fresh device allowance), four at a time."""
    from websockets.asyncio.client import connect as async_connect

    async def one() -> None:
        while not stop.is_set():
            try:
                async with async_connect(f"ws://127.0.0.1:{hub.port}/ws", open_timeout=10) as ws:
                    for _ in range(15):
                        await ws.send('{"type": "ping", "t": 1}')
                    ws.transport.abort()
            except (ConnectionClosed, InvalidStatus, OSError, TimeoutError):
                pass

    async def all_of_them() -> None:
        await asyncio.gather(*(one() for _ in range(4)))

    asyncio.run(all_of_them())


def test_a_rate_limited_page_says_so_and_gets_in_once_the_flood_stops(browser: Browser, tmp_path: Path) -> None:
    db = tmp_path / "event.db"
    voting_db(db, config=with_hub_limits(load_event(DEMO_EVENT), ip_messages_per_s=0.25))  # one per 4 s
    with Store(db) as store:
        token = store.tokens("finalists")["kai"]
    hub = HubProcess(db, free_port(), tmp_path / "hub.log")
    hub.start()
    stop = threading.Event()
    flooder = threading.Thread(target=_flood, args=(hub, stop))
    try:
        flooder.start()
        page = browser.new_context().new_page()
        page.goto(f"{hub.base}/finalist/{token}")
        status = page.locator("#status")
        expect(status).to_have_attribute("data-status", "limited", timeout=15_000)
        expect(status).to_have_text("Too many tries from this network: retrying shortly…")
        stop.set()
        flooder.join(30)
        expect(status).to_have_attribute("data-status", "connected", timeout=20_000)
        expect(page.locator("#you")).to_have_text("Kai")
    finally:
        stop.set()
        hub.stop()
