"""The head judge's rulings that change no score ("keep the judge's score"): each is its audit event.

The event is the record: `dispute.decided`, with the finalist, the kind, the two
values the ruling was made on, the reason and the actor. Reading a round's
rulings back gives the core (core.disputes) what it needs to see a flag settled.
"""

from __future__ import annotations

from dataclasses import replace

from finale.core.model import Decision, DecisionKind
from finale.core.phases import is_settled
from finale.store.base import StoreError
from finale.store.rounds import RoundsMixin

DECIDED = "dispute.decided"


class DecisionsMixin(RoundsMixin):
    """Writing a ruling (one event) and reading a round's rulings."""

    def add_decision(self, decision: Decision) -> Decision:
        """Record a ruling; refused once its round is final or void, like an override."""
        with self.transaction():
            rnd = self.round(decision.round_id)
            if decision.finalist_id not in rnd.labels:
                raise StoreError(f"finalist {decision.finalist_id!r} is not in round {decision.round_id}")
            if is_settled(rnd.phase):
                raise StoreError(f"round {decision.round_id} is {rnd.phase}; its disputes are closed")
            seq = self.log(decision.actor, DECIDED, {
                "finalist_id": decision.finalist_id, "decision": decision.kind.value, "reason": decision.reason,
                "llm": decision.llm, "panel": decision.panel}, decision.round_id)
        return replace(decision, seq=seq)

    def decisions(self, round_id: int) -> list[Decision]:
        """A round's rulings, oldest first."""
        return [Decision(round_id, e.payload["finalist_id"], DecisionKind(e.payload["decision"]),
                         e.payload["reason"], e.actor, e.payload.get("llm"), e.payload.get("panel"), e.seq)
                for e in self.events(kind=DECIDED, round_id=round_id)]
