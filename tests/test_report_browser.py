"""The report opened from disk in real headless Chromium: it renders, fetches nothing, runs nothing.

Every request the page makes is recorded; only the file itself (and data:
URLs) may appear. The hostile payloads from tests/test_report.py must show as
literal text, with no dialog and no injected element. A screenshot is kept
under artifacts/ for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Request, sync_playwright

from finale.core.scoring import standings
from finale.store import Store
from tests.conftest import launch_chromium
from tests.test_report import XSS_ANSWER, XSS_PROMPT, XSS_RATIONALE, XSS_REASON, HostileShow, hostile_show

__all__ = ["hostile_show"]  # the module-scoped show fixture, shared with the text-level tests

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def browser(hostile_show: HostileShow) -> Iterator[Browser]:
    """Chromium, started after the show is built: sync Playwright keeps an event loop running meanwhile."""
    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


class Opened:
    """The page after load, with everything it asked for and everything it said."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        page.on("request", self._request)
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")


@pytest.fixture(scope="module")
def opened(browser: Browser, hostile_show: HostileShow) -> Iterator[Opened]:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    seen = Opened(page)
    page.goto(hostile_show.report.as_uri(), wait_until="load")
    page.wait_for_timeout(300)  # give anything that might fire late (onerror, timers) the chance to
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-top.png"))
    page.screenshot(path=str(ARTIFACTS / "report-full.png"), full_page=True)
    yield seen
    page.close()


def test_the_page_requests_nothing_but_itself(opened: Opened, hostile_show: HostileShow) -> None:
    own = hostile_show.report.as_uri()
    assert opened.requests, "the navigation itself should have been recorded"
    strangers = [u for u in opened.requests if u != own and not u.startswith("data:")]
    assert strangers == []
    assert opened.errors == []
    assert not [c for c in opened.console if "Content Security Policy" in c]


def test_hostile_text_is_shown_literally_and_never_runs(opened: Opened) -> None:
    page = opened.page
    assert opened.dialogs == []
    assert page.locator("script").count() == 0
    assert page.locator("img").count() == 0
    assert page.locator("b", has_text="bold").count() == 0
    answers = page.locator(".answer-text").all_inner_texts()
    assert any(XSS_ANSWER in text for text in answers)
    assert XSS_RATIONALE in page.locator("blockquote.rationale").all_inner_texts()
    assert page.locator("p.prompt", has_text=XSS_PROMPT).count() == 1
    assert page.locator("#overrides td", has_text=XSS_REASON).count() == 1


def test_standings_render_in_rank_order(opened: Opened, hostile_show: HostileShow) -> None:
    with Store(hostile_show.db) as store:
        expected = standings(store.event(), store.records())
        names = {f.id: f.name for f in store.event().finalists}
    rows = opened.page.locator("#standings table tbody tr")
    assert rows.count() == 5
    for i, s in enumerate(expected):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == str(s.rank)
        assert cells[1].startswith(names[s.finalist_id])
        assert cells[-1] == f"{s.total:.2f}"
    assert rows.locator(".ovr").count() >= 1
    assert opened.page.locator("#standings table").bounding_box()["height"] > 100  # type: ignore[index]


def test_charts_render_with_visible_marks(opened: Opened) -> None:
    page = opened.page
    charts = {"standings": 1, "latency": 5, "votes": 7}
    for kind, count in charts.items():
        svgs = page.locator(f"svg.chart.{kind}")
        assert svgs.count() == count
        for i in range(count):
            box = svgs.nth(i).bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 100
    bars = page.locator("svg.chart.latency rect.bar")
    assert bars.count() == 70
    heights = [bars.nth(i).bounding_box()["height"] for i in range(bars.count())]  # type: ignore[index]
    assert all(h > 0 for h in heights) and max(heights) > 50
    lines = page.locator("svg.chart.votes polyline.series")
    assert lines.count() == 35
    widths = [lines.nth(i).bounding_box()["width"] for i in range(lines.count())]  # type: ignore[index]
    assert all(w > 100 for w in widths)


def test_screenshots_are_kept(opened: Opened) -> None:
    for name in ("report-top.png", "report-full.png"):
        path = ARTIFACTS / name
        assert path.exists() and path.stat().st_size > 10_000
