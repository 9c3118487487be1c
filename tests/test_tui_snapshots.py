"""Snapshots of the console's main screens at 120x40, on a database built deterministically.

Fixed seed, fixed clock (injected into the app and the Director), fixed answer timings, UTC,
no cursor blink: the same SVG every run. Update with `pytest tests/test_tui_snapshots.py --snapshot-update`
after checking the change by eye.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from finale.demo import DEMO_EVENT
from finale.tui.app import FinaleApp, create_app
from tests.tui_support import T0, build_show, wait_until

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def show_app(tmp_path: Path) -> FinaleApp:
    db = tmp_path / "snap.db"
    build_show(db)
    return create_app(db, DEMO_EVENT, seed=7, time_scale=0, clock=lambda: T0 + 12, cursor_blink=False,
                      operator="Alex")  # the person at the console, named in the header (not the login name)


def _after(app: FinaleApp, *keys: str):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await pilot.press(*keys)
        await pilot.pause(0.3)
    return run_before


def test_show_screen(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "1"))


def test_round_screen_labels(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "2"))


def test_round_screen_names_and_reference(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "2", "m", "f"))


def test_judging_screen_with_failed_judgment(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "3"))


def test_panel_screen(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "4"))


def test_voting_screen(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "5"))


def test_standings_screen(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "6"))


def test_standings_screen_browsing_round_one(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "6", "left_square_bracket"))


def test_override_dialog(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    keys = ("3", "h", *"72", "tab", *"Judge failed; scored by hand from the rubric", "enter")
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, *keys))


def test_panel_grid_dialog(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    """Sam Okafor (the first panelist with answers to score) half-way through typing round 2's grid."""
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "4", "i", *"79810"))


def test_waive_dialog(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "6", "w", *"Lena is ill"))


def test_standings_screen_at_100x30(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    """The smallest terminal the console is made for: the next-step line wraps, nothing is cut."""
    assert snap_compare(show_app, terminal_size=(100, 30), run_before=_after(show_app, "6"))
