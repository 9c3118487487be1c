"""Finalists' prompt settings (system prompt, temperature, max tokens), versioned."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from finale.core.model import Event, PromptSettings
from finale.core.phases import settings_locked
from finale.core.tuning import validate_settings
from finale.store.base import StoreError
from finale.store.rounds import RoundsMixin
from finale.store.setup import SetupMixin


class SettingsMixin(RoundsMixin, SetupMixin):
    """Each finalist's settings history; a new version only while no round is being asked."""

    def event(self) -> Event:
        """The core event, with each finalist's current prompt settings."""
        ev = self.event_config().to_core()
        return replace(ev, finalists=tuple(replace(f, settings=self.settings(f.id)) for f in ev.finalists))

    def settings(self, finalist_id: str, version: int | None = None) -> PromptSettings:
        """A finalist's settings: the latest version, or the one asked for."""
        sql = "SELECT * FROM prompt_settings WHERE finalist_id=?"
        params: list[Any] = [finalist_id]
        if version is not None:
            sql += " AND version=?"
            params.append(version)
        sql += " ORDER BY version DESC LIMIT 1"
        rows = list(self.db.query(sql, params))
        if not rows:
            raise StoreError(f"no prompt settings for finalist {finalist_id!r}")
        r = rows[0]
        return PromptSettings(r["system_prompt"], r["temperature"], r["max_tokens"], r["version"])

    def settings_history(self, finalist_id: str) -> list[dict[str, Any]]:
        """Every version of a finalist's settings, oldest first, with who changed them and when."""
        return list(self.db.query(
            "SELECT version, system_prompt, temperature, max_tokens, actor, created_at FROM prompt_settings "
            "WHERE finalist_id=? ORDER BY version", [finalist_id]))

    def settings_lock(self) -> str | None:
        """Why finalists' settings cannot change now (a round is being asked or later), or None."""
        current = self.current_round()
        if current is not None and settings_locked(current.phase):
            return f"settings are locked while round {current.id} is {current.phase}"
        return None

    def save_settings(self, finalist_id: str, system_prompt: object, temperature: object, max_tokens: object,
                      actor: str) -> PromptSettings:
        """A new settings version; refused while the current round is being asked or later."""
        proposed = validate_settings(system_prompt, temperature, max_tokens)
        with self.transaction():
            locked = self.settings_lock()
            if locked is not None:
                raise StoreError(locked)
            version = self.settings(finalist_id).version + 1
            self.conn.execute("INSERT INTO prompt_settings VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (finalist_id, version, proposed.system_prompt, proposed.temperature,
                               proposed.max_tokens, actor, time.time()))
            self.log(actor, "settings.changed", {"finalist_id": finalist_id, "version": version,
                                                 "temperature": proposed.temperature,
                                                 "max_tokens": proposed.max_tokens,
                                                 "system_prompt": proposed.system_prompt})
        return PromptSettings(proposed.system_prompt, proposed.temperature, proposed.max_tokens, version)
