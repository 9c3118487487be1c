"""The event's setup (finalists, panelists, questions, the event file) and private-link tokens."""

from __future__ import annotations

import secrets
import time

from finale.config import EventConfig
from finale.store.audit import AuditMixin
from finale.store.base import StoreError

VOTER_SECRET = "voter_secret"  # the meta key of the event's voter secret


def token_owner(tokens: dict[str, str], token: str) -> str | None:
    """Whose private-link token this is, comparing against every token so timing tells nothing."""
    owner = None
    for ident, tok in tokens.items():
        if secrets.compare_digest(tok.encode(), token.encode()):
            owner = ident
    return owner


class SetupMixin(AuditMixin):
    """Writing the event's setup once and reading it back."""

    def setup_event(self, config: EventConfig, actor: str = "organiser") -> None:
        """Write the event's setup once; re-running keeps tokens, settings and rounds."""
        existing = self._meta("event_config")
        new_json = config.model_dump_json()
        with self.transaction():
            if self._meta("event_id") is None:  # who this database is, whatever its path (see `event_id`)
                self._set_meta("event_id", secrets.token_hex(8))
            if self._meta(VOTER_SECRET) is None:  # signs voter credentials (core.ballot); never logged or exported
                self._set_meta(VOTER_SECRET, secrets.token_hex(32))
            if existing is not None and existing == new_json:
                return
            self._set_meta("event_config", new_json)
            for pos, f in enumerate(config.finalists):
                self.conn.execute(
                    "INSERT INTO finalists (id, name, position, token) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET name=excluded.name, position=excluded.position",
                    (f.id, f.name, pos, secrets.token_urlsafe(16)),
                )
                if self.conn.execute("SELECT 1 FROM prompt_settings WHERE finalist_id=?", (f.id,)).fetchone() is None:
                    self.conn.execute(
                        "INSERT INTO prompt_settings VALUES (?, 1, ?, ?, ?, ?, ?)",
                        (f.id, f.system_prompt, config.generation.temperature, config.generation.max_tokens,
                         actor, time.time()),
                    )
            for pos, p in enumerate(config.panelists):
                self.conn.execute(
                    "INSERT INTO panelists (id, name, position, token) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET name=excluded.name, position=excluded.position",
                    (p.id, p.name, pos, secrets.token_urlsafe(16)),
                )
            self.conn.execute("DELETE FROM questions")
            for pos, q in enumerate(config.questions):
                self.conn.execute("INSERT INTO questions VALUES (?, ?, ?, ?, ?)",
                                  (q.id, q.prompt, q.expected, q.check, pos))
            self.log(actor, "event.setup", {"name": config.event.name,
                                            "finalists": [f.id for f in config.finalists],
                                            "panelists": [p.id for p in config.panelists],
                                            "questions": [q.id for q in config.questions]})
            self._event_file_changed(config, actor)

    def _event_file_changed(self, config: EventConfig, actor: str) -> None:
        """Called in setup_event's transaction after a changed event file is stored (the seal records it)."""

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                          (key, value))

    def event_id(self) -> str | None:
        """This database's identity, made at setup: a hub reports it so a console adopts only its own database's hub
        (a file deleted and set up again at the same path has another)."""
        return self._meta("event_id")

    def voter_secret(self) -> bytes:
        """The event's key for voter credentials, join codes and origin hashes (core.ballot).

        Made by the schema migration or the setup; it stays in the database's `meta` table and is
        never logged, exported or shown (`finale export` does not include `meta`).
        """
        raw = self._meta(VOTER_SECRET)
        if raw is None:
            raise StoreError(f"{self.path}: no voter secret in this database; set the event up with `finale run`")
        return bytes.fromhex(raw)

    def event_config(self) -> EventConfig:
        """The event file as it was set up in this database."""
        raw = self._meta("event_config")
        if raw is None:
            raise StoreError(f"{self.path}: no event set up in this database")
        return EventConfig.model_validate_json(raw)

    def tokens(self, table: str) -> dict[str, str]:
        """Private link tokens per panelist or finalist id (never logged, never exported)."""
        if table not in ("panelists", "finalists"):
            raise StoreError(f"no tokens for {table!r}")
        return {r["id"]: r["token"] for r in self.db.query(f"SELECT id, token FROM {table} ORDER BY position")}

    def who_has_token(self, table: str, token: str) -> str | None:
        """The panelist or finalist id a private-link token belongs to, or None."""
        return token_owner(self.tokens(table), token)
