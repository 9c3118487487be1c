"""Everything the report shows, read from the store in one pass.

The report reads only the store (never the console or the hub), and every
number comes from the core's scoring, so it agrees with the console, the stage
and `finale standings`. Private-link tokens are never read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from finale.config import EventConfig
from finale.core.agreement import Agreement, round_agreement, show_agreement
from finale.core.disputes import Dispute, disputes
from finale.core.headtohead import WinRate, win_rates
from finale.core.lengthbias import LengthBias, length_bias
from finale.core.model import Answer, Event, Judgment, PanelScore, PromptSettings, Round
from finale.core.scoring import FinalistRound, RoundRecord, Standing, score_round, standings
from finale.director import REFERENCE_ID
from finale.store import EventRow, Store, iter_rows
from finale.store.seal import SealRow


@dataclass(frozen=True)
class VoteTimes:
    """When each counted vote of a round was cast, per finalist, and the poll's own times."""

    by_finalist: dict[str, list[float]]
    opened_at: float | None
    deadline: float | None
    closed_at: float | None
    casts: int  # every vote received, including devices that changed their mind

    @property
    def origin(self) -> float | None:
        """Time zero of the timeline: the poll opening, else the first vote."""
        if self.opened_at is not None:
            return self.opened_at
        firsts = [min(ts) for ts in self.by_finalist.values() if ts]
        return min(firsts) if firsts else None


@dataclass(frozen=True)
class RoundView:
    """One round with its answers, verdicts, panel, votes, disputes and scores."""

    round: Round
    answers: dict[str, Answer]
    reference: Answer | None
    judgments: dict[str, Judgment]
    judge_names: dict[str, str]
    panel: list[PanelScore]
    scored: dict[str, FinalistRound]
    disputes: list[Dispute]
    settings: dict[str, PromptSettings]
    votes: VoteTimes
    expected: str | None
    agreement: Agreement | None = None  # the judge vs the panel in this round (core.agreement)
    length_bias: list[LengthBias] = field(default_factory=list)  # core.lengthbias


@dataclass(frozen=True)
class ReportData:
    """The whole show as the report presents it."""

    config: EventConfig
    event: Event
    names: dict[str, str]
    panelists: dict[str, str]
    standings: list[Standing]
    rounds: list[RoundView]
    overrides: list[dict[str, Any]]
    event_counts: dict[str, int]
    resets: list[dict[str, Any]]
    events: list[EventRow] = field(default_factory=list)  # the whole audit log, oldest first
    seals: list[SealRow] = field(default_factory=list)  # the sealed manifest and every change after it
    agreement: Agreement | None = None  # the judge vs the panel over the final rounds
    win_rates: dict[str, WinRate] = field(default_factory=dict)  # against the reference, over the show


def _vote_times(store: Store, rnd: Round) -> VoteTimes:
    by_label = {label: fid for fid, label in rnd.labels.items()}
    by_finalist: dict[str, list[float]] = {fid: [] for fid in rnd.labels}
    for row in store.votes(rnd.id):
        fid = by_label.get(row["label"])
        if fid is not None:
            by_finalist[fid].append(float(row["cast_at"]))
    closed = [e.at for e in store.events(kind="poll.closed", round_id=rnd.id)]
    casts = sum(len(e.payload.get("votes", [])) for e in store.events(kind="votes.recorded", round_id=rnd.id))
    return VoteTimes(by_finalist, rnd.vote_opened_at, rnd.vote_deadline, closed[-1] if closed else None, casts)


def _round_view(store: Store, event: Event, record: RoundRecord) -> RoundView:
    rnd = record.round
    scored = score_round(event, record)
    with_ref = store.answers(rnd.id, include_reference=True)
    settings: dict[str, PromptSettings] = {}
    for fid, version in rnd.settings_versions.items():
        try:
            settings[fid] = store.settings(fid, version)
        except ValueError:
            continue
    expected = None
    if rnd.question_id is not None:
        try:
            expected = event.question(rnd.question_id).expected
        except KeyError:
            expected = None
    return RoundView(
        round=rnd, answers=dict(record.answers), reference=with_ref.get(REFERENCE_ID),
        judgments=dict(record.judgments), judge_names=store.judges(rnd.id),
        panel=list(record.panel_scores), scored=scored, disputes=disputes(event, record),
        settings=settings, votes=_vote_times(store, rnd), expected=expected, agreement=round_agreement(scored),
        length_bias=length_bias(event, record),
    )


def collect(store: Store) -> ReportData:
    """Read the event, its rounds, overrides and audit-log summary from the store."""
    config = store.event_config()
    event = store.event()
    records = store.records()
    rounds = [_round_view(store, event, record) for record in records]
    counts = store.event_kind_counts()
    resets = [{"at": e.at, "actor": e.actor, **e.payload} for e in store.events(kind="rehearsal.reset")]
    return ReportData(
        config=config, event=event, names={f.id: f.name for f in config.finalists},
        panelists={p.id: p.name for p in config.panelists},
        standings=standings(event, records),
        rounds=rounds, overrides=list(iter_rows(store, "overrides")), event_counts=counts, resets=resets,
        events=store.events(),
        seals=store.seals(), agreement=show_agreement(event, records),
        win_rates=win_rates(records, event.finalist_ids),
    )
