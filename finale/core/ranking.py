"""Who is ahead, with the declared tie-breaks, for a round and for the show.

Ties go to the higher total, then the higher panel points, then the higher LLM
points, then more votes, then the lower median latency. Two finalists equal on
every one of those share a rank and are marked tied: nobody is named the
winner of a round on a coin flip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from finale.core.model import Component

if TYPE_CHECKING:  # scoring ranks its standings with this module
    from finale.core.scoring import FinalistRound

T = TypeVar("T")
TieKey = tuple[float, float, float, int, float]
# The order `tie_key` compares in, in words: the sealed manifest states it (finale.seal).
TIE_BREAKS = ("total, higher first", "panel points, higher first", "LLM points, higher first",
              "votes, more first", "median latency, lower first")


def tie_key(total: float, points: Mapping[Component, float], votes: int, latency_ms: float | None) -> TieKey:
    """The ordering key: larger totals, panel and LLM points and votes first, then the faster answer."""
    latency = latency_ms if latency_ms is not None else float("inf")
    return (-round(total, 9), -round(points.get(Component.PANEL, 0.0), 9),
            -round(points.get(Component.LLM, 0.0), 9), -votes, latency)


@dataclass(frozen=True)
class Ranked:
    """An item's place: rank 1 is first; `tied` when another item shares every tie-break."""

    rank: int
    tied: bool


def rank(items: Sequence[T], key: Callable[[T], TieKey], name: Callable[[T], str]) -> list[tuple[T, Ranked]]:
    """Items in order with their ranks; equal keys share a rank (ordered by name for a stable display)."""
    ordered = sorted(items, key=lambda it: (key(it), name(it)))
    out: list[tuple[T, Ranked]] = []
    for i, item in enumerate(ordered):
        tied_prev = i > 0 and key(ordered[i - 1]) == key(item)
        tied_next = i + 1 < len(ordered) and key(ordered[i + 1]) == key(item)
        place = out[-1][1].rank if tied_prev else i + 1
        out.append((item, Ranked(place, tied_prev or tied_next)))
    return out


@dataclass(frozen=True)
class RoundPlace:
    """A finalist's place in one round."""

    finalist_id: str
    rank: int
    tied: bool
    total: float


def round_places(scored: Mapping[str, FinalistRound]) -> list[RoundPlace]:
    """The round's order with the declared tie-breaks; empty until every finalist has a total."""
    rows = list(scored.values())
    if not rows or any(fr.total is None for fr in rows):
        return []
    ranked = rank(rows, lambda fr: tie_key(fr.total or 0.0, fr.points, fr.votes, fr.latency_ms),
                  lambda fr: fr.finalist_id)
    return [RoundPlace(fr.finalist_id, r.rank, r.tied, fr.total or 0.0) for fr, r in ranked]


def round_winners(scored: Mapping[str, FinalistRound]) -> list[str]:
    """The round's winner (or the finalists tied on every tie-break); empty while any total is missing."""
    return [p.finalist_id for p in round_places(scored) if p.rank == 1]


def round_order(scored: Mapping[str, FinalistRound]) -> list[str]:
    """Finalist ids best first: those with a total by the tie-breaks, then those still missing one."""
    complete = [fr for fr in scored.values() if fr.total is not None]
    ranked = rank(complete, lambda fr: tie_key(fr.total or 0.0, fr.points, fr.votes, fr.latency_ms),
                  lambda fr: fr.finalist_id)
    missing = sorted(fid for fid, fr in scored.items() if fr.total is None)
    return [fr.finalist_id for fr, _ in ranked] + missing
