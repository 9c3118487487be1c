"""Audience votes: one per device per round, the later cast wins, replays counted once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from finale.core.model import Round
from finale.core.poll import Arrival, Ballot, VoteDecision, VoteOutcome, decide_vote, votes_per_finalist
from finale.store.base import StoreError
from finale.store.rounds import RoundsMixin


@dataclass(frozen=True)
class VoteIn:
    """A vote as the hub receives it, before it is stored."""

    round_id: int
    device_id: str
    label: str
    client_msg_id: str | None
    cast_at: float
    arrival: Arrival | None = None  # what the hub knew of a late arrival (core.poll.stalled_across)


class VotesMixin(RoundsMixin):
    """Recording batches of votes and reading the counts."""

    def record_votes(self, votes: Sequence[VoteIn], actor: str = "hub") -> int:
        """Decide and store a batch of votes (see `decide_votes`); the number stored."""
        return sum(1 for d in self.decide_votes(votes, actor) if d.outcome is VoteOutcome.ACCEPT)

    def decide_votes(self, votes: Sequence[VoteIn], actor: str = "hub") -> list[VoteDecision]:
        """Judge each vote by the core's rule on the round as it is now, and store the accepted ones.

        One transaction with one audit event per round; the later cast wins. The rule
        (core.poll.decide_vote) is asked here again, inside the transaction, whatever the hub
        decided on its cached view: a vote cast after the close or during a pause is refused,
        and a vote resent after a lost ack (same round, device, client message id and label as
        the vote already counted, or as one earlier in the batch) is a replay: acknowledged but
        neither stored nor logged again, so every vote is in the table and the audit log once.
        Returns one decision per vote, in order.
        """
        if not votes:
            return []
        with self.transaction():
            decisions = self._decide(votes)
            votes = [v for v, d in zip(votes, decisions, strict=True) if d.outcome is VoteOutcome.ACCEPT]
            if not votes:
                return decisions
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
        return decisions

    def _decide(self, votes: Sequence[VoteIn]) -> list[VoteDecision]:
        """The core's decision on each vote against the rounds and counted votes as stored (in the transaction)."""
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
        rounds: dict[int, Round | None] = {}
        decisions: list[VoteDecision] = []
        for v in votes:
            if v.round_id not in rounds:
                try:
                    rounds[v.round_id] = self.round(v.round_id)
                except StoreError:
                    rounds[v.round_id] = None
            key = (v.round_id, v.device_id)
            ballot = Ballot(v.round_id, v.label, v.client_msg_id, v.cast_at, v.arrival)
            decision = decide_vote(rounds[v.round_id], ballot, counted.get(key))
            if decision.outcome is VoteOutcome.ACCEPT:
                counted[key] = (v.client_msg_id, v.label)
            decisions.append(decision)
        return decisions

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
        return votes_per_finalist(self.vote_labels(round_id), self.round(round_id).labels)

    def votes(self, round_id: int) -> list[dict[str, Any]]:
        """A round's counted votes as rows, in the order they were cast."""
        return list(self.db.query("SELECT * FROM votes WHERE round_id=? ORDER BY cast_at", [round_id]))
