"""Human overrides of one component for one finalist in one round, kept beside the original; and discounts."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

from finale.core.discount import ALL_FINALISTS, VoteDiscount, removed_votes
from finale.core.model import Component, Override, OverrideAction
from finale.core.phases import is_settled
from finale.core.scoring import validate_override
from finale.store.base import StoreError
from finale.store.votes import VotesMixin


class OverridesMixin(VotesMixin):
    """Adding, reverting and listing overrides, each with its event."""

    def add_override(self, round_id: int, finalist_id: str, component: Component, action: OverrideAction,
                     reason: str, actor: str, value: float | None = None, original: float | None = None,
                     panelist_id: str | None = None) -> Override:
        """Record a human override; the original value is kept beside it (`panelist_id`: waive one panelist)."""
        proposal = validate_override(Override(0, round_id, finalist_id, component, action, reason, actor, value,
                                              panelist_id=panelist_id))
        scope = json.dumps({"panelist_id": panelist_id}) if panelist_id is not None else None
        with self.transaction():
            rnd = self.round(round_id)
            if finalist_id not in rnd.labels:
                raise StoreError(f"finalist {finalist_id!r} is not in round {round_id}")
            if is_settled(rnd.phase):
                raise StoreError(f"round {round_id} is {rnd.phase}; overrides are locked")
            if panelist_id is not None and self.conn.execute("SELECT 1 FROM panelists WHERE id=?",
                                                             (panelist_id,)).fetchone() is None:
                raise StoreError(f"no panelist {panelist_id!r} in this event")
            cur = self.conn.execute(
                "INSERT INTO overrides (round_id, finalist_id, component, action, value, original, reason, actor, "
                "created_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (round_id, finalist_id, component.value, action.value, value, original, reason.strip(),
                 actor.strip(), time.time(), scope),
            )
            oid = int(cur.lastrowid or 0)
            self.log(actor, "override.added", {"override_id": oid, "finalist_id": finalist_id,
                                               "component": component.value, "action": action.value,
                                               "value": value, "original": original, "reason": reason.strip(),
                                               **({"panelist_id": panelist_id} if panelist_id else {})},
                     round_id)
        return Override(oid, round_id, finalist_id, component, action, proposal.reason.strip(),
                        proposal.actor.strip(), value, panelist_id=panelist_id)

    def add_discount(self, round_id: int, discount: VoteDiscount, reason: str, actor: str) -> Override:
        """Discount a slice of a round's votes (core.discount): an override of the audience component, on the record.

        Nothing is deleted: scoring leaves the slice out while the override stands, and
        `revert_override` brings back exactly the counts there were.
        """
        proposal = validate_override(Override(0, round_id, ALL_FINALISTS, Component.AUDIENCE,
                                              OverrideAction.DISCOUNT, reason, actor, discount=discount))
        with self.transaction():
            rnd = self.round(round_id)
            if is_settled(rnd.phase):
                raise StoreError(f"round {round_id} is {rnd.phase}; overrides are locked")
            removed = removed_votes(self.vote_groups(round_id), discount)
            cur = self.conn.execute(
                "INSERT INTO overrides (round_id, finalist_id, component, action, reason, actor, created_at, scope) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (round_id, ALL_FINALISTS, Component.AUDIENCE.value, OverrideAction.DISCOUNT.value, reason.strip(),
                 actor.strip(), time.time(), json.dumps(discount.to_json())))
            oid = int(cur.lastrowid or 0)
            self.log(actor, "override.added", {"override_id": oid, "finalist_id": ALL_FINALISTS,
                                               "component": Component.AUDIENCE.value,
                                               "action": OverrideAction.DISCOUNT.value, "scope": discount.to_json(),
                                               "votes_removed": removed, "reason": reason.strip()}, round_id)
        return replace(proposal, id=oid, reason=proposal.reason.strip(), actor=proposal.actor.strip())

    def revert_override(self, override_id: int, actor: str, reason: str = "") -> None:
        """Undo an override, on the record; refused once its round is final or void."""
        with self.transaction():
            row = self.conn.execute("SELECT round_id, reverted_at FROM overrides WHERE id=?",
                                    (override_id,)).fetchone()
            if row is None:
                raise StoreError(f"no override {override_id}")
            if row[1] is not None:
                raise StoreError(f"override {override_id} is already reverted")
            if is_settled(self.round(row[0]).phase):
                raise StoreError(f"round {row[0]} is closed for changes; override {override_id} stays")
            self.conn.execute("UPDATE overrides SET reverted_at=?, reverted_by=?, revert_reason=? WHERE id=?",
                              (time.time(), actor, reason, override_id))
            self.log(actor, "override.reverted", {"override_id": override_id, "reason": reason}, row[0])

    def overrides(self, round_id: int | None = None, include_reverted: bool = True) -> list[Override]:
        """Overrides (of one round, or all), oldest first; reverted ones are marked, or left out."""
        sql = "SELECT * FROM overrides WHERE 1=1"
        params: list[Any] = []
        if round_id is not None:
            sql += " AND round_id=?"
            params.append(round_id)
        if not include_reverted:
            sql += " AND reverted_at IS NULL"
        return [
            Override(r["id"], r["round_id"], r["finalist_id"], Component(r["component"]),
                     OverrideAction(r["action"]), r["reason"], r["actor"], r["value"], r["reverted_at"] is not None,
                     *_scope(r))
            for r in self.db.query(sql + " ORDER BY id", params)
        ]


def _scope(row: dict[str, Any]) -> tuple[VoteDiscount | None, str | None]:
    """What an override's `scope` names: the votes a discount removes, or the one panelist a waiver covers."""
    scope = json.loads(row["scope"]) if row.get("scope") else None
    if scope is None:
        return None, None
    if row["action"] == OverrideAction.DISCOUNT.value:
        return VoteDiscount.from_json(scope), None
    return None, scope.get("panelist_id")
