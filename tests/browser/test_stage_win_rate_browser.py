"""The stage's optional "Beat the 90B: ..." line in Chromium: hidden until the round is revealed, then the rates."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Browser, expect

from finale.config import EventConfig
from finale.core.headtohead import win_rates
from finale.demo import DEMO_EVENT
from finale.director import Director, build_endpoints
from finale.store import Store
from tests.browser import test_hub_browser as base
from tests.browser.test_hub_browser import open_page
from tests.hub_helpers import HubProcess

browser = base.browser
hub = base.hub

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_the_stage_shows_who_beat_the_reference_once_the_round_is_revealed(
        browser: Browser, store: Store, hub: HubProcess, demo_config: EventConfig) -> None:
    assert demo_config.reference is not None
    config = demo_config.model_copy(update={"reference": demo_config.reference.model_copy(
        update={"short_name": "90B", "stage_win_rate": True})})
    store.setup_event(config)
    hub.start()
    stage = open_page(browser, hub.base + "/stage", viewport={"width": 1920, "height": 1080})
    page = stage.page
    expect(page.locator("#status")).to_have_text("Connected")
    expect(page.locator("#board-h2h")).to_be_hidden()

    director = Director(store, build_endpoints(config, DEMO_EVENT.parent, time_scale=0))
    rnd = director.new_round("capital", seed=11)

    async def ask_and_judge() -> None:
        await director.ask(rnd.id)
        await director.judge(rnd.id)
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        pool.submit(asyncio.run, ask_and_judge()).result()
    director.open_poll(rnd.id)
    expect(page.locator("#board-h2h")).to_be_hidden()  # labels not revealed yet: no rate by name
    director.close_poll(rnd.id)  # the demo reveals who was who at the close
    rates = win_rates(store.records(), store.event().finalist_ids)
    names = {f.id: f.name for f in config.finalists}
    shown = "Beat the 90B: " + " · ".join(f"{names[fid]} {r.wins} of {r.judged}" for fid, r in rates.items())
    expect(page.locator("#board-h2h")).to_have_text(shown)
    assert stage.errors == []
