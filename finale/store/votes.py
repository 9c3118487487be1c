"""Audience votes: one per voter per round, the later arrival wins, replays counted once.

"The last vote counts" is decided by arrival order: the hub's single writer commits votes in the
order it took them, and each batch's upsert replaces a voter's counted vote unconditionally, so the
table always holds the vote the audit log recorded last for that voter, whatever the clocks did.
Each vote keeps its origin (a keyed hash of the address, core.ballot.origin_tag) and its credential's
issue time, for the integrity view and the discount (core.discount).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import msgspec

from finale.config import EventConfig
from finale.core.ballot import BallotPolicy, OriginLoad
from finale.core.discount import VoteGroup
from finale.core.model import Round
from finale.core.poll import Arrival, Ballot, VoteDecision, VoteOutcome, decide_vote, votes_per_finalist
from finale.store.base import StoreError
from finale.store.rounds import RoundsMixin
from finale.store.vote_ledger import VoteLedger


class VoteIn(NamedTuple):  # one per vote: 0.37 us to build, a frozen dataclass 1.7 (core.poll.Ballot too)
    """A vote as the hub receives it, before it is stored."""

    round_id: int
    device_id: str
    label: str
    client_msg_id: str | None
    cast_at: float
    arrival: Arrival | None = None  # what the hub knew of a late arrival (core.poll.stalled_across)
    origin: str | None = None  # core.ballot.origin_tag of the sender's address; None: no per-address limit
    issued_at: float | None = None  # when the voter's credential was issued


class VotesMixin(RoundsMixin):
    """Recording batches of votes and reading the counts."""

    _policy_cache: tuple[str, BallotPolicy] | None = None
    _vote_ledger: VoteLedger | None = None  # this connection's copy of the counted votes (set at the first batch)

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
            self.conn.executemany(  # arrival order: a later row replaces the counted vote, whatever its cast_at
                "INSERT INTO votes (round_id, device_id, label, client_msg_id, cast_at, origin, issued_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(round_id, device_id) DO UPDATE SET label=excluded.label, "
                "client_msg_id=excluded.client_msg_id, cast_at=excluded.cast_at, origin=excluded.origin, "
                "issued_at=excluded.issued_at",
                [(v.round_id, v.device_id, v.label, v.client_msg_id, v.cast_at, v.origin, v.issued_at) for v in votes],
            )
            for round_id in dict.fromkeys(v.round_id for v in votes):  # one event per round, in arrival order
                mine = [v for v in votes if v.round_id == round_id]
                rows = [(v.device_id, v.label, v.client_msg_id, v.cast_at) for v in mine]
                sources = [(v.origin, v.issued_at) for v in mine]
                # msgspec: a tenth of json.dumps' time for the same JSON (plain strings and finite floats)
                self.log_json(actor, "votes.recorded", _AUDIT_JSON({"sources": sources, "votes": rows}).decode(),
                              round_id)
        return decisions

    def _decide(self, votes: Sequence[VoteIn]) -> list[VoteDecision]:
        """The core's decision on each vote against the rounds, counted votes and origins as stored, in the transaction.

        Besides the poll, `decide_vote` is told how many other voters of the vote's origin are
        counted in its round, with the votes accepted earlier in this batch, so
        `voting.devices_per_address` holds however many hub processes or restarts took the votes.
        The counted votes come from this connection's ledger (finale.store.vote_ledger): the table's
        rows, read again whenever another connection has committed since.
        """
        limit = self._ballot_policy().devices_per_address
        if self._vote_ledger is None:
            self._vote_ledger = VoteLedger()
        ledgers = self._vote_ledger.rounds(self.conn, (v.round_id for v in votes), self.data_version())
        rounds: dict[int, Round | None] = {}
        decisions: list[VoteDecision] = []
        for v in votes:
            if v.round_id not in rounds:
                try:
                    rounds[v.round_id] = self.round(v.round_id)
                except StoreError:
                    rounds[v.round_id] = None
            ledger = ledgers[v.round_id]
            stored = ledger.counted.get(v.device_id)
            load = None
            if v.origin is not None:
                mine = stored is not None and stored[2] == v.origin
                load = OriginLoad(ledger.crowd.get(v.origin, 0) - (1 if mine else 0), limit)
            ballot = Ballot(v.round_id, v.label, v.client_msg_id, v.cast_at, v.arrival)
            decision = decide_vote(rounds[v.round_id], ballot, None if stored is None else (stored[0], stored[1]), load)
            if decision.outcome is VoteOutcome.ACCEPT:
                ledger.count(v.device_id, v.client_msg_id, v.label, v.origin)
            decisions.append(decision)
        return decisions

    def _forget_cached(self) -> None:
        self._vote_ledger = None  # read again from the table at the next batch
        super()._forget_cached()

    def _ballot_policy(self) -> BallotPolicy:
        """The event's voting limits, parsed again only when the stored event file changes."""
        raw = self.conn.execute("SELECT value FROM meta WHERE key='event_config'").fetchone()
        if raw is None:
            return BallotPolicy()
        cached = self._policy_cache
        if cached is None or cached[0] != raw[0]:
            cached = self._policy_cache = (raw[0], EventConfig.model_validate_json(raw[0]).voting.ballot_policy())
        return cached[1]

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

    def vote_groups(self, round_id: int) -> list[VoteGroup]:
        """A round's counted votes by label, origin and credential issue time (the integrity view, the discount)."""
        return [VoteGroup(str(label), origin, issued_at, int(n)) for label, origin, issued_at, n in self.conn.execute(
            "SELECT label, origin, issued_at, COUNT(*) FROM votes WHERE round_id=? GROUP BY label, origin, issued_at",
            (round_id,))]

    def record_credentials(self, issued: Sequence[tuple[str, float, str]], actor: str = "hub") -> None:
        """Record a batch of issued voter credentials, (voter id, issue time, origin) each, with one event.

        The credential itself (its signature) is never stored: the phone holds it, the secret checks it.
        """
        if not issued:
            return
        with self.transaction():
            self.conn.executemany("INSERT OR IGNORE INTO credentials (voter_id, issued_at, origin) VALUES (?, ?, ?)",
                                  list(issued))
            self.log(actor, "credentials.issued", {"voters": [list(row) for row in issued]})

    def credentials_since(self, since: float) -> list[float]:
        """Issue times of the voter credentials issued at or after `since`, oldest first."""
        return [float(t) for (t,) in self.conn.execute(
            "SELECT issued_at FROM credentials WHERE issued_at >= ? ORDER BY issued_at", (since,))]

    def votes(self, round_id: int) -> list[dict[str, Any]]:
        """A round's counted votes as rows, in the order they were cast."""
        return list(self.db.query("SELECT * FROM votes WHERE round_id=? ORDER BY cast_at", [round_id]))


_AUDIT_JSON = msgspec.json.Encoder(order="sorted").encode
