"""The hub's pages in real headless Chromium against `finale hub` running as its own process.

Each test gets a fresh event database driven by the real Director (rehearsal
endpoints at speed 0) and a fresh hub process. One answer is planted with
`<img src=x onerror=alert(1)>`: every page must show it as literal text, and no
dialog may fire. Screenshots go to artifacts/hub/ (git-ignored) for a human.
"""

from __future__ import annotations

import asyncio
import threading
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from finale.config import EventConfig
from finale.core.model import Component
from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import panel_scores
from finale.director import Director
from finale.store import Store, VoteIn
from tests.conftest import launch_chromium
from tests.hub_helpers import XSS, HubProcess, answered_round, director_for, free_port, plant_answer, set_switches

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "hub"
PHONE = {"width": 390, "height": 844}
T = TypeVar("T")


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion in its own thread (sync Playwright owns this thread's loop)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make())  # type: ignore[arg-type]
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(120)
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


@pytest.fixture
def hub(store: Store, db_path: Path, tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(db_path, free_port(), tmp_path / "hub.log")
    yield proc
    proc.stop()


@pytest.fixture
def director(store: Store) -> Director:
    return director_for(store)


class Watched:
    """A page with its dialogs and script errors recorded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def clean(self) -> None:
        assert self.dialogs == [], f"a dialog fired: {self.dialogs}"
        assert self.errors == [], f"script errors: {self.errors}"
        assert self.page.locator("img[src='x']").count() == 0, "the planted <img> became an element"


def open_page(browser: Browser, url: str, **context: Any) -> Watched:
    page = browser.new_context(**context).new_page()
    watched = Watched(page)
    page.goto(url)
    return watched


def xss_round(director: Director, open_poll: bool = True) -> tuple[int, str]:
    """A round whose first finalist answered with an HTML payload; returns (round id, that label)."""
    rnd = run_async(lambda: answered_round(director))
    plant_answer(director.store, rnd.id, "ray", XSS)
    if open_poll:
        director.open_poll(rnd.id, 300)
    return rnd.id, rnd.labels["ray"]


def device_votes(store: Store, round_id: int) -> list[tuple[str, str]]:
    return [(v["device_id"], v["label"]) for v in store.votes(round_id)]


def test_phone_votes_survives_a_hub_restart_and_changes_its_vote(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    round_id, xss_label = xss_round(director)
    hub.start()
    phone = open_page(browser, hub.base + "/", viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.page
    expect(page.locator("#status")).to_have_text("Connected")
    expect(page.locator(f"li[data-label='{xss_label}'] .text")).to_have_text(XSS)
    expect(page.locator("#countdown")).to_contain_text("Voting closes in")
    page.screenshot(path=str(ARTIFACTS / "phone-voting.png"), full_page=True)

    labels = sorted(store.round(round_id).labels.values())
    page.locator(f"button.vote[data-label='{labels[0]}']").click()
    expect(page.locator("#notice")).to_contain_text(f"Vote received: {labels[0]}")
    device = page.evaluate("localStorage.getItem('finale.credential')").split(".")[1]  # the hub-issued voter
    assert device_votes(store, round_id) == [(device, labels[0])]
    page.screenshot(path=str(ARTIFACTS / "phone-vote-received.png"), full_page=True)

    hub.kill()
    expect(page.locator("#status")).to_have_text("Reconnecting…")
    hub.start()
    expect(page.locator("#status")).to_have_text("Connected", timeout=20_000)
    expect(page.locator(f"button.vote[data-label='{labels[0]}']")).to_have_attribute("aria-pressed", "true")
    assert device_votes(store, round_id) == [(device, labels[0])], "the vote survived the restart"

    page.locator(f"button.vote[data-label='{labels[1]}']").click()
    expect(page.locator("#notice")).to_contain_text(f"Vote received: {labels[1]}")
    assert device_votes(store, round_id) == [(device, labels[1])], "changed, still one vote"

    hub.kill()
    expect(page.locator("#status")).to_have_text("Reconnecting…")
    page.locator(f"button.vote[data-label='{labels[2]}']").click()  # offline: kept until acknowledged
    expect(page.locator("#notice")).to_contain_text("will be sent on reconnect")
    hub.start()
    expect(page.locator("#notice")).to_contain_text(f"Vote received: {labels[2]}", timeout=20_000)
    assert device_votes(store, round_id) == [(device, labels[2])], "the unacknowledged vote was resent"

    director.close_poll(round_id)
    expect(page.locator("#countdown")).to_have_text("Voting closed")
    expect(page.locator("button.vote").first).to_be_disabled()
    director.reveal_round(round_id)
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#mapping")).to_contain_text(f"{xss_label} was Ray")
    page.screenshot(path=str(ARTIFACTS / "phone-revealed.png"), full_page=True)
    phone.clean()


def test_judge_page_submits_and_revises_scores_and_refuses_a_wrong_token(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    round_id, xss_label = xss_round(director, open_poll=False)
    hub.start()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(hub.base + "/judge/not-the-token")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(hub.base + "/nothing-here")
    assert refused.value.code == missing.value.code == 404
    assert refused.value.read() == missing.value.read(), "a wrong token looks exactly like a missing page"

    token = store.tokens("panelists")["panel-2"]
    judge = open_page(browser, f"{hub.base}/judge/{token}", viewport=PHONE, is_mobile=True, has_touch=True)
    page = judge.page
    expect(page.locator("#you")).to_have_text("Sam Okafor")
    expect(page.locator(f"li[data-label='{xss_label}'] .text")).to_have_text(XSS)
    form = page.locator(f"form[data-label='{xss_label}']")
    for crit, value in (("generalization", "7"), ("quality", "8"), ("efficiency", "6.5")):
        form.get_by_label(crit).fill(value)
    form.get_by_role("button").click()
    expect(page.locator("#notice")).to_have_text(f"Saved scores for answer {xss_label}.")
    expect(form.locator(".saved")).to_contain_text("quality 8")
    [saved] = [s for s in store.panel_scores(round_id) if s.panelist_id == "panel-2"]
    assert saved.finalist_id == "ray" and saved.scores == {"generalization": 7, "quality": 8, "efficiency": 6.5}

    form.get_by_label("quality").fill("9.5")
    form.get_by_role("button").click()
    expect(form.locator(".saved")).to_contain_text("quality 9.5")
    [revised] = [s for s in store.panel_scores(round_id) if s.panelist_id == "panel-2"]
    assert revised.scores["quality"] == 9.5
    page.screenshot(path=str(ARTIFACTS / "judge-saved.png"), full_page=True)

    wrong = browser.new_page()
    response = wrong.goto(f"{hub.base}/judge/{token[:-2]}xx")
    assert response is not None and response.status == 404
    judge.clean()


def test_finalist_page_changes_its_prompt_in_draft_and_is_refused_once_asked(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    rnd = director.new_round("haiku", seed=4)
    hub.start()
    token = store.tokens("finalists")["kai"]
    finalist = open_page(browser, f"{hub.base}/finalist/{token}", viewport=PHONE, is_mobile=True, has_touch=True)
    page = finalist.page
    expect(page.locator("#you")).to_have_text("Kai")
    expect(page.locator("#phase")).to_have_text("draft")
    page.get_by_label("System prompt").fill(XSS + " Answer in bullets.")
    page.get_by_label("Temperature").fill("0.7")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#notice")).to_have_text("Saved as version 2.")
    expect(page.locator("#history li").first.locator(".text")).to_have_text(XSS + " Answer in bullets.")
    assert store.settings("kai").system_prompt == XSS + " Answer in bullets."
    assert store.settings("kai").temperature == 0.7
    page.screenshot(path=str(ARTIFACTS / "finalist-draft.png"), full_page=True)

    run_async(lambda: director.ask(rnd.id))
    expect(page.locator("#lock")).to_be_visible()
    expect(page.locator("#lock")).to_contain_text("locked")
    expect(page.get_by_label("System prompt")).to_be_disabled()
    page.screenshot(path=str(ARTIFACTS / "finalist-locked.png"), full_page=True)
    # Force the form open as a tampering user would: the hub itself refuses and says why.
    page.evaluate("document.querySelectorAll('#settings [disabled]').forEach((n) => n.disabled = false)")
    page.get_by_label("System prompt").fill("Too late")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#notice")).to_contain_text("Not saved: settings are locked")
    assert store.settings("kai").version == 2
    finalist.clean()


def test_stage_shows_bars_leaderboard_override_marks_and_reveal(
        browser: Browser, director: Director, store: Store, hub: HubProcess, demo_config: EventConfig) -> None:
    round_id, xss_label = xss_round(director)
    hub.start()
    stage = open_page(browser, hub.base + "/stage", viewport={"width": 1600, "height": 900})
    page = stage.page
    expect(page.locator("#status")).to_have_text("Connected")
    expect(page.locator(f"li[data-label='{xss_label}'] .text")).to_have_text(XSS)
    expect(page.locator("#join-url")).to_have_text(hub.base + "/")
    assert page.evaluate("document.getElementById('qr').naturalWidth") > 0
    expect(page.locator("#countdown")).to_contain_text(":")
    labels = sorted(store.round(round_id).labels.values())
    now = store.round(round_id).vote_opened_at or 0
    store.record_votes([VoteIn(round_id, f"phone-{i:04d}", labels[i % 3], None, now + 1) for i in range(9)]
                       + [VoteIn(round_id, "phone-extra", xss_label, None, now + 1)])
    expect(page.locator("#bars-hidden")).to_be_visible()  # the demo event hides results until the close
    expect(page.locator("#bars")).to_be_hidden()

    event = demo_config.to_core()
    for score in panel_scores(event, store.round(round_id), load_script(DEMO_EVENT.parent / "script.toml"), 7):
        store.save_panel_score(score, actor="test")
    director.close_poll(round_id)
    expect(page.locator("#bars")).to_be_visible()
    total = 10
    expect(page.locator(f"#bars li[data-label='{labels[0]}'] .count")).to_contain_text(
        str(sum(1 for i in range(9) if i % 3 == 0) + (labels[0] == xss_label)))
    assert sum(int(t.split(" ")[0]) for t in page.locator("#bars .count").all_inner_texts()) == total
    page.screenshot(path=str(ARTIFACTS / "stage-bars.png"))

    director.override(round_id, "mia", Component.LLM, "Judge misread the answer", value=95.0,
                      actor="head-judge")
    director.reveal_round(round_id)
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#reveal-kicker")).to_have_text(f"Round {round_id} winner")
    expect(page.locator("#reveal-mapping")).to_contain_text(f"{xss_label} · Ray")
    page.screenshot(path=str(ARTIFACTS / "stage-round-reveal.png"))

    director.finalize(round_id)
    expect(page.locator("#board tr")).to_have_count(len(event.finalists))
    expect(page.locator("#board")).to_contain_text("Mia *")
    leader = page.locator("#board tr").first
    expect(leader.locator("td").nth(0)).to_have_text("1")
    expect(page.locator("#w-llm")).to_have_text("LLM 40%")
    expect(page.locator("#w-audience")).to_have_text("Audience 20%")

    places = len(event.finalists)
    last = store.event().finalist(director.standings()[-1].finalist_id).name
    set_switches(store, reveal_step=1)  # the console's reveal, one place at a time from the bottom
    expect(page.locator("#reveal-kicker")).to_have_text(f"In place {places}")
    expect(page.locator("#reveal-title")).to_have_text(last)
    expect(page.locator("#board tr.masked")).to_have_count(places - 1)
    page.screenshot(path=str(ARTIFACTS / "stage-place-reveal.png"))
    set_switches(store, reveal_step=places)  # mid-show (the deck is not done): the leader, never "the winner"
    expect(page.locator("#reveal-kicker")).to_have_text("Leader so far")
    set_switches(store, reveal_step=places, reveal_final=True)  # the show is over
    expect(page.locator("#reveal-kicker")).to_have_text("And the winner is")
    expect(page.locator("#board tr.masked")).to_have_count(0)
    winner = store.event().finalist(director.standings()[0].finalist_id).name
    expect(page.locator("#reveal-title")).to_have_text(winner)
    expect(page.locator("#reveal")).to_have_class("reveal play")
    page.wait_for_timeout(1500)  # let the entrance animation land for the screenshot
    page.screenshot(path=str(ARTIFACTS / "stage-final-reveal.png"))
    stage.clean()

    overlay = open_page(browser, hub.base + "/stage?overlay=1", viewport={"width": 1600, "height": 900})
    expect(overlay.page.locator("#status")).to_have_text("Connected")
    assert overlay.page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"
    overlay.page.screenshot(path=str(ARTIFACTS / "stage-overlay.png"), omit_background=True)
    overlay.clean()


def test_pages_send_csp_and_content_types(store: Store, hub: HubProcess) -> None:
    hub.start()
    expected = {"/": "text/html", "/stage": "text/html", "/static/app.css": "text/css",
                "/static/common.js": "text/javascript", "/qr.png": "image/png", "/qr.svg": "image/svg+xml",
                "/healthz": "application/json"}
    for path, kind in expected.items():
        with urllib.request.urlopen(hub.base + path) as resp:
            assert resp.headers["Content-Type"].startswith(kind), path
            csp = resp.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
    for page in ("index.html", "judge.html", "finalist.html", "stage.html"):
        html = (Path(__file__).resolve().parents[2] / "audience" / "static" / page).read_text()
        assert "<script>" not in html and "innerHTML" not in html
    for script in (Path(__file__).resolve().parents[2] / "audience" / "static").glob("*.js"):
        text = script.read_text()
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text and "eval(" not in text, script.name


def test_pages_fit_a_360px_phone_with_big_tap_targets(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    xss_round(director)
    hub.start()
    pages = {"/": "button.vote", f"/judge/{store.tokens('panelists')['panel-1']}": "form.scores button",
             f"/finalist/{store.tokens('finalists')['ray']}": "#save"}
    for path, button in pages.items():
        opened = open_page(browser, hub.base + path, viewport={"width": 360, "height": 740}, is_mobile=True,
                           has_touch=True)
        page = opened.page
        expect(page.locator("#status")).to_have_text("Connected")
        expect(page.locator(button).first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{path} scrolls sideways"
        for box in [page.locator(button).nth(i).bounding_box() for i in range(page.locator(button).count())]:
            assert box is not None and box["height"] >= 44, f"{path}: tap target {box}"
        unlabeled = page.evaluate("""[...document.querySelectorAll('input, textarea')]
            .filter((n) => !(n.labels && n.labels.length) && !n.getAttribute('aria-label')).length""")
        assert unlabeled == 0, f"{path}: inputs without a label"
        opened.clean()
