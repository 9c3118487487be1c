"""The pages in the reader's language, in real Chromium against `finale hub`.

Chromium with locale="ja-JP" (and each shipped language: es-ES, fr-FR, de-DE, zh-CN) shows the phone,
judge, finalist and stage pages in that language, <html lang> set, with no text node or label still
showing an English catalogue string; the language switch changes the page and is remembered; the event
file's [pages] section picks the stage's language and rewords a string. The answers (model text) and
the prompt are shown as written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from finale.config import EventConfig, PagesSection
from finale.director import Director
from finale.store import Store
from tests.browser import test_hub_browser as base
from tests.browser.test_hub_browser import open_page, run_async
from tests.hub_helpers import HubProcess, answered_round, director_for, free_port

browser = base.browser
director = base.director
hub = base.hub

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

CATALOGUES = Path(__file__).resolve().parents[2] / "audience" / "static" / "i18n"
LOCALES = {"ja-JP": "ja", "es-ES": "es", "fr-FR": "fr", "de-DE": "de", "zh-CN": "zh-Hans", "en-US": "en"}

# Text nodes and labels that still read as an English catalogue string (one whose translation differs):
# a whole template (placeholders as wildcards) or a fragment of one between placeholders. Data is skipped:
# model text and prompts (dir=auto), names, the event's own name, the join URL, the language names.
ENGLISH_LEFT = r"""([en, cur]) => {
  const forms = (v) => (typeof v === 'string' ? [v] : Object.values(v));
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pieces = new Set(); const wholes = [];
  const trim = (p) => p.trim().replace(/^[·:,()\s]+|[·:,()\s]+$/g, '');
  const theirs = new Set(Object.values(cur).flatMap(forms).flatMap((f) => f.split(/\{\w+\}/).map(trim)));
  for (const [key, value] of Object.entries(en)) {
    if (JSON.stringify(cur[key]) === JSON.stringify(value)) continue;
    for (const form of forms(value)) {
      for (const p of form.split(/\{\w+\}/)) {
        const s = trim(p);  // a word the language shares ("vote" in French) is not a leftover
        if ((s.match(/[A-Za-z]/g) || []).length >= 3 && !theirs.has(s)) pieces.add(s);
      }
      if ((form.replace(/\{\w+\}/g, '').match(/[A-Za-z]/g) || []).length >= 6) {  // not "Vote {x}": French too
        wholes.push(new RegExp('^' + esc(form).replace(/\\\{\w+\\\}/g, '.+') + '$'));
      }
    }
  }
  const english = (text) => {
    const t = text.trim();
    if ((t.match(/[A-Za-z]/g) || []).length < 3) return false;
    return pieces.has(trim(t)) || wholes.some((r) => r.test(t));
  };
  const data = '[dir="auto"], #event, #you, .name, #join-url, code, option, #answers .text, #mapping .name, '
    + '#champion-title, #reveal-title, #board td:nth-child(2), .field label, .history .text';
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest(data) || node.parentElement.closest('script, style')) continue;
    if (english(node.textContent)) found.push(node.parentElement.id + ': ' + node.textContent.trim());
  }
  for (const el of document.querySelectorAll('[aria-label], [alt], [title], [placeholder]')) {
    for (const name of ['aria-label', 'alt', 'title', 'placeholder']) {
      const v = el.getAttribute(name);
      if (v && english(v)) found.push(el.tagName + '[' + name + ']: ' + v);
    }
  }
  if (english(document.title.replace(/ · Finale$/, ''))) found.push('title: ' + document.title);
  return found;
}"""


def catalogue(code: str) -> dict[str, Any]:
    return dict(json.loads((CATALOGUES / f"{code}.json").read_text(encoding="utf-8")))


def english_left(page: Page, code: str) -> list[str]:
    return list(page.evaluate(ENGLISH_LEFT, [catalogue("en"), catalogue(code)]))


def in_language(page: Page, code: str, what: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.locator("#status")).to_have_text(catalogue(code)["link.connected"])
    assert page.locator("#language").input_value() == code, f"{what}: the switch shows {code}"
    page.wait_for_timeout(300)  # a render after the last state
    left = english_left(page, code)
    assert code == "en" or left == [], f"{what} in {code} still shows English: {left}"


@pytest.mark.parametrize("locale", list(LOCALES))
def test_each_shipped_language_follows_the_browser_with_nothing_left_in_english(
        locale: str, browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    code = LOCALES[locale]
    rnd = run_async(lambda: answered_round(director))
    hub.start()
    paths = {"judge": f"/judge/{store.tokens('panelists')['panel-1']}",
             "finalist": f"/finalist/{store.tokens('finalists')['ray']}", "stage": "/stage", "phone": "/"}
    opened = {name: open_page(browser, hub.base + path, locale=locale) for name, path in paths.items()}
    for name, page in opened.items():
        in_language(page.page, code, f"{name}, answered")
    director.open_poll(rnd.id, 300)
    phone = opened["phone"].page
    expect(phone.locator("button.vote")).to_have_count(len(rnd.labels))
    label = sorted(rnd.labels.values())[0]
    answer = phone.locator(f"li[data-label='{label}'] .text")
    expect(answer).to_have_text(re.compile(r"[A-Za-z]{3}"))  # the model's English answer, as written
    assert answer.get_attribute("dir") == "auto" and answer.get_attribute("data-i18n") is None
    phone.locator(f"button.vote[data-label='{label}']").click()
    received = catalogue(code)["phone.received"].replace("{label}", label)
    expect(phone.locator("#notice")).to_have_text(received)
    in_language(phone, code, "phone, voted")
    in_language(opened["stage"].page, code, "stage, voting")
    expect(phone.locator("#prompt")).to_have_text(rnd.prompt)  # the question as written, never translated
    for page in opened.values():
        page.clean()


def test_the_switch_changes_the_language_and_is_remembered(
        browser: Browser, director: Director, store: Store, hub: HubProcess) -> None:
    rnd = run_async(lambda: answered_round(director))
    director.open_poll(rnd.id, 300)
    hub.start()
    phone = open_page(browser, hub.base + "/", locale="ja-JP")
    page = phone.page
    in_language(page, "ja", "phone")
    switch = page.get_by_label(catalogue("ja")["language.label"])
    assert switch.evaluate("(n) => n.id") == "language", "the switch is a labelled <select>"
    switch.select_option("fr")
    in_language(page, "fr", "phone after the switch")
    label = sorted(rnd.labels.values())[1]
    expect(page.locator(f"button.vote[data-label='{label}']")).to_have_text(f"Voter pour {label}")
    assert page.evaluate("localStorage.getItem('finale.language')") == "fr"
    page.evaluate("document.querySelector('main').append(Object.assign(document.createElement('p'), "
                  "{id: 'planted', textContent: 'Waiting for a round'}))")
    assert english_left(page, "fr") == ["planted: Waiting for a round"], "the check sees a string left in English"
    page.evaluate("document.getElementById('planted').remove()")
    page.reload()
    in_language(page, "fr", "phone after a reload")
    page.get_by_label(catalogue("fr")["language.label"]).select_option("zh-Hans")
    in_language(page, "zh-Hans", "phone switched again")
    phone.clean()


@pytest.fixture
def worded_store(db_path: Path, demo_config: EventConfig) -> Store:
    config = demo_config.model_copy(update={"pages": PagesSection.model_validate(
        {"stage_language": "ja", "strings": {"en": {"phone.wait.none.title": "Hang on: the show starts soon"}}})})
    s = Store(db_path)
    s.setup_event(config)
    return s


def test_the_event_file_chooses_the_stage_language_and_rewords_a_string(
        browser: Browser, worded_store: Store, db_path: Path, tmp_path: Path) -> None:
    hub = HubProcess(db_path, free_port(), tmp_path / "hub.log")
    hub.start()
    try:
        stage = open_page(browser, hub.base + "/stage", locale="en-US", viewport={"width": 1280, "height": 720})
        in_language(stage.page, "ja", "stage with stage_language = ja")
        expect(stage.page.locator("#idle-title")).to_have_text(catalogue("ja")["stage.scan"])
        phone = open_page(browser, hub.base + "/", locale="en-US")
        in_language(phone.page, "en", "phone (stage_language is the stage's only)")
        expect(phone.page.locator("#waiting-title")).to_have_text("Hang on: the show starts soon")
        stage.page.get_by_label(catalogue("ja")["language.label"]).select_option("de")
        in_language(stage.page, "de", "stage switched by hand")
        stage.page.reload()
        in_language(stage.page, "de", "the stage's own choice outlives a reload")
        director_for(worded_store)  # the event still drives (the store is the show's)
        stage.clean()
        phone.clean()
    finally:
        hub.stop()
        worded_store.close()
