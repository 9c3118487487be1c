"""Reflow (WCAG 1.4.10): the phone, judge and finalist pages at 320 CSS px wide and at 200 % zoom never
scroll sideways, in real Chromium against `finale hub`; their controls keep 44 px tap targets there too.

200 % zoom of a 1280 x 800 window is a 640 x 400 CSS px layout (Chromium's zoom divides the CSS viewport),
so it is driven as that viewport with a device scale factor of 2.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from finale.director import Director
from finale.store import Store
from tests.browser import test_hub_browser as base
from tests.browser.test_a11y_pages import assert_tap_targets
from tests.browser.test_hub_browser import open_page, run_async
from tests.hub_helpers import HubProcess, answered_round, plant_answer

browser = base.browser
director = base.director
hub = base.hub

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

SIZES: dict[str, dict[str, Any]] = {"320 px": {"viewport": {"width": 320, "height": 640}},
         "200 % zoom": {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2}}
UNBROKEN = "x" * 300  # one 300-character word from a model: it must wrap, not widen the page


def sideways(page: Page) -> dict[str, int]:
    return dict(page.evaluate("({scroll: document.documentElement.scrollWidth, "
                              "view: document.documentElement.clientWidth})"))


@pytest.mark.parametrize("size", list(SIZES))
def test_pages_reflow_without_sideways_scrolling(
        size: str, browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    rnd = run_async(lambda: answered_round(director))
    plant_answer(store, rnd.id, "ray", UNBROKEN)
    director.open_poll(rnd.id, 300)
    hub.start()
    pages = {"/": "button.vote", f"/judge/{store.tokens('panelists')['panel-1']}": "form.scores button",
             f"/finalist/{store.tokens('finalists')['ray']}": "#save"}
    for lang in ("en-US", "de-DE", "ja-JP"):  # German runs long, Japanese does not break at spaces
        for path, control in pages.items():
            opened = open_page(browser, hub.base + path, locale=lang, **SIZES[size])
            page = opened.page
            expect(page.locator("#status")).to_have_attribute("data-status", "connected")
            expect(page.locator(control).first).to_be_visible()
            width = sideways(page)
            assert width["scroll"] <= width["view"], f"{path} at {size} in {lang} scrolls sideways: {width}"
            assert_tap_targets(page, f"{path} at {size} in {lang}")
            opened.clean()
