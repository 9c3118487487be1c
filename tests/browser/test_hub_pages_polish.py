"""The review pass's page behaviour in real headless Chromium against `finale hub` as its own process.

Phones say what is happening in every phase and how their vote was counted,
fold long answers, show the overall winner; judges see what is saved and
what is missing; finalists see which version is in use; the stage has an idle
call to vote, a transparent overlay and a reveal card that never shows a bare
dash; a hub that goes away shows a red banner on phones. Screenshots go to
artifacts/hub/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import panel_scores
from finale.director import Director
from finale.store import Store, VoteIn
from tests.browser import test_hub_browser as base
from tests.browser.test_hub_browser import ARTIFACTS, PHONE, open_page, run_async
from tests.hub_helpers import HubProcess, answered_round, plant_answer, set_switches

browser = base.browser  # the same fixtures: one Chromium per module, a fresh hub process per test
director = base.director
hub = base.hub

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]

LONG = ("A long answer that keeps going. " * 200)[:6000]


def test_phone_walks_every_phase_with_a_clear_message(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    hub.start()
    phone = open_page(browser, hub.base + "/", viewport={"width": 360, "height": 740}, is_mobile=True,
                      has_touch=True)
    page = phone.page
    expect(page.locator("#waiting-title")).to_have_text("Waiting for the show to start")
    rnd = run_async(lambda: answered_round(director))
    expect(page.locator("#waiting-text")).to_contain_text("Waiting for the MC to open voting")
    expect(page.locator("#waiting-prompt")).to_have_text(rnd.prompt)

    plant_answer(store, rnd.id, "ray", LONG)
    director.open_poll(rnd.id, 300)
    long_label = rnd.labels["ray"]
    item = page.locator(f"li[data-label='{long_label}']")
    expect(item.locator(".text")).to_have_text(LONG)  # all of it is there, folded
    toggle = item.locator("button.more")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    folded = item.locator(".text").bounding_box()
    assert folded is not None and folded["height"] < 400, "a 6,000-character answer is folded on a phone"
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    unfolded = item.locator(".text").bounding_box()
    assert unfolded is not None and unfolded["height"] > 2 * folded["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    expect(page.locator("#hint")).to_contain_text("You can change your vote until voting closes")

    expect(page.locator("#countdown")).to_have_class("countdown sticky")  # red only in the last ten seconds
    labels = sorted(rnd.labels.values())
    page.locator(f"button.vote[data-label='{labels[1]}']").click()
    expect(page.locator("#hint")).to_have_text(
        f"Your vote for {labels[1]} is counted. You can change it until voting closes.")
    page.screenshot(path=str(ARTIFACTS / "polish-phone-voted.png"), full_page=True)

    event = store.event()
    for score in panel_scores(event, store.round(rnd.id), load_script(DEMO_EVENT.parent / "script.toml"), 7):
        store.save_panel_score(score, actor="test")
    director.close_poll(rnd.id)
    expect(page.locator("#hint")).to_have_text(f"Your vote for {labels[1]} was counted.")
    expect(page.locator("#notice")).to_have_text("")  # no stale "you can change it" after the close
    expect(page.locator(f"button.vote[data-label='{labels[0]}']")).to_be_hidden()
    expect(page.locator(f"button.vote[data-label='{labels[1]}']")).to_have_text(f"You voted {labels[1]} ✓")

    director.reveal_round(rnd.id)
    reveal = page.locator("#reveal")
    expect(reveal).to_be_visible()
    expect(page.locator("#mapping")).to_contain_text("(your vote)")
    box = reveal.bounding_box()
    assert box is not None and box["y"] < 300, "the reveal is at the top of the page, not after the answers"
    expect(item.locator(".who-was")).to_have_text(" · Ray")

    director.finalize(rnd.id)
    set_switches(store, winner_revealed=True)
    winner = event.finalist(director.standings()[0].finalist_id).name
    expect(page.locator("#champion-title")).to_have_text(winner)
    page.screenshot(path=str(ARTIFACTS / "polish-phone-final.png"), full_page=True)

    hub.kill()
    banner = page.locator("#status")
    expect(banner).to_have_text("Reconnecting…")
    assert banner.evaluate("(n) => getComputedStyle(n).position") == "fixed", "a lost link is a banner on phones"
    page.screenshot(path=str(ARTIFACTS / "polish-phone-reconnecting.png"))
    hub.start()
    expect(banner).to_have_text("Connected", timeout=20_000)
    phone.clean()


def test_judge_page_lists_what_is_saved_and_what_is_missing(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    rnd = run_async(lambda: answered_round(director))
    hub.start()
    token = store.tokens("panelists")["panel-1"]
    judge = open_page(browser, f"{hub.base}/judge/{token}", viewport=PHONE, is_mobile=True, has_touch=True)
    page = judge.page
    labels = sorted(rnd.labels.values())
    expect(page.locator("#progress")).to_have_text(f"Saved 0 of 5 · still to score: {', '.join(labels)}")
    expect(page.locator(f"li[data-label='{labels[0]}'] .timing")).to_contain_text("total")
    form = page.locator(f"form[data-label='{labels[2]}']")
    for crit in ("generalization", "quality", "efficiency"):
        form.get_by_label(crit).fill("7")
    expect(form.locator(".dirty")).to_be_visible()
    form.get_by_role("button", name=f"Save scores for {labels[2]}").click()
    expect(form.locator(".saved")).to_contain_text("Saved ✓")
    expect(form.locator(".dirty")).to_be_hidden()
    rest = [x for x in labels if x != labels[2]]
    expect(page.locator("#progress")).to_have_text(f"Saved 1 of 5: {labels[2]} · still to score: {', '.join(rest)}")
    expect(page.locator(f"li[data-label='{labels[2]}']")).to_have_class("answer done")
    page.screenshot(path=str(ARTIFACTS / "polish-judge-progress.png"), full_page=True)
    judge.clean()


def test_finalist_page_marks_the_version_in_use_and_unsaved_changes(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    rnd = director.new_round("haiku", seed=4)
    hub.start()
    token = store.tokens("finalists")["sol"]
    finalist = open_page(browser, f"{hub.base}/finalist/{token}", viewport=PHONE, is_mobile=True, has_touch=True)
    page = finalist.page
    expect(page.locator("#history li.current .in-use")).to_have_count(1)
    expect(page.locator("#dirty")).to_be_hidden()
    page.get_by_label("System prompt").fill("Be vivid, in two sentences.")
    expect(page.locator("#dirty")).to_be_visible()
    expect(page.locator("#prompt-count")).to_have_text("27 / 4000 characters")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#notice")).to_have_text("Saved as version 2.")
    expect(page.locator("#dirty")).to_be_hidden()
    expect(page.locator("#history li").first).to_have_class("current")
    expect(page.locator("#history li.current .meta")).to_contain_text("v2")
    expect(page.locator("#open-note")).to_be_visible()
    expect(page.locator("#mine")).to_be_hidden()

    run_async(lambda: director.ask(rnd.id))
    own = store.answers(rnd.id)["sol"]
    expect(page.locator("#open-note")).to_be_hidden()
    expect(page.locator("#mine-round")).to_have_text(str(rnd.id))
    expect(page.locator("#mine-body .text")).to_have_text(own.text)
    expect(page.locator("#mine-meta")).to_contain_text(f"{own.tokens} tokens")
    page.screenshot(path=str(ARTIFACTS / "polish-finalist-answer.png"), full_page=True)
    finalist.clean()


def test_stage_idle_call_to_vote_transparent_overlay_and_reveal_without_a_winner(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    hub.start()
    stage = open_page(browser, hub.base + "/stage?overlay=1", viewport={"width": 1920, "height": 1080})
    page = stage.page
    expect(page.locator("#idle-title")).to_have_text("Scan the code to vote")
    expect(page.locator("#board-empty")).to_be_visible()
    for node in ("document.documentElement", "document.body"):
        assert page.evaluate(f"getComputedStyle({node}).backgroundColor") == "rgba(0, 0, 0, 0)", node
    size = page.evaluate("parseFloat(getComputedStyle(document.getElementById('prompt')).fontSize)")
    assert size >= 40, f"the question is readable from the back of the room ({size}px at 1920 wide)"

    rnd = run_async(lambda: answered_round(director))
    director.open_poll(rnd.id, 10)
    expect(page.locator("#idle")).to_be_hidden()
    expect(page.locator("#countdown")).to_have_class("countdown big soon")  # the last ten seconds are red
    expect(page.locator("#answers")).to_have_attribute("data-count", "5")
    now = store.round(rnd.id).vote_opened_at or 0
    store.record_votes([VoteIn(rnd.id, f"phone-{i:04d}", sorted(rnd.labels.values())[0], None, now + 1)
                        for i in range(3)])
    director.close_poll(rnd.id)
    expect(page.locator("#countdown")).to_have_class("countdown big done")
    director.reveal_round(rnd.id)  # no panel scores yet: the round has no total, so no winner
    expect(page.locator("#reveal-kicker")).to_have_text(f"Round {rnd.id} · who was who")
    expect(page.locator("#reveal-title")).to_have_text("The answers unmasked")
    expect(page.locator("#reveal-mapping")).to_contain_text("3 votes")
    page.screenshot(path=str(ARTIFACTS / "polish-stage-overlay-reveal.png"), omit_background=True)
    stage.clean()


def test_artifacts_folder_is_the_hub_one() -> None:
    assert ARTIFACTS == Path(__file__).resolve().parents[2] / "artifacts" / "hub"
