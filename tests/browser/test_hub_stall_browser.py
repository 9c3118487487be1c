"""The real vote page through a stalled hub that its supervisor replaces after the close (issue 11).

A Chromium phone taps a vote 3 s before the close into a hub stopped with SIGSTOP; the console closes
the poll on time; the supervisor sees the hub stop answering /healthz, kills it and starts another.
The page reconnects, sees the closed poll, and resends its unacknowledged vote with the same message
id and its cast time (audience.js: castBeforeClose): the new hub counts it within the grace, the page
says "Vote received". Real `finale hub` processes on 127.0.0.1; the stopped hub is continued or killed.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from finale.store import Store
from finale.supervisor import HubSupervisor
from tests.drills.hub import judged_db, wait_until
from tests.hub_helpers import director_for, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]  # `browser`: tests/browser/conftest.py
POLL_S = 12.0


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def test_the_page_resends_its_vote_to_the_restarted_hub_after_the_close_and_it_counts(
        browser: Browser, db_path: Path, tmp_path: Path) -> None:
    round_id, labels = judged_db(db_path)
    port, log = free_port(), tmp_path / "hub.log"
    sup = HubSupervisor(db_path, "127.0.0.1", port, f"http://127.0.0.1:{port}", log, min_backoff_s=0.1,
                        max_backoff_s=0.5, health_interval_s=0.5, health_misses=6)
    sup.start()
    first: int | None = None
    try:
        assert sup.wait_ready(30), log.read_text()[-2000:]
        first = sup.pid
        assert first is not None and wait_until(lambda: sup.health.last_body is not None, 10)
        page = browser.new_context().new_page()
        page.goto(sup.url + "/")
        with Store(db_path) as store:
            deadline = director_for(store).open_poll(round_id, POLL_S).vote_deadline
        assert deadline is not None
        button = page.locator(f"button.vote[data-label='{labels[0]}']")
        expect(button).to_be_enabled(timeout=5_000)
        _sleep_until(deadline - 3.5)
        os.kill(first, signal.SIGSTOP)
        _sleep_until(deadline - 3.0)
        button.click()
        pending = json.loads(page.evaluate("localStorage.getItem('finale.pendingVote')"))
        assert pending["cast_at"] < deadline - 2.5, pending
        _sleep_until(deadline + 0.5)
        with Store(db_path) as store:
            director_for(store).close_poll(round_id)
        expect(page.locator("#notice")).to_have_text(f"Vote received: {labels[0]} ✓", timeout=40_000)
        assert sup.pid not in (None, first) and sup.restarts == 1
        assert page.evaluate("localStorage.getItem('finale.pendingVote')") is None
    finally:
        if first is not None and sup.pid == first:
            os.kill(first, signal.SIGCONT)
        sup.stop()
    with Store(db_path) as store:
        rows = store.votes(round_id)
    assert [(r["client_msg_id"], r["label"]) for r in rows] == [(pending["id"], labels[0])], "counted, once"
    assert float(rows[0]["cast_at"]) > deadline, "read by the new hub after the close"
    assert "did not answer /healthz 6 times in a row" in log.read_text()
