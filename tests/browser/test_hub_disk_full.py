"""Must show #3: the disk fills up while a real Chromium phone votes.

The event database sits on a small tmpfs mounted by the test (root only: skipped with the reason
otherwise), the rest of it taken by a file. The phone's vote is refused `unavailable`; the page
keeps it (and says so) and resends it; /healthz is not ok with the reason and the console's view of
the hub (check_hub, the header line) shows it red; once the filler is deleted the resent vote is
acknowledged and stored, once, and the vote acknowledged before the disk filled is still there.
Before, the page dropped the vote on the first refusal and the hub said `ok: true`.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from finale.store import Store
from finale.tui.hub import check_hub
from tests.drills.hub import voting_db
from tests.full_disk import FULL, fill_disk, small_disk
from tests.hub_helpers import HubProcess, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]
__all__ = ["small_disk"]  # the fixture (tests/full_disk.py)


def _health(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as resp:
        return dict(json.loads(resp.read()))


def test_a_phone_keeps_its_vote_through_a_full_disk_and_it_is_stored_once_space_returns(
        browser: Browser, small_disk: Path, tmp_path: Path) -> None:
    db = small_disk / "event.db"
    round_id, labels = voting_db(db)
    hub = HubProcess(db, free_port(), tmp_path / "hub.log")  # the log is elsewhere: only the database's disk fills
    hub.start()
    try:
        early = browser.new_context().new_page()
        early.goto(hub.base + "/")
        early.locator(f"button.vote[data-label='{labels[1]}']").click()
        expect(early.locator("#notice")).to_have_text(f"Vote received: {labels[1]} ✓")

        phone = browser.new_context().new_page()
        phone.goto(hub.base + "/")
        expect(phone.locator("button.vote").first).to_be_enabled()
        filler = fill_disk(small_disk)
        phone.locator(f"button.vote[data-label='{labels[0]}']").click()
        notice = phone.locator("#notice")
        expect(notice).to_contain_text(f"Your vote for {labels[0]} is not stored yet", timeout=10_000)
        expect(notice).to_contain_text("this phone keeps it and resends it")
        pending = json.loads(phone.evaluate("localStorage.getItem('finale.pendingVote')"))
        assert (pending["round"], pending["label"]) == (round_id, labels[0])

        health = _health(hub.base)
        assert health["ok"] is False and health["problems"] == [FULL], health
        status = check_hub(hub.base)
        assert (status.state, status.problem) == ("failing", FULL)
        assert status.alarm and status.label.startswith(f"hub: FAILING: {FULL}")  # the header's words, red
        deadline = time.monotonic() + 20
        while _health(hub.base)["failing"]["votes"]["refused"] < 3:  # the page resends on its own, backing off
            assert time.monotonic() < deadline, "the page stopped resending"
            time.sleep(0.2)
        with Store(db) as store:
            assert pending["id"] not in [v["client_msg_id"] for v in store.votes(round_id)], "not stored yet"

        filler.unlink()  # space returns
        expect(notice).to_have_text(f"Vote received: {labels[0]} ✓", timeout=30_000)
        assert phone.evaluate("localStorage.getItem('finale.pendingVote')") is None
        assert _health(hub.base)["ok"] is True
    finally:
        hub.stop()
    with Store(db) as store:
        ids = sorted(v["client_msg_id"] for v in store.votes(round_id))
    assert len(ids) == 2 and pending["id"] in ids, "the resent vote once, and the early vote kept"
    log = hub.log_path.read_text()
    assert 1 <= log.count(FULL) <= 2 and "votes are stored again" in log, "a line per 10 s, not per resend"
