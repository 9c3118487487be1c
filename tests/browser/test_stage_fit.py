"""The stage fits the room: every answer visible or reachable, at 1920x1080 and 1280x720 alike.

Each demo question is asked through the real Director and shown on two stage pages (1080p and 720p)
of a real `finale hub` process; then one finalist answers with 512 tokens. Checked in the DOM: no
element hides text without a way to it (a card that cannot fit at 28 px pages through its text, and
the MC's spotlight shows it whole), answer text never below 28 canvas px, the same layout at both
sizes (one 1920x1080 canvas, scaled), a large QR while idle and during voting, and the live vote
count while results are hidden. Screenshots go to artifacts/hub/stage-fit-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from finale.director import Director
from finale.store import Store, VoteIn
from tests.browser import test_hub_browser as base
from tests.browser.stage_checks import cut_text, font_sizes, wait_fitted
from tests.browser.test_hub_browser import ARTIFACTS, Watched, open_page, run_async
from tests.hub_helpers import HubProcess, answered_round, plant_answer

browser = base.browser
director = base.director
hub = base.hub

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

SIZES = {"1080p": {"width": 1920, "height": 1080}, "720p": {"width": 1280, "height": 720}}
FLOOR = 28
WORDS = ("The model should weigh each assumption, state the estimate, and check it against a second method "
         "before it commits to a number; ").split()
# 512 tokens of English are about 2,000 characters (about 4 a token), here in paragraphs; and the
# longest answer the event keeps (generation.max_chars, 6,000), which pages even in the spotlight.
LONG_512 = " ".join(WORDS[i % len(WORDS)] + ("\n\n" if i % 80 == 79 else "") for i in range(420)).strip()[:2048]
MAX_CHARS = ("A very long answer that keeps going. " * 170)[:6000]


def stages(browser: Browser, hub: HubProcess) -> dict[str, Watched]:
    pages = {name: open_page(browser, hub.base + "/stage", viewport=size) for name, size in SIZES.items()}
    for watched in pages.values():
        expect(watched.page.locator("#status")).to_have_text("Connected")
    return pages


def check_fit(page: Page, what: str) -> list[float]:
    """Nothing hidden without a way to it, answer text at 28 px or more; returns the answer sizes."""
    cut = cut_text(page)
    assert cut == [], f"{what}: text hidden with no way to it: {cut}"
    sizes = font_sizes(page, 24)
    assert sizes["small"] == [], f"{what}: text too small to read from the back: {sizes['small']}"
    assert all(s >= FLOOR for s in sizes["sizes"]), f"{what}: answers at {sizes['sizes']} px"
    return list(sizes["sizes"])


def layout(page: Page) -> list[tuple[float, float]]:
    """The answer cards' positions in canvas px (the same at every window size)."""
    return [tuple(x) for x in page.evaluate(
        "() => [...document.querySelectorAll('#answers .answer')].map((n) => [n.offsetLeft, n.offsetTop])")]


def qr_share(page: Page) -> float:
    """The QR's height as a share of the canvas height."""
    return float(page.evaluate("() => document.getElementById('qr').offsetHeight / 1080"))


def test_every_demo_answer_is_visible_at_1080p_and_720p(browser: Browser, director: Director, store: Store,
                                                         hub: HubProcess) -> None:
    hub.start()
    pages = stages(browser, hub)
    for watched in pages.values():
        expect(watched.page.locator("#idle-title")).to_have_text("Scan the code to vote")
        assert qr_share(watched.page) >= 0.5, "the idle screen's QR is large"
    pages["720p"].page.screenshot(path=str(ARTIFACTS / "stage-fit-idle-720p.png"))
    for i, question in enumerate(q.id for q in store.event_config().questions):
        rnd = run_async(lambda q=question, s=i: answered_round(director, q, seed=s))  # type: ignore[misc]
        if i == 0:  # judged, before the poll: the answers with a small QR and the leaderboard
            for name, watched in pages.items():
                wait_fitted(watched.page, 5)
                check_fit(watched.page, f"{question} judged at {name}")
        director.open_poll(rnd.id, 300)
        expected = {rnd.labels[fid]: a.text for fid, a in store.answers(rnd.id).items()}
        store.record_votes([VoteIn(rnd.id, f"phone-{n:04d}", "A", None, (rnd.vote_opened_at or 0) + 1)
                            for n in range(1234)])
        seen = {}
        for name, watched in pages.items():
            page = watched.page
            wait_fitted(page, len(expected))
            for label, text in expected.items():
                expect(page.locator(f"#answers li[data-label='{label}'] .text")).to_have_text(text)
            expect(page.locator("#vote-count")).to_have_text("1,234 votes")  # even while results are hidden
            expect(page.locator("#bars")).to_be_hidden()
            assert qr_share(page) >= 0.33, "a large QR during voting"
            check_fit(page, f"{question} at {name}")
            assert not page.locator(".text[data-pages]").count(), f"{question} at {name}: a demo answer pages"
            seen[name] = layout(page)
            page.screenshot(path=str(ARTIFACTS / f"stage-fit-{question}-{name}.png"))
        assert seen["1080p"] == seen["720p"], "one canvas: the same layout at 720p and 1080p"
        if i == 4:  # after the close: the vote bars and the leaderboard beside the answers
            director.close_poll(rnd.id)
            for name, watched in pages.items():
                expect(watched.page.locator("#bars")).to_be_visible()
                watched.page.wait_for_timeout(13_000 if name == "1080p" else 0)  # the round's reveal goes by
                watched.page.screenshot(path=str(ARTIFACTS / f"stage-fit-{question}-closed-{name}.png"))
                check_fit(watched.page, f"{question} closed at {name}")
        director.void(rnd.id, "next demo question")
    for watched in pages.values():
        watched.clean()


def test_a_512_token_answer_pages_and_the_spotlight_shows_it_whole(browser: Browser, director: Director,
                                                                     store: Store, hub: HubProcess) -> None:
    rnd = run_async(lambda: answered_round(director, "fermi"))
    plant_answer(store, rnd.id, "ray", LONG_512)
    plant_answer(store, rnd.id, "mia", MAX_CHARS)
    director.open_poll(rnd.id, 300)
    hub.start()
    pages = stages(browser, hub)
    long_label, longest = rnd.labels["ray"], rnd.labels["mia"]
    for name, watched in pages.items():
        page = watched.page
        wait_fitted(page, 5)
        for label, text in ((long_label, LONG_512), (longest, MAX_CHARS)):
            card = page.locator(f"#answers li[data-label='{label}']")
            expect(card.locator(".text")).to_have_text(text)  # all of it is in the card, on its pages
            count = int(card.locator(".text").get_attribute("data-pages") or 0)
            assert count >= 2, f"{label} at {name} pages"
            expect(card.locator(".pager")).to_have_text(f"1/{count}")
        sizes = check_fit(page, f"512 tokens at {name}")
        assert min(sizes) == FLOOR, "a long answer is at the floor before it pages"
        page.screenshot(path=str(ARTIFACTS / f"stage-fit-512-tokens-{name}.png"))
    page = pages["1080p"].page
    pager = page.locator(f"#answers li[data-label='{long_label}'] .pager")
    count = int(page.locator(f"#answers li[data-label='{long_label}'] .text").get_attribute("data-pages") or 0)
    expect(pager).to_have_text(f"2/{count}", timeout=10_000)  # the card turns its own pages

    for label, text, whole in ((long_label, LONG_512, True), (longest, MAX_CHARS, False)):
        assert director.spotlight(label).spotlight in ("ray", "mia")
        for name, watched in pages.items():
            page = watched.page
            expect(page.locator("#spot-label")).to_have_text(f"Answer {label}")
            expect(page.locator("#spotlight")).to_be_visible()
            expect(page.locator("#spot-text")).to_have_text(text)
            assert cut_text(page) == [], f"spotlight {label} at {name}"
            size = page.evaluate("parseFloat(getComputedStyle(document.getElementById('spot-text')).fontSize)")
            assert size >= FLOOR
            paged = page.locator("#spot-text[data-pages]").count() == 1
            assert paged is not whole, f"{len(text)} characters {'fit' if whole else 'page'} in the spotlight"
            page.screenshot(path=str(ARTIFACTS / f"stage-fit-spotlight-{len(text)}-{name}.png"))
    director.spotlight(None)
    for watched in pages.values():
        expect(watched.page.locator("#spotlight")).to_be_hidden()
        watched.clean()
