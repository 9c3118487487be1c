"""The sealed manifest: stored once before the first round, and every later change to it, each with its event.

`seal` stores the manifest (finale.seal.build_manifest) and its SHA-256 in the
`seals` table and logs `seal.sealed` with both in the same transaction, so the
events table alone holds everything `finale verify` checks the hash against.
A changed event file set up after the seal (setup_event, e.g. the console
restarted on an edited file) logs `seal.changed` with the new hash, the
previous one and which sections changed. The seal key keys the deck's
commitments; like the voter secret it stays in `meta`, never logged or exported.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from finale.config import EventConfig
from finale.core.manifest import changed_sections, digest
from finale.seal import build_manifest
from finale.store.base import StoreError
from finale.store.settings import SettingsMixin

SEAL_KEY = "seal_key"  # the meta key of the event's seal key
SEALED = "seal.sealed"
CHANGED = "seal.changed"


@dataclass(frozen=True)
class SealRow:
    """One manifest on the record: the seal itself, or a change after it."""

    sha256: str
    manifest: dict[str, Any]
    kind: str  # SEALED or CHANGED
    actor: str
    at: float
    seq: int  # its event in the audit log


class SealMixin(SettingsMixin):
    """Sealing, recording changes after the seal, and reading the seal back."""

    def seal_key(self) -> bytes:
        """The key of the deck's commitments (core.manifest); made by the schema migration."""
        raw = self._meta(SEAL_KEY)
        if raw is None:
            raise StoreError(f"{self.path}: no seal key in this database; open it with this finale to migrate it")
        return bytes.fromhex(raw)

    def _manifest(self, config: EventConfig) -> dict[str, Any]:
        settings = {f.id: self.settings(f.id) for f in config.finalists}
        return build_manifest(config, settings, self.seal_key())

    def seal(self, actor: str) -> tuple[SealRow, bool]:
        """Seal the event as set up now, unless it is sealed already: (the seal in force, whether this call made it)."""
        with self.transaction():
            current = self.sealed()
            if current is not None:
                return current, False
            return self._store_manifest(self._manifest(self.event_config()), SEALED, actor, {}), True

    def _store_manifest(self, manifest: dict[str, Any], kind: str, actor: str, extra: dict[str, Any]) -> SealRow:
        sha = digest(manifest)
        now = time.time()
        seq = self.log(actor, kind, {"sha256": sha, "manifest": manifest, **extra}, at=now)
        self.conn.execute("INSERT INTO seals (sha256, manifest, kind, actor, created_at, seq) "
                          "VALUES (?, ?, ?, ?, ?, ?)",
                          (sha, json.dumps(manifest, sort_keys=True, ensure_ascii=False), kind, actor, now, seq))
        return SealRow(sha, manifest, kind, actor, now, seq)

    def _event_file_changed(self, config: EventConfig, actor: str) -> None:
        """A changed event file after the seal is on the record: the new manifest, its hash and what changed."""
        current = self.sealed()
        if current is None:
            return
        manifest = self._manifest(config)
        if digest(manifest) == current.sha256:
            return
        self._store_manifest(manifest, CHANGED, actor, {"previous": current.sha256,
                                                        "changed": changed_sections(current.manifest, manifest)})

    def seals(self) -> list[SealRow]:
        """The seal and every change after it, oldest first."""
        return [_row(r) for r in self.db.query("SELECT * FROM seals ORDER BY id")]

    def sealed(self) -> SealRow | None:
        """The manifest in force (the latest on the record), or None before the seal."""
        rows = [_row(r) for r in self.db.query("SELECT * FROM seals ORDER BY id DESC LIMIT 1")]
        return rows[0] if rows else None

    def seal_hash(self) -> str | None:
        """The SHA-256 of the manifest in force (the stage's idle screen shows it), or None before the seal."""
        row = self.conn.execute("SELECT sha256 FROM seals ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else str(row[0])


def _row(r: dict[str, Any]) -> SealRow:
    return SealRow(r["sha256"], json.loads(r["manifest"]), r["kind"], r["actor"], r["created_at"], r["seq"])
