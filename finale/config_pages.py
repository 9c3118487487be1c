"""The event file's [pages] section: the stage's language, and the event's own wording of any page string.

The pages' strings ship as one JSON catalogue per language (audience/static/i18n/<code>.json, keys like
`phone.voteFor`, values with {placeholders}, a plural a table of CLDR forms). An event can reword any of
them per language, and choose the stage's language:

    [pages]
    stage_language = "ja"
    [pages.strings.en]
    phone.waitingTitle = "Hang on: the MC opens voting soon"

A language that is not shipped, a key that no page uses, or a placeholder the string does not take is
refused with the key path, so a typo never passes silently. The hub serves each catalogue with the
overrides merged (`catalogue`), and the languages with the stage's (`languages`).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from pydantic import Field, field_validator

from finale.config_endpoints import Strict

DEFAULT_LANGUAGE = "en"
PLURAL_FORMS = ("zero", "one", "two", "few", "many", "other")
Value = str | dict[str, str]


@cache
def shipped() -> dict[str, dict[str, Value]]:
    """Every shipped catalogue by language code, read once from the hub's static files."""
    folder = resources.files("audience") / "static" / "i18n"
    out: dict[str, dict[str, Value]] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            out[entry.name.removesuffix(".json")] = json.loads(entry.read_text(encoding="utf-8"))
    return out


def placeholders(value: Value) -> set[str]:
    """The {names} a string (or every form of a plural) uses."""
    texts = [value] if isinstance(value, str) else list(value.values())
    return {name for text in texts for name in re.findall(r"\{(\w+)\}", text)}


def _flatten(table: dict[str, Any], known: dict[str, Value], where: str, prefix: str = "") -> dict[str, Value]:
    """TOML's dotted keys (`phone.voteFor = ...` is a nested table) back to the catalogue's flat keys."""
    out: dict[str, Value] = {}
    for part, value in table.items():
        key = prefix + part
        if key in known:
            out[key] = _checked(value, known[key], f"{where}.{key}")
        elif isinstance(value, dict) and any(k.startswith(key + ".") for k in known):
            out.update(_flatten(value, known, where, key + "."))
        else:
            raise ValueError(f"{where}.{key}: unknown string (no page uses it; the keys are those of "
                             f"audience/static/i18n/{DEFAULT_LANGUAGE}.json)")
    return out


def _checked(value: Any, shipped_value: Value, where: str) -> Value:
    if isinstance(shipped_value, dict):
        if isinstance(value, str):
            value = {"other": value}
        if not isinstance(value, dict) or not value or not all(isinstance(v, str) for v in value.values()):
            raise ValueError(f"{where}: expected a string or a table of plural forms ({', '.join(PLURAL_FORMS)})")
        if "other" not in value or set(value) - set(PLURAL_FORMS):
            raise ValueError(f"{where}: plural forms are {', '.join(PLURAL_FORMS)}, with 'other' always; "
                             f"got {', '.join(sorted(value))}")
    elif not isinstance(value, str):
        raise ValueError(f"{where}: expected a string; got {value!r}")
    extra = placeholders(value) - placeholders(shipped_value)
    if extra:
        takes = ", ".join("{" + p + "}" for p in sorted(placeholders(shipped_value))) or "no placeholders"
        raise ValueError(f"{where}: unknown placeholder {', '.join('{' + p + '}' for p in sorted(extra))}; "
                         f"this string takes {takes}")
    return value


def _language(code: str) -> str:
    if code not in shipped():
        raise ValueError(f"unknown language {code!r}; expected one of {', '.join(shipped())}")
    return code


class PagesSection(Strict):
    """[pages]: the stage's language (None: the browser's) and per-language rewordings of page strings."""

    stage_language: str | None = None
    strings: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("stage_language")
    @classmethod
    def _stage_language(cls, code: str | None) -> str | None:
        return None if code is None else _language(code)

    @field_validator("strings")
    @classmethod
    def _strings(cls, strings: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {_language(code): _flatten(table, shipped()[code], code) for code, table in strings.items()}

    def catalogue(self, code: str) -> dict[str, Value] | None:
        """Language `code`'s strings as the pages get them (English for any key it lacks), None if not shipped."""
        if code not in shipped():
            return None
        return {**shipped()[DEFAULT_LANGUAGE], **shipped()[code], **self.strings.get(code, {})}

    def languages(self) -> dict[str, Any]:
        """What the language switch offers (each language's own name) and the stage's language."""
        names = [{"code": code, "name": self.catalogue(code)["language.name"]}  # type: ignore[index]
                 for code in shipped()]
        return {"languages": names, "default": DEFAULT_LANGUAGE, "stage_language": self.stage_language}
