"""Limits on what a finalist may tune between rounds, checked before anything is stored."""

from __future__ import annotations

from finale.core.model import PromptSettings
from finale.core.text import inert

MAX_SYSTEM_PROMPT_CHARS = 4000
TEMPERATURE_RANGE = (0.0, 2.0)
MAX_TOKENS_RANGE = (1, 4096)


class SettingsError(ValueError):
    """Raised for prompt settings outside the allowed ranges."""


def validate_settings(system_prompt: object, temperature: object, max_tokens: object) -> PromptSettings:
    """Check a finalist's proposed settings; the message says which field and the allowed range."""
    if not isinstance(system_prompt, str):
        raise SettingsError("system_prompt: expected text")
    if len(system_prompt) > MAX_SYSTEM_PROMPT_CHARS:
        raise SettingsError(f"system_prompt: at most {MAX_SYSTEM_PROMPT_CHARS} characters; got {len(system_prompt)}")
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        raise SettingsError("temperature: expected a number")
    lo, hi = TEMPERATURE_RANGE
    if not lo <= float(temperature) <= hi:
        raise SettingsError(f"temperature: expected {lo} to {hi}; got {temperature}")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise SettingsError("max_tokens: expected a whole number")
    tlo, thi = MAX_TOKENS_RANGE
    if not tlo <= max_tokens <= thi:
        raise SettingsError(f"max_tokens: expected {tlo} to {thi}; got {max_tokens}")
    return PromptSettings(system_prompt=inert(system_prompt), temperature=float(temperature), max_tokens=max_tokens)
