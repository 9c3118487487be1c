"""The Director's rescues and rulings: waive the audience or a panelist for a round, keep the judge's score.

A mixin of `Director` (finale.director). Each is one MC intent written in one store
transaction as the Director's actor (or the head judge named by the console);
what a waiver does to the scores is core.scoring's rule, when a ruling settles a
dispute is core.disputes'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from finale.core.disputes import keep_judge
from finale.core.model import Component, Decision, Event, Override, OverrideAction
from finale.core.scoring import score_round, waived_panelists
from finale.core.text import inert, one_line
from finale.store import Store


class RulingIntents:
    """Waivers for the whole round and the keep-the-judge ruling: one MC intent per method."""

    # set by Director.__init__
    store: Store
    actor: str

    if TYPE_CHECKING:  # defined by Director: the event as stored, and one override on the record
        @property
        def event(self) -> Event: ...
        def override(self, round_id: int, finalist_id: str, component: Component, reason: str,
                     value: float | None = None, waive: bool = False, actor: str | None = None) -> Override: ...

    def waive_audience(self, round_id: int, reason: str, actor: str | None = None) -> list[Override]:
        """Waive the audience component for every finalist of the round (one reason, one transaction).

        What a waiver does to the totals is core.scoring's rule; finalists whose audience is already
        waived keep the waiver they have.
        """
        with self.store.transaction():
            record = self.store.round_record(round_id)
            scored = score_round(self.event, record)
            return [self.override(round_id, fid, Component.AUDIENCE, reason, waive=True, actor=actor)
                    for fid in record.round.labels if not scored[fid].audience.waived]

    def waive_panelist(self, round_id: int, panelist_id: str, reason: str,
                       actor: str | None = None) -> list[Override]:
        """Leave one panelist out of the round for every finalist: an override each, in one transaction.

        The panel component is then the other panelists' mean (core.scoring); the blockers stop
        waiting for this panelist.
        """
        if panelist_id not in {p.id for p in self.event.panelists}:
            raise ValueError(f"no panelist {panelist_id!r} in this event")
        with self.store.transaction():
            record = self.store.round_record(round_id)
            scored = score_round(self.event, record)
            waived = waived_panelists(record.overrides)
            return [self.store.add_override(round_id, fid, Component.PANEL, OverrideAction.WAIVE, inert(reason),
                                            one_line(actor or self.actor), original=scored[fid].panel.original,
                                            panelist_id=panelist_id)
                    for fid in record.round.labels if panelist_id not in waived.get(fid, ())]

    def keep_judge_score(self, round_id: int, finalist_id: str, reason: str, actor: str | None = None) -> Decision:
        """Rule that the judge's score stands on a judge-vs-panel gap: the flag clears, no score changes.

        The core decides on the round as stored (core.disputes.keep_judge) inside the transaction that logs it.
        """
        with self.store.transaction():
            decision = keep_judge(self.event, self.store.round_record(round_id), finalist_id, inert(reason),
                                  one_line(actor or self.actor))
            return self.store.add_decision(decision)
