"""One consistent read of the store for the screens: everything they render, read at once.

Read in a worker thread (it touches the disk) and handed to the screens as a
message, so the screens only render and never wait on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from finale.config import EventConfig
from finale.core.agreement import Agreement, round_agreement, show_agreement
from finale.core.blockers import Blocker, blockers
from finale.core.disputes import Dispute, disputes
from finale.core.model import Answer, Event, Override, Phase, Round
from finale.core.phases import is_open
from finale.core.scoring import FinalistRound, RoundRecord, Standing, score_round, standings
from finale.core.switches import ShowSwitches
from finale.store import Store


@dataclass(frozen=True)
class ShowSnapshot:
    """The show as the store holds it at one moment."""

    config: EventConfig
    event: Event
    records: list[RoundRecord]
    current: RoundRecord | None
    scored: dict[str, FinalistRound]
    blockers: list[Blocker]
    disputes: list[Dispute]
    standings: list[Standing]
    switches: ShowSwitches
    overrides: list[Override]
    reference: Answer | None = None
    scored_by_round: dict[int, dict[str, FinalistRound]] = field(default_factory=dict)
    panel_actors: dict[tuple[str, str], str] = field(default_factory=dict)  # (panelist, finalist) -> who wrote it
    total_votes: int = 0
    panel_names: dict[str, str] = field(default_factory=dict)
    agreement: Agreement | None = None  # the current round's judge vs panel (core.agreement)
    show_agreement: Agreement | None = None  # the same over the final rounds

    @property
    def round(self) -> Round | None:
        return self.current.round if self.current is not None else None

    @property
    def phase(self) -> Phase | None:
        return self.current.round.phase if self.current is not None else None

    @property
    def names(self) -> dict[str, str]:
        return {f.id: f.name for f in self.event.finalists}

    def question_status(self) -> dict[str, str]:
        """Each deck question's status: the phase of its latest round, or 'unasked'."""
        status = {q.id: "unasked" for q in self.event.questions}
        for rec in self.records:
            qid = rec.round.question_id
            if qid in status:
                status[qid] = str(rec.round.phase)
        return status

    def next_question(self) -> str | None:
        """The first deck question never asked (void rounds count as not asked)."""
        status = self.question_status()
        for q in self.event.questions:
            if status[q.id] in ("unasked", "void"):
                return q.id
        return None

    @property
    def round_open(self) -> bool:
        """True while the current round is neither final nor void."""
        return is_open(self.phase)


def read_snapshot(store: Store) -> ShowSnapshot:
    """Read everything the screens show in one read transaction (one consistent state, even mid vote storm).

    Use a Store connection of its own: the deferred BEGIN pins a WAL snapshot until the COMMIT.
    """
    with store.read():
        return _read(store)


def _read(store: Store) -> ShowSnapshot:
    """Rules (scores, blockers, disputes, standings) come from the core."""
    config = store.event_config()
    event = store.event()
    records = store.records()
    current_round = store.current_round()
    current = next((r for r in records if current_round is not None and r.round.id == current_round.id), None)
    scored = score_round(event, current) if current is not None else {}
    reference = None
    if current is not None:
        reference = store.answers(current.round.id, include_reference=True).get("reference")
    return ShowSnapshot(
        config=config,
        event=event,
        records=records,
        current=current,
        scored=scored,
        blockers=blockers(event, current) if current is not None else [],
        disputes=disputes(event, current) if current is not None else [],
        standings=standings(event, records),
        switches=store.switches(),
        overrides=store.overrides(),
        reference=reference,
        total_votes=sum(current.votes.values()) if current is not None else 0,
        panel_names={p.id: p.name for p in event.panelists},
        scored_by_round={r.round.id: score_round(event, r) for r in records},
        panel_actors=store.panel_actors(current.round.id) if current is not None else {},
        agreement=round_agreement(scored) if current is not None else None,
        show_agreement=show_agreement(event, records),
    )
