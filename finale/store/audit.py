"""The audit log: every change appends one `events` row in the transaction that makes it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from finale.store.base import StoreBase


@dataclass(frozen=True)
class EventRow:
    """One line of the audit log."""

    seq: int
    at: float
    actor: str
    kind: str
    round_id: int | None
    payload: dict[str, Any]


class AuditMixin(StoreBase):
    """Writing and reading the `events` table."""

    def log(self, actor: str, kind: str, payload: dict[str, Any], round_id: int | None = None,
            at: float | None = None) -> int:
        """Append one event; call inside the transaction that makes the change."""
        return self.log_json(actor, kind, json.dumps(payload, sort_keys=True, ensure_ascii=False), round_id, at)

    def log_json(self, actor: str, kind: str, payload: str, round_id: int | None = None,
                 at: float | None = None) -> int:
        """`log` with the payload already encoded as a JSON object (keys sorted): the vote batches' fast path."""
        cur = self.conn.execute(
            "INSERT INTO events (at, actor, kind, round_id, payload) VALUES (?, ?, ?, ?, ?)",
            (at if at is not None else time.time(), actor, kind, round_id, payload),
        )
        return int(cur.lastrowid or 0)

    def events(self, since: int = 0, kind: str | None = None, round_id: int | None = None,
               limit: int | None = None) -> list[EventRow]:
        """Events after sequence number `since`, oldest first; `kind` may end in `*` (e.g. "poll.*")."""
        where = ["seq > ?"]
        params: list[Any] = [since]
        if kind is not None:
            where.append("kind LIKE ?")
            params.append(kind.replace("*", "%"))
        if round_id is not None:
            where.append("round_id = ?")
            params.append(round_id)
        sql = f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [
            EventRow(r["seq"], r["at"], r["actor"], r["kind"], r["round_id"], json.loads(r["payload"]))
            for r in self.db.query(sql, params)
        ]

    def highest_event_seq(self) -> int:
        """The highest sequence number the log ever issued (AUTOINCREMENT keeps it when rows are deleted)."""
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name='events'").fetchone()
        return 0 if row is None else int(row[0])

    def event_kinds_since(self, seq: int) -> list[tuple[int, str]]:
        """(sequence number, kind) of every event after `seq`: what changed, without the payloads."""
        rows = self.conn.execute("SELECT seq, kind FROM events WHERE seq > ? ORDER BY seq", (seq,))
        return [(int(n), str(kind)) for n, kind in rows]

    def event_kind_counts(self) -> dict[str, int]:
        """How many events of each kind the log holds, by kind (for the report's audit summary)."""
        rows = self.conn.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind ORDER BY kind")
        return {str(kind): int(n) for kind, n in rows}
