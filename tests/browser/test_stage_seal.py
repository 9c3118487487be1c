"""The stage's idle screen shows the sealed manifest's SHA-256, and the new one once the event file is edited."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from finale.config import EventConfig
from finale.store import Store
from tests.browser import test_hub_browser as base
from tests.browser.test_hub_browser import ARTIFACTS, open_page
from tests.hub_helpers import HubProcess

browser = base.browser
hub = base.hub

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def grouped(sha: str) -> str:
    return " ".join(sha[i:i + 8] for i in range(0, len(sha), 8))


def test_the_idle_stage_shows_the_seal_and_a_change_after_it(browser: Browser, store: Store, hub: HubProcess,
                                                             demo_config: EventConfig) -> None:
    hub.start()
    stage = open_page(browser, hub.base + "/stage", viewport={"width": 1920, "height": 1080})
    page = stage.page
    expect(page.locator("#status")).to_have_text("Connected")
    expect(page.locator("#idle-title")).to_be_visible()
    expect(page.locator("#idle-seal")).to_be_hidden()  # nothing sealed yet: nothing claimed

    sealed, _ = store.seal("organiser")
    expect(page.locator("#seal-hash")).to_have_text(grouped(sealed.sha256))
    expect(page.locator("#idle-seal")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "stage-idle-sealed.png"))

    edited = demo_config.model_copy(update={"scoring": demo_config.scoring.model_copy(update={"dispute_margin": 20})})
    store.setup_event(edited)  # the console restarted on an edited event file
    changed = store.sealed()
    assert changed is not None and changed.kind == "seal.changed" and changed.sha256 != sealed.sha256
    expect(page.locator("#seal-hash")).to_have_text(grouped(changed.sha256))
    assert stage.errors == []
