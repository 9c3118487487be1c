"""A vote storm (2,000 votes a second from another process, as the hub writes them) while the MC types.

Every key must be handled in order and the screen must end up showing what the database holds.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from finale.demo import DEMO_EVENT
from finale.store import Store
from finale.tui.app import create_app
from tests.tui_support import T0, build_show, wait_until

RATE = 2000
SECONDS = 120.0  # an upper bound: the writer is stopped once the keys are done
TYPED = "Unseen question typed during the storm: what would you cache first, and why? 0123456789 ~!@#$%^&*()"


@pytest.mark.slow
@pytest.mark.serial  # it measures the writer's and the console's rates: run alone, not beside the other worker
async def test_vote_storm_never_drops_or_reorders_keys(tmp_path: Path) -> None:
    db = tmp_path / "storm.db"
    await asyncio.to_thread(build_show, db)  # round 2 is open for voting
    app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, clock=lambda: T0 + 12, cursor_blink=False)
    writer = subprocess.Popen([sys.executable, "-m", "tests.tui_support", "storm", str(db), "2", str(RATE),
                               str(SECONDS)], stdout=subprocess.DEVNULL, cwd=Path(__file__).parent.parent)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.total_votes > 500,
                             "the storm to reach the console")
            started, refreshes_before = time.monotonic(), app.refreshes
            # Type a long prompt into the ad-hoc field: every character, in order.
            await pilot.press("1", "a", *TYPED)
            assert app.screen.query_one("#adhoc", Input).value == TYPED
            await pilot.press("escape")
            # Toggle names 41 times on the voting screen: the last state must be "names shown".
            await pilot.press("5", *["m"] * 41)
            assert app.show_names is True
            # Walk every screen three times; each key lands on its screen.
            for _ in range(3):
                for key, mode in zip("1234567", ("show", "round", "judging", "panel", "voting", "standings",
                                                 "audit"), strict=True):
                    await pilot.press(key)
                    assert app.current_mode == mode
            # Filter the audit log while votes pour in.
            await pilot.press("slash", *"poll.*")
            assert app.screen.query_one("#kind-filter", Input).value == "poll.*"
            await pilot.press("escape", "5")
            assert writer.poll() is None, "the storm must still be blowing when the last key is pressed"
            storm_s = time.monotonic() - started
            rate = (app.refreshes - refreshes_before) / storm_s
            assert rate <= 11, f"{rate:.1f} store refreshes a second; the batching allows about 10"
            writer.terminate()
            writer.wait(timeout=10)
            with Store(db) as store:
                in_db = sum(store.vote_counts(2).values())
                first, last = store.db.execute(
                    "SELECT MIN(cast_at), MAX(cast_at) FROM votes WHERE device_id LIKE 'storm-%'").fetchone()
            storm_rate = (in_db - 87) / (last - first)
            assert storm_rate >= RATE * 0.9, f"the writer managed only {storm_rate:.0f} votes a second"
            await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.total_votes == in_db,
                             "the console to catch up with the database")
            await pilot.pause(0.3)
            turnout = str(app.screen.query_one("#turnout", Static).render())
            assert f"Votes this round: {in_db}" in turnout
            bars = str(app.screen.query_one("#bars", Static).render())
            assert "Ray" in bars  # names shown, as the 41st toggle left them
    finally:
        if writer.poll() is None:
            writer.kill()
