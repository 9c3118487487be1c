"""The show-wide state in the `show_state` table: the current round and the MC's typed switches."""

from __future__ import annotations

import json
from typing import Any

from finale.core.switches import ShowSwitches
from finale.store.audit import AuditMixin


class ShowStateMixin(AuditMixin):
    """Reading and writing the current round and the switches."""

    def _set_show(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT INTO show_state VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                          (key, json.dumps(value)))

    def switches(self) -> ShowSwitches:
        """The MC's show-wide switches (pause, freeze, reveal progress), typed (core.switches)."""
        row = self.conn.execute("SELECT value FROM show_state WHERE key='switches'").fetchone()
        return ShowSwitches.from_dict(json.loads(row[0]) if row is not None else None)

    def save_switches(self, switches: ShowSwitches, actor: str, kind: str,
                      payload: dict[str, Any] | None = None) -> ShowSwitches:
        """Write the switches the core moved, with their audit event, in one transaction."""
        with self.transaction():
            self._set_show("switches", switches.as_dict())
            self.log(actor, kind, {**switches.as_dict(), **(payload or {})})
        return switches

    def show_state(self) -> dict[str, Any]:
        """Every show-wide switch by key, JSON-decoded."""
        return {r["key"]: json.loads(r["value"]) for r in self.db.query("SELECT * FROM show_state")}
