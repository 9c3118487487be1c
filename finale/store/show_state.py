"""Show-wide switches (current round, paused, frozen, revealed...) in the `show_state` table."""

from __future__ import annotations

import json
from typing import Any

from finale.store.audit import AuditMixin


class ShowStateMixin(AuditMixin):
    """Reading and writing the show-wide key/value switches."""

    def _set_show(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT INTO show_state VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                          (key, json.dumps(value)))

    def set_show_state(self, key: str, value: Any, actor: str) -> None:
        """Show-wide switches (paused, frozen, revealed...), logged like everything else."""
        with self.transaction():
            self._set_show(key, value)
            self.log(actor, f"show.{key}", {"value": value})

    def show_state(self) -> dict[str, Any]:
        """Every show-wide switch by key, JSON-decoded."""
        return {r["key"]: json.loads(r["value"]) for r in self.db.query("SELECT * FROM show_state")}
