"""The pages' catalogues (audience/static/i18n/*.json) and the event file's [pages] section, without a browser.

Every shipped language has exactly English's keys, a plural where English has one (with `other`), and the
same placeholders; the event file's overrides are checked against them with errors that name the key;
the hub serves each catalogue with the overrides merged.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from pathlib import Path

import pytest

from audience.pages import Pages, TokenGuard
from finale.config import ConfigError, EventConfig, PagesSection, parse_event
from finale.config_pages import PLURAL_FORMS, placeholders, shipped
from finale.demo import DEMO_EVENT

CATALOGUES = Path(__file__).resolve().parents[2] / "audience" / "static" / "i18n"
LANGUAGES = ("en", "es", "fr", "de", "ja", "zh-Hans")


def load(code: str) -> dict[str, object]:
    return dict(json.loads((CATALOGUES / f"{code}.json").read_text(encoding="utf-8")))


def test_the_six_languages_ship() -> None:
    assert sorted(p.stem for p in CATALOGUES.glob("*.json")) == sorted(LANGUAGES)
    assert sorted(shipped()) == sorted(LANGUAGES)


@pytest.mark.parametrize("code", [c for c in LANGUAGES if c != "en"])
def test_every_language_has_englishs_keys_plurals_and_placeholders(code: str) -> None:
    en, other = load("en"), load(code)
    assert sorted(set(en) - set(other)) == [], f"{code}.json lacks keys"
    assert sorted(set(other) - set(en)) == [], f"{code}.json has keys no page uses"
    for key, value in en.items():
        theirs = other[key]
        assert isinstance(theirs, type(value)), f"{code}.{key}: a plural where English has one, a string otherwise"
        if isinstance(theirs, dict):
            assert "other" in theirs and set(theirs) <= set(PLURAL_FORMS), f"{code}.{key}: plural forms {theirs}"
        assert placeholders(theirs) == placeholders(value), f"{code}.{key}: placeholders differ from English"  # type: ignore[arg-type]
        assert theirs, f"{code}.{key} is empty"
    same = [k for k, v in en.items() if other[k] == v and isinstance(v, str) and any(c.isalpha() for c in v)
            and not v.startswith(("LLM", "{")) and v not in ("ok", "Total", "0–10", "Finale")]
    assert len(same) <= 8, f"{code}: these read exactly as in English, are they translated? {same}"


def with_pages(pages: dict[str, object]) -> dict[str, object]:
    import tomllib

    data = tomllib.loads(DEMO_EVENT.read_text(encoding="utf-8"))
    data["pages"] = pages
    return data


def test_the_event_file_chooses_the_stage_language_and_rewords_strings() -> None:
    config: EventConfig = parse_event(with_pages({
        "stage_language": "ja",
        "strings": {"en": {"phone": {"vote": "Pick {label}"},
                           "votes": {"one": "{count} ballot", "other": "{count} ballots"}},
                    "ja": {"stage.scan": "QRコードで投票"}}}))
    assert config.pages.stage_language == "ja"
    assert config.pages.catalogue("en")["phone.vote"] == "Pick {label}"  # type: ignore[index]
    assert config.pages.catalogue("ja")["stage.scan"] == "QRコードで投票"  # type: ignore[index]
    assert (config.pages.catalogue("fr") or {})["phone.vote"] == load("fr")["phone.vote"], "only the language named"
    again = EventConfig.model_validate_json(config.model_dump_json())  # the store keeps the config as JSON
    assert again.pages == config.pages


@pytest.mark.parametrize(("pages", "says"), [
    ({"stage_language": "jp"},
     "event.toml: pages.stage_language: unknown language 'jp'; expected one of de, en, es, fr, ja, zh-Hans"),
    ({"strings": {"klingon": {"phone.vote": "x"}}}, "event.toml: pages.strings: unknown language 'klingon'"),
    ({"strings": {"en": {"phone": {"votee": "x"}}}}, "pages.strings: en.phone.votee: unknown string (no page uses it"),
    ({"strings": {"en": {"phone.vote": "Vote {name}"}}},
     "en.phone.vote: unknown placeholder {name}; this string takes {label}"),
    ({"strings": {"de": {"votes": {"few": "x"}}}}, "de.votes: plural forms are zero, one, two, few, many, other"),
    ({"strings": {"en": {"phone.vote": 3}}}, "en.phone.vote: expected a string; got 3"),
    ({"colour": "red"}, "event.toml: pages.colour: unknown key"),
])
def test_a_wrong_pages_section_is_refused_with_the_key(pages: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_event(with_pages(pages))
    assert says in str(refused.value)


def test_the_hub_serves_the_merged_catalogues_and_the_languages() -> None:
    pages = Pages("http://127.0.0.1:8765/", lambda table, token: None, TokenGuard(10), dict)
    pages.use_pages(PagesSection.model_validate({"stage_language": "de",
                                                 "strings": {"es": {"phone.vote": "Elegir {label}"}}}))
    index = pages.respond("/i18n/index.json", "127.0.0.1")
    assert index.status_code == HTTPStatus.OK and index.headers["Content-Type"].startswith("application/json")
    listed = json.loads(index.body)
    assert listed["stage_language"] == "de" and listed["default"] == "en"
    assert {(lang["code"], lang["name"]) for lang in listed["languages"]} == {
        ("en", "English"), ("es", "Español"), ("fr", "Français"), ("de", "Deutsch"), ("ja", "日本語"),
        ("zh-Hans", "简体中文")}
    spanish = json.loads(pages.respond("/i18n/es.json", "127.0.0.1").body)
    assert spanish["phone.vote"] == "Elegir {label}" and spanish["phone.received"] == load("es")["phone.received"]
    assert "script-src 'self'" in pages.respond("/i18n/ja.json", "127.0.0.1").headers["Content-Security-Policy"]
    for missing in ("/i18n/xx.json", "/i18n/../config.json", "/i18n/"):
        assert pages.respond(missing, "127.0.0.1").status_code == HTTPStatus.NOT_FOUND
