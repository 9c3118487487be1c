"""Freeze means frozen for everyone: a stage page loaded during a freeze shows the frozen picture.

A projector browser that refreshes, an OBS source reloaded, a second screen opened: each gets the
leaderboard as it stood when the MC froze the stage, not the live one, from a real `finale hub`
process; phones are never frozen; the unfreeze brings every stage to the live show.
Screenshots: artifacts/hub/stage-freeze-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from finale.director import Director
from finale.store import Store
from tests.browser import test_hub_browser as base
from tests.browser.test_hub_browser import ARTIFACTS, open_page, run_async
from tests.hub_helpers import HubProcess
from tests.test_show_moments import final_round

browser = base.browser
director = base.director
hub = base.hub

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]

FULL_HD = {"width": 1920, "height": 1080}


def board(page: Page) -> list[str]:
    """The leaderboard's rows as the page shows them."""
    rows = page.locator("#board tr")
    expect(rows).to_have_count(5)
    return [" ".join(rows.nth(i).locator("td").all_inner_texts()) for i in range(5)]


def test_a_stage_opened_during_a_freeze_shows_the_frozen_leaderboard(browser: Browser, director: Director,
                                                                      store: Store, hub: HubProcess) -> None:
    run_async(lambda: final_round(director, "capital", seed=3))
    hub.start()
    projector = open_page(browser, hub.base + "/stage", viewport=FULL_HD)
    expect(projector.page.locator("#phase")).to_have_text("final")
    at_freeze = board(projector.page)
    director.toggle_freeze()
    run_async(lambda: final_round(director, "haiku", seed=4))  # the show goes on: round 2 moves the standings
    live_totals = sorted(round(s.total, 1) for s in director.standings())

    obs = open_page(browser, hub.base + "/stage?overlay=1", viewport=FULL_HD)  # a source added mid-freeze
    projector.page.reload()  # the projector's browser refreshes
    for page in (obs.page, projector.page):
        expect(page.locator("#status")).to_have_text("Connected")
        expect(page.locator("#round-no")).to_have_text("1")
        assert board(page) == at_freeze, "the frozen leaderboard, not the live one"
    projector.page.screenshot(path=str(ARTIFACTS / "stage-freeze-reloaded.png"))
    shown = sorted(float(t) for t in projector.page.locator("#board td.total").all_inner_texts())
    assert shown != live_totals, "round 2's points are not on a frozen stage"

    phone = open_page(browser, hub.base + "/", viewport={"width": 390, "height": 844}, is_mobile=True)
    expect(phone.page.locator("#round-no")).to_have_text("2")  # phones are never frozen

    director.toggle_freeze()
    for page in (obs.page, projector.page):
        expect(page.locator("#round-no")).to_have_text("2")
        expect(page.locator("#board tr").first.locator("td.total")).to_have_text(f"{max(live_totals):.1f}")
    projector.page.screenshot(path=str(ARTIFACTS / "stage-freeze-released.png"))
    for watched in (projector, obs, phone):
        watched.clean()
