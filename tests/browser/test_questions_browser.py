"""Must show 1 of issue 15, in real Chromium against `finale hub` as its own process.

Twenty phones (fresh browser contexts) submit questions while questions are open; the filter and
the rate limit refuse with their codes, shown on the phone; the MC rejects one and approves others
(the real Director); the rejected one appears on no phone, not on the stage and not in the export's
public part; an approved one is upvoted, then asked as a round, and the stage says it came from the
audience; the audit log holds every step.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from finale.config import AudienceQuestionsSection, EventConfig
from finale.core.questions import Status
from finale.export import collect
from finale.store import Store
from tests.hub_helpers import HubProcess, director_for, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

PHONES = 20
SECRET = "Rejected-question-never-shown-7431"
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def floor_db(db_path: Path, demo_config: EventConfig) -> Iterator[Store]:
    """The demo event: twenty phones from one address may join, a blocklist, 3 questions per 5 minutes."""
    config = demo_config.model_copy(update={
        "voting": demo_config.voting.model_copy(update={"credentials_per_address_per_min": 1000,
                                                        "devices_per_address": 100}),
        "audience_questions": AudienceQuestionsSection(blocklist=("darn",)),
    })
    store = Store(db_path)
    store.setup_event(config)
    yield store
    store.close()


@pytest.fixture
def hub(floor_db: Store, db_path: Path, tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(db_path, free_port(), tmp_path / "hub.log")
    proc.start()
    yield proc
    proc.stop()


def _ask(page: Page, text: str, code: str) -> None:
    """Type a question, send it, and wait for the phone to say what became of it (`data-code`)."""
    page.fill("#floor-text", text)
    page.click("#floor-send")
    expect(page.locator(f"#floor-notice[data-code='{code}']")).to_be_visible(timeout=20_000)


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_twenty_phones_ask_the_mc_moderates_and_asks_one_from_the_audience(
        browser: Browser, floor_db: Store, hub: HubProcess) -> None:
    store = floor_db
    director = director_for(store)
    director.open_questions()
    contexts: list[BrowserContext] = []
    try:
        stage_ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
        contexts.append(stage_ctx)
        stage = stage_ctx.new_page()
        stage.goto(f"{hub.base}/stage")
        phones: list[Page] = []
        for _ in range(PHONES):
            ctx = browser.new_context(viewport=PHONE)
            contexts.append(ctx)
            page = ctx.new_page()
            page.goto(f"{hub.base}/")
            phones.append(page)
        for page in phones:
            expect(page.locator("#floor")).to_be_visible(timeout=20_000)
            expect(page.get_by_label("Your question")).to_be_enabled()  # a labelled textarea
        assert phones[0].locator("#floor-send").bounding_box()["height"] >= 44  # type: ignore[index]
        expect(stage.locator("#floor")).to_be_visible(timeout=20_000)

        _ask(phones[0], SECRET, "pending")
        _ask(phones[1], "Oh darn, is this allowed?", "filtered")
        assert "darn" not in phones[1].locator("#floor-notice").inner_text()  # the word list is never echoed
        for i in range(1, PHONES):
            _ask(phones[i], f"Question {i}: what would phone {i} like the models to explain?", "pending")
        for extra in range(2):
            _ask(phones[2], f"Another question {extra} from phone 2?", "pending")
        _ask(phones[2], "A fourth question within five minutes?", "rate_limited")
        assert "try again in" in phones[2].locator("#floor-notice").inner_text()
        _wait(lambda: store.count("audience_questions") == PHONES + 2, "every stored question")

        by_text = {q.text: q for q in store.floor_questions()}
        rejected = by_text[SECRET]
        chosen = [by_text[f"Question {i}: what would phone {i} like the models to explain?"] for i in (3, 4, 5)]
        director.reject_question(rejected.id, "not for the stage")
        for q in chosen:
            director.approve_question(q.id)
        director.toggle_star(chosen[1].id)
        for page in (*phones, stage):
            expect(page.locator("#floor-list li")).to_have_count(3, timeout=20_000)
        expect(phones[0].locator(f"#floor-mine li[data-id='{rejected.id}']")).to_have_attribute(
            "data-status", "declined")
        expect(phones[0].locator("#floor-mine")).to_contain_text("was not selected")
        expect(phones[3].locator(f"#floor-mine li[data-id='{chosen[0].id}']")).to_have_attribute(
            "data-status", "approved")
        expect(stage.locator("#floor-list li").first).to_contain_text(chosen[1].text)  # starred first

        upvote = phones[7].locator(f"#floor-list li[data-id='{chosen[0].id}'] button.upvote")
        upvote.click()
        expect(phones[7].locator("#floor-notice[data-code='upvoted']")).to_be_visible(timeout=20_000)
        expect(stage.locator(f"#floor-list li[data-id='{chosen[0].id}']")).to_contain_text("1 upvote",
                                                                                            timeout=20_000)
        assert phones[3].locator(f"#floor-list li[data-id='{chosen[0].id}'] button.upvote").count() == 0  # own

        for page in (*phones, stage):  # the rejected question is on no page, in no attribute
            assert SECRET not in page.content()
            assert SECRET not in page.evaluate("() => document.body.innerText + JSON.stringify(localStorage)")

        director.close_questions()
        expect(stage.locator("#floor")).to_be_hidden(timeout=20_000)
        rnd = director.ask_question_as_round(chosen[0].id)
        asker = threading.Thread(target=lambda: asyncio.run(director.ask(rnd.id)))  # Playwright owns this loop
        asker.start()
        asker.join(60)
        expect(stage.locator("#prompt")).to_have_text(chosen[0].text, timeout=20_000)
        expect(stage.locator("#floor-source")).to_be_visible()
        expect(stage.locator("#floor-source")).to_have_text("A question from the audience")
        expect(phones[5].locator("#floor-source-waiting, #floor-source").first).to_have_text(
            "A question from the audience")
        expect(phones[3].locator("#floor-mine")).to_contain_text("was asked as a round", timeout=20_000)
        for page in (*phones, stage):
            assert SECRET not in page.content()
    finally:
        for ctx in contexts:
            ctx.close()

    assert store.floor_question(chosen[0].id).status is Status.ASKED and store.round(rnd.id).from_audience
    public = json.dumps(collect(store), ensure_ascii=False)
    assert SECRET not in public and chosen[0].text in public
    kinds = [e.kind for e in store.events() if e.kind.startswith("question")]
    assert kinds.count("question.submitted") == PHONES + 2 and kinds.count("question.approved") == 3
    assert kinds.count("question.rejected") == 1 and kinds.count("question.starred") == 1
    assert kinds.count("question.upvoted") == 1 and kinds.count("question.asked") == 1
    assert kinds[0] == "questions.opened" and "questions.closed" in kinds
    created = next(e for e in store.events(kind="round.created") if e.round_id == rnd.id)
    assert created.payload["source"] == "audience" and created.payload["audience_question_id"] == chosen[0].id
    refused = [e for e in store.events(kind="question.submitted") if "darn" in str(e.payload.get("text"))]
    assert refused == []  # the filtered question was never stored


def test_the_question_form_and_board_are_accessible_and_in_the_readers_language(
        browser: Browser, floor_db: Store, hub: HubProcess) -> None:
    from tests.browser.test_a11y_pages import assert_accessible, assert_tap_targets

    store = floor_db
    director = director_for(store)
    director.open_questions()
    q = store.submit_question("someone-else", "Which answer surprised the panel most?")
    director.approve_question(q.id)
    phone_ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True,
                                    locale="en-US")
    ja_ctx = browser.new_context(viewport=PHONE, bypass_csp=True, locale="ja-JP")
    stage_ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True, locale="en-US")
    try:
        phone = phone_ctx.new_page()
        phone.goto(f"{hub.base}/")
        expect(phone.locator("#floor-list li")).to_have_count(1, timeout=20_000)
        assert_accessible(phone, "phone, questions open")
        assert_tap_targets(phone, "phone, questions open")
        phone.locator("#floor-text").focus()  # the form by keyboard: type, Tab to the button, Enter
        phone.keyboard.type("Oh darn")
        phone.keyboard.press("Tab")
        assert phone.evaluate("document.activeElement.id") == "floor-send"
        phone.keyboard.press("Enter")
        expect(phone.locator("#floor-notice[data-code='filtered']")).to_be_visible(timeout=20_000)
        assert_accessible(phone, "phone, a refusal shown")

        ja = ja_ctx.new_page()
        ja.goto(f"{hub.base}/")
        expect(ja.locator("#floor-title")).to_have_text("会場からの質問", timeout=20_000)
        expect(ja.locator("#floor-send")).to_have_text("質問を送信")
        expect(ja.locator("#floor-list li .floor-upvotes")).to_have_text("いいね 0 件")

        stage = stage_ctx.new_page()
        stage.goto(f"{hub.base}/stage")
        expect(stage.locator("#floor-list li")).to_have_count(1, timeout=20_000)
        assert_accessible(stage, "stage, questions open")
    finally:
        for ctx in (phone_ctx, ja_ctx, stage_ctx):
            ctx.close()
