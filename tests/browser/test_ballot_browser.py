"""Ballot stuffing from real Chromium: one laptop opening the vote page in fresh contexts (storage cleared
each time) gets at most the configured number of votes counted; the page says why the rest were not.

`finale hub` runs as its own process; every context connects from 127.0.0.1, one address, as one laptop
on the venue network would. A real phone keeps its credential in localStorage across reloads.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from finale.store import Store
from tests.hub_helpers import HubProcess, director_for, free_port, voting_round

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

TRIES = 8


def _open_poll(store: Store) -> int:
    box: dict[str, int] = {}
    thread = threading.Thread(target=lambda: box.update(id=asyncio.run(voting_round(director_for(store), 600)).id))
    thread.start()
    thread.join(60)
    return box["id"]


def test_fresh_browser_contexts_from_one_address_get_at_most_the_configured_votes(
        browser: Browser, store: Store, db_path: Path, tmp_path: Path) -> None:
    round_id = _open_poll(store)
    policy = store.event().ballot
    label = sorted(store.round(round_id).labels.values())[0]
    hub = HubProcess(db_path, free_port(), tmp_path / "hub.log")
    hub.start()
    notices: list[str] = []
    issued: list[bool] = []
    started = time.monotonic()
    try:
        for i in range(TRIES):
            context = browser.new_context()  # fresh storage: a new identity, as a script clearing it would
            page = context.new_page()
            page.goto(hub.base + "/")
            expect(page.locator("#status")).to_have_text("Connected")
            button = page.locator(f"button.vote[data-label='{label}']")
            expect(button).to_be_enabled()
            button.click()
            notice = page.locator("#notice")
            expect(notice).not_to_have_text("")
            expect(notice).not_to_contain_text("Sending")
            notices.append(notice.inner_text())
            stored = dict(page.evaluate("() => Object.entries(localStorage)"))
            issued.append("finale.credential" in stored)
            if i == 0:  # a reload keeps the credential: the same voter, its vote shown
                page.reload()
                expect(page.locator("#status")).to_have_text("Connected")
                expect(button).to_have_attribute("aria-pressed", "true")
                assert page.evaluate("localStorage.getItem('finale.credential')") == stored["finale.credential"]
            page.evaluate("() => localStorage.clear()")  # and the storage is cleared for good measure
            context.close()
    finally:
        hub.stop()
    allowance = policy.credentials_per_address_per_min
    refilled = (time.monotonic() - started) * allowance / 60  # the allowance refills over the minute
    assert all(issued[:allowance]) and sum(issued) <= allowance + refilled, (issued, refilled)
    counted = [n for n in notices if n.startswith("Vote received")]
    assert len(counted) == policy.devices_per_address, notices
    assert len(store.votes(round_id)) == policy.devices_per_address
    assert any("phones from your network have already voted" in n for n in notices), notices
    assert any("no voter credential" in n and "too many new phones" in n for n in notices), notices
