"""Audience votes: one per device per round, the later cast wins, replays counted once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from finale.store.rounds import RoundsMixin


@dataclass(frozen=True)
class VoteIn:
    """A vote as the hub receives it, before it is stored."""

    round_id: int
    device_id: str
    label: str
    client_msg_id: str | None
    cast_at: float


class VotesMixin(RoundsMixin):
    """Recording batches of votes and reading the counts."""

    def record_votes(self, votes: Sequence[VoteIn], actor: str = "hub") -> int:
        """Upsert a batch of votes in one transaction with one audit event; the later cast wins.

        A vote resent after a lost ack (same round, device, client message id and label as the vote
        already counted, or as one earlier in the batch) is a replay: it is acknowledged but neither
        stored nor logged again, so every vote is in the table and the audit log exactly once.
        """
        if not votes:
            return 0
        with self.transaction():
            votes = self._new_votes(votes)
            if not votes:
                return 0
            self.conn.executemany(
                "INSERT INTO votes VALUES (?, ?, ?, ?, ?) ON CONFLICT(round_id, device_id) DO UPDATE SET "
                "label=excluded.label, client_msg_id=excluded.client_msg_id, cast_at=excluded.cast_at "
                "WHERE excluded.cast_at >= votes.cast_at",
                [(v.round_id, v.device_id, v.label, v.client_msg_id, v.cast_at) for v in votes],
            )
            by_round: dict[int, list[list[Any]]] = {}
            for v in votes:
                by_round.setdefault(v.round_id, []).append([v.device_id, v.label, v.client_msg_id, v.cast_at])
            for round_id, rows in by_round.items():
                self.log(actor, "votes.recorded", {"votes": rows}, round_id)
        return len(votes)

    def _new_votes(self, votes: Sequence[VoteIn]) -> list[VoteIn]:
        """The batch without replays of the counted vote (call inside the transaction)."""
        counted: dict[tuple[int, str], tuple[str | None, str]] = {}
        by_round: dict[int, list[str]] = {}
        for v in votes:
            if v.client_msg_id is not None:
                by_round.setdefault(v.round_id, []).append(v.device_id)
        for round_id, devices in by_round.items():
            for i in range(0, len(devices), 500):
                chunk = devices[i:i + 500]
                rows = self.conn.execute(
                    f"SELECT device_id, client_msg_id, label FROM votes WHERE round_id=? AND device_id IN "
                    f"({','.join('?' * len(chunk))})", [round_id, *chunk])
                counted.update({(round_id, d): (m, lab) for d, m, lab in rows})
        fresh: list[VoteIn] = []
        for v in votes:
            key = (v.round_id, v.device_id)
            if v.client_msg_id is not None and counted.get(key) == (v.client_msg_id, v.label):
                continue
            fresh.append(v)
            counted[key] = (v.client_msg_id, v.label)
        return fresh

    def counted_vote(self, round_id: int, device_id: str) -> tuple[str | None, str] | None:
        """(client message id, label) of a device's counted vote in a round, or None.

        Lets the hub acknowledge a resend of a vote it stored before the close even
        when the resend itself arrives after the close (its ack was lost on the way).
        """
        row = self.conn.execute("SELECT client_msg_id, label FROM votes WHERE round_id=? AND device_id=?",
                                (round_id, device_id)).fetchone()
        return None if row is None else (row[0], str(row[1]))

    def device_vote(self, round_id: int, device_id: str) -> str | None:
        """The label a device's counted vote is for in a round, or None (for the hub's reconnects)."""
        row = self.conn.execute("SELECT label FROM votes WHERE round_id=? AND device_id=?",
                                (round_id, device_id)).fetchone()
        return None if row is None else str(row[0])

    def vote_labels(self, round_id: int) -> dict[str, int]:
        """Votes per anonymous label."""
        return {r["label"]: r["n"] for r in self.db.query(
            "SELECT label, COUNT(*) AS n FROM votes WHERE round_id=? GROUP BY label", [round_id])}

    def vote_counts(self, round_id: int) -> dict[str, int]:
        """Votes per finalist id, through the round's label mapping."""
        rnd = self.round(round_id)
        by_label = self.vote_labels(round_id)
        return {fid: by_label.get(label, 0) for fid, label in rnd.labels.items()}

    def votes(self, round_id: int) -> list[dict[str, Any]]:
        """A round's counted votes as rows, in the order they were cast."""
        return list(self.db.query("SELECT * FROM votes WHERE round_id=? ORDER BY cast_at", [round_id]))
