"""WCAG 2.2 A/AA on the hub's pages: axe-core (npm, node_modules/axe-core) in real Chromium, in every state.

The phone page is walked through waiting, voting, voted, closed and revealed (the champion shown), the
judge page with answers to score, the finalist page in draft and locked, and the stage idle, voting and
at the reveal; axe runs with the WCAG 2.0/2.1/2.2 A and AA tags and must find nothing. Then what axe
cannot judge: voting by keyboard alone (Tab to a vote button, Enter) with the "vote received" live region
speaking, the countdown's live region saying milestones (not every second), 44 px tap targets, and
reduced motion. Reflow (320 px, 200 % zoom) is test_a11y_reflow.py's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import panel_scores
from finale.director import Director
from finale.store import Store
from tests.browser import test_hub_browser as base
from tests.browser.test_hub_browser import open_page, run_async
from tests.hub_helpers import HubProcess, answered_round, set_switches

browser = base.browser  # one Chromium per module, a fresh hub process per test
director = base.director
hub = base.hub

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# axe's script is injected as an inline <script>: the test's own context lets it past the pages' CSP.
CONTEXT = {"bypass_csp": True, "locale": "en-US"}


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG A/AA violations on the page as it is now."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make test` (it runs `npm ci` for the pinned axe-core)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, "
                           "resultTypes: ['violations']})", TAGS)
    return list(result["violations"])


def readable(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:6]:
            summary = " / ".join(line.strip() for line in node.get("failureSummary", "").splitlines()[1:])
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, state: str) -> None:
    page.wait_for_timeout(300)  # let a fade-in or a re-render land before colours are measured
    violations = axe_violations(page)
    assert violations == [], f"axe-core, {state}:\n{readable(violations)}"


def assert_tap_targets(page: Page, state: str) -> None:
    """Every visible control at least 44 x 44 CSS px (WCAG 2.5.5's size, beyond 2.2 AA's 24 px)."""
    small = page.evaluate("""() => [...document.querySelectorAll('button, select, input, textarea, a[href]')]
      .filter((n) => n.getClientRects().length && getComputedStyle(n).visibility !== 'hidden')
      .map((n) => ({id: n.id || n.className || n.tagName, w: n.getBoundingClientRect().width,
                    h: n.getBoundingClientRect().height}))
      .filter((b) => b.w < 44 || b.h < 44)""")
    assert small == [], f"{state}: tap targets under 44 px: {small}"


def scores_in(director: Director, store: Store, round_id: int) -> None:
    event = store.event()
    for score in panel_scores(event, store.round(round_id), load_script(DEMO_EVENT.parent / "script.toml"), 7):
        store.save_panel_score(score, actor="test")


def test_phone_page_has_no_wcag_violation_in_any_state(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    hub.start()
    phone = open_page(browser, hub.base + "/", **PHONE, **CONTEXT)
    page = phone.page
    expect(page.locator("#status")).to_have_text("Connected")
    expect(page.locator("#waiting-title")).to_have_text("Waiting for the show to start")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert_accessible(page, "phone waiting")

    rnd = run_async(lambda: answered_round(director))
    director.open_poll(rnd.id, 300)
    labels = sorted(rnd.labels.values())
    expect(page.locator("button.vote")).to_have_count(len(labels))
    assert_accessible(page, "phone voting")
    assert_tap_targets(page, "phone voting")

    page.locator(f"button.vote[data-label='{labels[1]}']").click()
    expect(page.locator("#notice")).to_contain_text(f"Vote received: {labels[1]}")
    assert_accessible(page, "phone voted")

    scores_in(director, store, rnd.id)
    director.close_poll(rnd.id)
    expect(page.locator("#countdown")).to_have_text("Voting closed")
    assert_accessible(page, "phone closed")

    director.reveal_round(rnd.id)
    director.finalize(rnd.id)
    set_switches(store, winner_revealed=True)
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#champion")).to_be_visible()
    assert_accessible(page, "phone revealed")
    assert_tap_targets(page, "phone revealed")
    phone.clean()


def test_judge_finalist_and_stage_pages_have_no_wcag_violation(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    rnd = director.new_round("haiku", seed=4)
    hub.start()
    finalist = open_page(browser, f"{hub.base}/finalist/{store.tokens('finalists')['kai']}", **PHONE, **CONTEXT)
    expect(finalist.page.locator("#phase")).to_have_text("draft")
    assert_accessible(finalist.page, "finalist draft")
    assert_tap_targets(finalist.page, "finalist draft")

    stage = open_page(browser, hub.base + "/stage", viewport={"width": 1280, "height": 720}, **CONTEXT)
    expect(stage.page.locator("#status")).to_have_text("Connected")
    assert_accessible(stage.page, "stage idle")

    run_async(lambda: director.ask(rnd.id))
    run_async(lambda: director.judge(rnd.id))
    expect(finalist.page.locator("#lock")).to_be_visible()
    assert_accessible(finalist.page, "finalist locked")

    judge = open_page(browser, f"{hub.base}/judge/{store.tokens('panelists')['panel-1']}", **PHONE, **CONTEXT)
    expect(judge.page.locator("form.scores")).to_have_count(len(rnd.labels))
    assert_accessible(judge.page, "judge scoring")
    assert_tap_targets(judge.page, "judge scoring")

    director.open_poll(rnd.id, 300)
    expect(stage.page.locator("body")).to_have_attribute("data-mode", "voting")
    assert_accessible(stage.page, "stage voting")
    scores_in(director, store, rnd.id)
    director.close_poll(rnd.id)
    director.reveal_round(rnd.id)
    expect(stage.page.locator("#reveal")).to_be_visible()
    stage.page.wait_for_timeout(1500)  # the reveal card's entrance
    assert_accessible(stage.page, "stage reveal")
    for opened in (finalist, judge, stage):
        opened.clean()


def test_phone_votes_by_keyboard_alone_and_the_live_regions_speak(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    rnd = run_async(lambda: answered_round(director))
    director.open_poll(rnd.id, 300)
    hub.start()
    phone = open_page(browser, hub.base + "/", viewport={"width": 390, "height": 844}, locale="en-US")
    page = phone.page
    expect(page.locator("button.vote")).to_have_count(len(rnd.labels))
    live = page.locator("#countdown-live")
    # said once, when voting opens: 5:00 when the page had its state within a second of the opening (a CI run)
    expect(live).to_have_text(re.compile(r"^Voting is open: (5:00|4:[0-5]\d) to vote\.$"))
    assert live.get_attribute("aria-live") == "polite"
    target = sorted(rnd.labels.values())[2]
    order = []
    for _ in range(40):  # Tab only: no mouse, no click
        page.keyboard.press("Tab")
        focused = page.evaluate("[document.activeElement.tagName, document.activeElement.id, "
                                "document.activeElement.dataset.label || '']")
        order.append(focused)
        if focused[2] == target and focused[0] == "BUTTON":
            break
    else:
        pytest.fail(f"Tab never reached the vote button for {target}: {order}")
    assert order[0][1] == "language", "the language switch comes first, then the answers in order"
    visited = [label for tag, _id, label in order if tag == "BUTTON" and label]
    assert visited == sorted(visited), f"the vote buttons are reached in the answers' order: {visited}"
    page.keyboard.press("Enter")
    notice = page.locator("#notice")
    expect(notice).to_have_text(f"Vote received: {target} ✓")
    assert notice.get_attribute("role") == "status" and notice.get_attribute("aria-live") == "polite"
    expect(page.locator(f"button.vote[data-label='{target}']")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("document.activeElement.dataset.label") == target, "focus stays on the chosen answer"
    [vote] = store.votes(rnd.id)
    assert vote["label"] == target
    said = live.text_content()
    page.wait_for_timeout(2500)
    assert live.text_content() == said, "the countdown's live region does not speak every second"
    phone.clean()


def test_stage_reveal_does_not_move_when_reduced_motion_is_asked(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    rnd = run_async(lambda: answered_round(director))
    director.open_poll(rnd.id, 300)
    scores_in(director, store, rnd.id)
    hub.start()
    durations = {}
    for motion in ("reduce", "no-preference"):
        stage = open_page(browser, hub.base + "/stage", viewport={"width": 1280, "height": 720},
                          reduced_motion=motion)
        expect(stage.page.locator("#status")).to_have_text("Connected")
        durations[motion] = stage.page.evaluate("""() => { const probe = document.createElement('p');
            probe.style.transition = 'opacity 2s'; document.body.append(probe);
            return parseFloat(getComputedStyle(probe).transitionDuration); }""")
        if motion == "reduce" and not store.round(rnd.id).revealed:
            director.close_poll(rnd.id)
            director.reveal_round(rnd.id)
        expect(stage.page.locator("#reveal")).to_be_visible()
        names = stage.page.evaluate("getComputedStyle(document.querySelector('.reveal-card')).animationName")
        durations[motion + "-card"] = names
        stage.clean()
    assert durations["reduce"] < 0.01 and durations["no-preference"] == 2.0, durations
    assert durations["reduce-card"] == "none", json.dumps(durations)
