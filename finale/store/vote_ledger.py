"""A connection's copy of the counted votes of the rounds it decides: the vote rule's look-ups, from memory.

Why: inside each batch's transaction the store asks the core's rule again, which needs each
voter's counted vote and the number of counted voters of each origin. Asked of the table, that
was two look-ups a batch and an index on the origin to keep up, about half of the batch's SQL and
a quarter of the hub's CPU per vote (bench/store_batch_shapes.py, bench/README.md). The copy is
exactly the table's rows as long as nothing else changed the table since it was read:
- other connections: `PRAGMA data_version` changes whenever one commits, and the store reads it
  inside the batch's transaction (whose write lock no one else can take), so a copy read at
  another version is dropped and read again;
- this connection: the batch's own votes are added as they are accepted, and what else writes the
  table on it (the rehearsal wipe), or a transaction that rolls back or fails to commit, drops
  the whole ledger (`StoreBase._forget_cached`, which finale.store.votes overrides).
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

Counted = tuple[str | None, str, str | None]  # (client message id, label, origin) of a voter's counted vote


@dataclass
class RoundLedger:
    """One round's counted votes by voter, and how many voters of each origin are counted."""

    counted: dict[str, Counted] = field(default_factory=dict)
    crowd: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, conn: sqlite3.Connection, round_id: int) -> RoundLedger:
        """The round's rows as the table holds them now."""
        ledger = cls()
        for device, msg_id, label, origin in conn.execute(
                "SELECT device_id, client_msg_id, label, origin FROM votes WHERE round_id=?", (round_id,)):
            ledger.counted[device] = (msg_id, str(label), origin)
            if origin is not None:
                ledger.crowd[origin] = ledger.crowd.get(origin, 0) + 1
        return ledger

    def count(self, device: str, msg_id: str | None, label: str, origin: str | None) -> None:
        """This voter's vote is now the counted one (the batch's upsert writes it); its origin's count follows it."""
        before = self.counted.get(device)
        came_from = before[2] if before is not None else None
        if came_from != origin:
            if came_from is not None:
                self.crowd[came_from] = self.crowd.get(came_from, 1) - 1
            if origin is not None:
                self.crowd[origin] = self.crowd.get(origin, 0) + 1
        self.counted[device] = (msg_id, label, origin)


class VoteLedger:
    """The ledgers of the last `keep` rounds this connection decided votes in, as of one data version."""

    def __init__(self, keep: int = 2) -> None:  # the current round, and the one before it (resends across a new round)
        self.keep = keep
        self._version: int | None = None
        self._rounds: OrderedDict[int, RoundLedger] = OrderedDict()
        self.reads = 0  # rounds read from the table (a test can tell a copy was used, or read again)

    def rounds(self, conn: sqlite3.Connection, round_ids: Iterable[int], version: int) -> dict[int, RoundLedger]:
        """The ledger of each round, read from the table when another connection committed since (`version`)."""
        if version != self._version:
            self._rounds.clear()
            self._version = version
        wanted = list(dict.fromkeys(round_ids))
        for round_id in wanted:
            if round_id in self._rounds:
                self._rounds.move_to_end(round_id)
            else:
                self._rounds[round_id] = RoundLedger.read(conn, round_id)
                self.reads += 1
        while len(self._rounds) > max(self.keep, len(wanted)):
            self._rounds.popitem(last=False)
        return {round_id: self._rounds[round_id] for round_id in wanted}
