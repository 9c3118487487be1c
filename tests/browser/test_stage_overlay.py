"""`/stage?overlay=1` over livestream video: every piece of text readable over white and over black.

The page's own background stays transparent (the video shows through); the test puts white, then
black, behind it and computes each visible text element's contrast against its backing panels
composited over that colour (computed styles, opacity included, WCAG luminance): at least 4.5:1, in
every phase a livestream shows (idle, voting, results with the vote bars and the leaderboard, a
standings reveal, the spotlight). The layout keeps 5 % safe-area margins. Screenshots go to
artifacts/hub/stage-overlay-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from finale.director import Director
from finale.store import Store, VoteIn
from tests.browser import test_hub_browser as base
from tests.browser.stage_checks import contrasts, wait_fitted
from tests.browser.test_hub_browser import ARTIFACTS, open_page, run_async
from tests.hub_helpers import HubProcess, answered_round, set_switches

browser = base.browser
director = base.director
hub = base.hub

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]

VIDEO = {"white": "rgb(255, 255, 255)", "black": "rgb(0, 0, 0)"}


def check_contrast(page: Page, moment: str, scope: str = "#canvas") -> int:
    """Every visible text element under `scope` at 4.5:1 or more over white and over black; returns how many."""
    checked = 0
    page.wait_for_function("() => !document.getAnimations().some((a) => a.animationName === 'reveal-in'"
                           " && a.playState === 'running')")  # measured once the card has faded in
    for name, colour in VIDEO.items():
        page.evaluate(f"document.documentElement.style.backgroundColor = '{colour}'")
        page.screenshot(path=str(ARTIFACTS / f"stage-overlay-{moment}-over-{name}.png"))
        found = contrasts(page, colour, scope)
        low = [f for f in found if f["ratio"] < 4.5]
        assert found and low == [], f"{moment} over {name}: text below 4.5:1: {low}"
        checked = len(found)
    page.evaluate("document.documentElement.style.backgroundColor = ''")
    return checked


def safe_area(page: Page) -> list[str]:
    """Visible boxes outside the 5 % safe area of the 1920x1080 canvas."""
    return list(page.evaluate("""() => {
      const out = [];
      for (const n of document.querySelectorAll('#canvas *')) {
        if (n.closest('[hidden]') || !n.getClientRects().length || n.closest('.reveal')) continue;
        const r = n.getBoundingClientRect(), c = document.getElementById('canvas').getBoundingClientRect();
        const s = c.width / 1920;
        const x0 = (r.left - c.left) / s, y0 = (r.top - c.top) / s;
        const x1 = (r.right - c.left) / s, y1 = (r.bottom - c.top) / s;
        const outside = x0 < 95.5 || y0 < 53.5 || x1 > 1824.5 || y1 > 1026.5;
        if (r.width && r.height && outside) out.push(n.tagName + '#' + n.id + '.' + n.className);
      }
      return out;
    }"""))


def test_overlay_text_reads_over_white_and_black_video(browser: Browser, director: Director, store: Store,
                                                       hub: HubProcess) -> None:
    hub.start()
    stage = open_page(browser, hub.base + "/stage?overlay=1", viewport={"width": 1920, "height": 1080})
    page = stage.page
    expect(page.locator("#status")).to_have_text("Connected")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"
    expect(page.locator("#idle-title")).to_be_visible()
    counted = {"idle": check_contrast(page, "idle")}
    assert safe_area(page) == []

    rnd = run_async(lambda: answered_round(director, "fermi"))
    director.open_poll(rnd.id, 300)
    store.record_votes([VoteIn(rnd.id, f"phone-{n:04d}", sorted(rnd.labels.values())[n % 5], None,
                               (rnd.vote_opened_at or 0) + 1) for n in range(40)])
    wait_fitted(page, 5)
    expect(page.locator("#vote-count")).to_have_text("40 votes")
    counted["voting"] = check_contrast(page, "voting")
    assert safe_area(page) == []

    director.close_poll(rnd.id)
    expect(page.locator("#bars")).to_be_visible()
    expect(page.locator("#reveal")).to_be_visible()  # who was who, at the close
    counted["who-was-who"] = check_contrast(page, "who-was-who", "#reveal")
    expect(page.locator("#reveal")).to_be_hidden(timeout=15_000)
    set_switches(store, reveal_step=2)
    expect(page.locator("#board tr.masked")).to_have_count(3)
    expect(page.locator("#reveal")).to_be_visible()  # (no round is final: everyone is tied first)
    expect(page.locator("#reveal-moment")).to_have_text("Standings so far")
    counted["place-reveal"] = check_contrast(page, "place-reveal", "#reveal")
    set_switches(store, reveal_step=0)
    expect(page.locator("#reveal")).to_be_hidden()
    counted["results"] = check_contrast(page, "results")
    assert safe_area(page) == []

    director.spotlight(sorted(rnd.labels.values())[0])
    expect(page.locator("#spotlight")).to_be_visible()
    counted["spotlight"] = check_contrast(page, "spotlight", "#spotlight")
    assert all(n > 0 for n in counted.values()), counted
    assert counted["voting"] >= 12 and counted["results"] >= 30, counted  # answers, bars, board all measured
    stage.clean()
