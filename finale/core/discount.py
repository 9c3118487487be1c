"""The discount: which of a round's audience votes a head judge's override removes, and the counts left.

A discount is an override (same table, reason, actor, revert path as the others)
that names a slice of one round's votes: those from one origin (the keyed hash of
an address, core.ballot.origin_tag), or those whose credentials were minted in a
time window. Scoring (core.scoring.score_round) counts the round's votes without
that slice while the override stands; reverting it brings back exactly the counts
there were, because nothing is deleted: the votes stay in the table and the log.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ALL_FINALISTS = "*"  # a discount's finalist: it applies to the whole round's votes


class DiscountError(ValueError):
    """A discount that names no votes, or names them ambiguously."""


@dataclass(frozen=True)
class VoteDiscount:
    """One origin's votes, or the votes of credentials minted from `minted_from` to `minted_to` (epoch seconds)."""

    origin: str | None = None
    minted_from: float | None = None
    minted_to: float | None = None

    def __post_init__(self) -> None:
        window = (self.minted_from, self.minted_to)
        if self.origin is not None:
            if window != (None, None):
                raise DiscountError("a discount names an origin or a minting window, not both")
            if not self.origin.strip():
                raise DiscountError("a discount's origin must not be empty")
            return
        if None in window:
            raise DiscountError("a discount needs an origin, or both ends of the minting window (from and to)")
        lo, hi = float(self.minted_from or 0), float(self.minted_to or 0)
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
            raise DiscountError(f"a minting window runs forwards in time; got from {lo} to {hi}")

    def removes(self, origin: str | None, issued_at: float | None) -> bool:
        """This discount removes a vote from `origin` whose credential was issued at `issued_at`."""
        if self.origin is not None:
            return origin == self.origin
        return issued_at is not None and float(self.minted_from or 0) <= issued_at <= float(self.minted_to or 0)

    def describe(self) -> str:
        """One line for the console and the audit detail."""
        if self.origin is not None:
            return f"votes from origin {self.origin}"
        return f"votes of credentials minted from {self.minted_from:.3f} to {self.minted_to:.3f}"

    def to_json(self) -> dict[str, Any]:
        """The discount's scope as stored beside the override and logged in its event."""
        if self.origin is not None:
            return {"origin": self.origin}
        return {"minted_from": self.minted_from, "minted_to": self.minted_to}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VoteDiscount:
        """The scope back from its stored form."""
        return cls(data.get("origin"), data.get("minted_from"), data.get("minted_to"))


@dataclass(frozen=True)
class VoteGroup:
    """`n` counted votes of a round that share a label, an origin and a credential issue time."""

    label: str
    origin: str | None
    issued_at: float | None
    n: int


def discounted_counts(groups: Iterable[VoteGroup], discounts: Sequence[VoteDiscount],
                      labels: Mapping[str, str]) -> dict[str, int]:
    """Votes per finalist id once every discount's slice is removed (a vote in two slices is removed once)."""
    by_label: dict[str, int] = {}
    for g in groups:
        if not any(d.removes(g.origin, g.issued_at) for d in discounts):
            by_label[g.label] = by_label.get(g.label, 0) + max(0, g.n)
    return {fid: by_label.get(label, 0) for fid, label in labels.items()}


def removed_votes(groups: Iterable[VoteGroup], discount: VoteDiscount) -> int:
    """How many of the round's counted votes one discount would remove (the dialog shows it before confirming)."""
    return sum(g.n for g in groups if discount.removes(g.origin, g.issued_at))
