"""A console screen ticked, fed a store change or a worker's read before its widgets are mounted paints nothing.

The app's clock ticks the front screen twice a second; a mode switch pushes the new screen
before Textual has mounted what it composes, so on a loaded machine a tick can land in between
(it did once in CI: `NoMatches: '#integrity-discounts'`). Each screen is ticked in that window here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from finale.demo import DEMO_EVENT
from finale.tui.app import FinaleApp, create_app
from finale.tui.screens.base import ConsoleScreen
from tests.tui_support import wait_until

FIRST = "show"  # a fresh show opens here, so its screen is composed before the test can switch to it
MODES = sorted(m for m, screen in FinaleApp.MODES.items() if isinstance(screen, type)
               and issubclass(screen, ConsoleScreen) and m != FIRST)


@pytest.mark.parametrize("mode", MODES)
async def test_a_tick_between_a_screens_push_and_its_compose_is_harmless(tmp_path: Path, mode: str) -> None:
    app = create_app(tmp_path / "race.db", DEMO_EVENT, seed=7, time_scale=0, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        assert app.current_mode == FIRST
        switching = app.switch_mode(mode)  # pushed, not yet composed
        screen = app.screen
        assert isinstance(screen, ConsoleScreen) and not screen.composed, "the window this test is about"
        screen.tick()
        screen.refresh_view()
        app._tick()
        await switching
        await wait_until(pilot, lambda: screen.composed, "the screen composed")
        screen.tick()
        assert app.current_mode == mode and app.screen is screen
