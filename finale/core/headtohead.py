"""Head to head with the reference model, judged both ways round: the league's own "beat the 90B".

The judge is shown a finalist's answer and the reference answer twice, the order
swapped, because LLM judges prefer a position (MT-Bench and later studies). A win
counts only when both orders agree that the finalist's answer is better, a loss
only when both prefer the reference; anything else is a tie, marked
order-sensitive when the two orders disagree. The win rate is wins over the
head-to-heads that came out (void rounds never count). It is shown beside the
40/40/20 score; an event may feed it into the LLM component (`blend`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from finale.core.model import Phase

if TYPE_CHECKING:
    from finale.core.model import Judgment
    from finale.core.scoring import RoundRecord

POINTS = {"win": 100.0, "tie": 50.0, "loss": 0.0}  # a head-to-head on the LLM component's 0-100 scale


class Pick(StrEnum):
    """Which answer one judge call found better, whatever position it was shown in."""

    FINALIST = "finalist"
    REFERENCE = "reference"
    TIE = "tie"


class Outcome(StrEnum):
    """A finalist's head-to-head with the reference, once both orders are in."""

    WIN = "win"
    LOSS = "loss"
    TIE = "tie"


def combine(finalist_first: Pick | None, reference_first: Pick | None) -> tuple[Outcome | None, bool]:
    """The outcome of the two orders and whether it is order-sensitive; (None, False) while one is missing.

    Both prefer the finalist: a win; both prefer the reference: a loss; both call it even: a
    tie; any disagreement between the orders: a tie marked order-sensitive.
    """
    if finalist_first is None or reference_first is None:
        return None, False
    if finalist_first is not reference_first:
        return Outcome.TIE, True
    return {Pick.FINALIST: Outcome.WIN, Pick.REFERENCE: Outcome.LOSS, Pick.TIE: Outcome.TIE}[finalist_first], False


@dataclass(frozen=True)
class HeadToHead:
    """One finalist's answer against the reference answer in one round: each order's pick, by one judge model."""

    judge: str
    finalist_first: Pick | None  # the pick with the finalist's answer shown first; None: that call failed
    reference_first: Pick | None  # the pick with the reference answer shown first
    reason: str | None = None  # why it did not come out (a failed call), or a note (no answer: a loss unasked)
    raw: str = ""  # the two replies as the judge gave them, for the record

    @property
    def outcome(self) -> Outcome | None:
        return combine(self.finalist_first, self.reference_first)[0]

    @property
    def order_sensitive(self) -> bool:
        return combine(self.finalist_first, self.reference_first)[1]

    @property
    def text(self) -> str:
        """`win`, `loss`, `tie`, `tie (order-sensitive)` or `failed: why`."""
        if self.outcome is None:
            return f"failed: {self.reason or 'no verdict'}"
        return f"{self.outcome}" + (" (order-sensitive)" if self.order_sensitive else "")


@dataclass(frozen=True)
class WinRate:
    """A finalist's head-to-heads over the show: wins of those that came out."""

    wins: int = 0
    losses: int = 0
    ties: int = 0
    order_sensitive: int = 0  # of the ties, those where the two orders disagreed
    failed: int = 0

    @property
    def judged(self) -> int:
        return self.wins + self.losses + self.ties

    @property
    def rate(self) -> float | None:
        """Wins over judged head-to-heads (0-1); None before the first."""
        return self.wins / self.judged if self.judged else None

    @property
    def text(self) -> str:
        """`3 of 5 (60%)`, with the order-sensitive ties said, or `none yet`."""
        if not self.judged:
            return "none yet"
        out = f"{self.wins} of {self.judged} ({100 * (self.rate or 0):.0f}%)"
        return out + (f", {self.order_sensitive} order-sensitive" if self.order_sensitive else "")


def tally(results: Iterable[HeadToHead]) -> WinRate:
    """Wins, losses, ties (order-sensitive ones counted too) and failures of some head-to-heads."""
    wins = losses = ties = sensitive = failed = 0
    for h in results:
        outcome = h.outcome
        if outcome is None:
            failed += 1
        elif outcome is Outcome.WIN:
            wins += 1
        elif outcome is Outcome.LOSS:
            losses += 1
        else:
            ties += 1
            sensitive += h.order_sensitive
    return WinRate(wins, losses, ties, sensitive, failed)


def round_head_to_heads(judgments: Mapping[str, Judgment]) -> dict[str, HeadToHead]:
    """A round's head-to-heads by finalist (only answers judged against a reference answer)."""
    return {fid: j.head_to_head for fid, j in judgments.items() if j.head_to_head is not None}


def beat_reference(judgments: Mapping[str, Judgment], labels: Mapping[str, str]) -> list[str]:
    """The finalists who beat the reference in a round (both orders agreeing), in the round's label order."""
    won = [fid for fid, h in round_head_to_heads(judgments).items() if h.outcome is Outcome.WIN]
    return sorted(won, key=lambda fid: labels.get(fid, fid))


def win_rates(records: Iterable[RoundRecord], finalist_ids: Sequence[str],
              revealed_only: bool = False) -> dict[str, WinRate]:
    """Each finalist's win rate against the reference over every round that is not void.

    `revealed_only` counts only rounds whose labels are revealed: what a screen showing names
    (the stage) may show, so a rate by name never tells who is behind a label before the reveal.
    """
    results: dict[str, list[HeadToHead]] = {fid: [] for fid in finalist_ids}
    for record in records:
        if record.round.phase is Phase.VOID or (revealed_only and not record.round.revealed):
            continue
        for fid, h in round_head_to_heads(record.judgments).items():
            if fid in results:
                results[fid].append(h)
    return {fid: tally(hs) for fid, hs in results.items()}


def blend(rubric: float | None, head_to_head: HeadToHead | None, weight: float) -> float | None:
    """The LLM component when an event feeds the head-to-head into it (`weight` of it, 0 by default).

    `(1 - weight) x rubric + weight x (win 100, tie 50, loss 0)`. A round without a reference
    answer has no head-to-head: the rubric alone. One that failed leaves the component missing.
    """
    if weight <= 0 or rubric is None or head_to_head is None:
        return rubric
    outcome = head_to_head.outcome
    if outcome is None:
        return None
    return (1.0 - weight) * rubric + weight * POINTS[outcome.value]
