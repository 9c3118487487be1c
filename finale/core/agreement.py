"""Agreement with the humans: does the LLM judge rank the answers as the panel does, and how far apart are they?

The head judge needs to see, before a round is final, when the machine (40 % of
the score) is out of line with the panel (another 40 %). Two numbers per round
and over the show:

- the rank agreement, Kendall's tau-b between the LLM and panel components of
  the answers (ties handled: an answer pair tied on one side counts for neither
  concordance nor discordance, and the denominator leaves it out): 1 is the same
  order, -1 the reverse, 0 no relation; undefined (None) with fewer than two
  answers scored by both, or when one side gave every answer the same score;
- the mean absolute gap between the two components, in points on 0-100.

The values compared are the judge's and the panel's own (`ComponentValue.original`):
an override that replaces the judge's score settles the round, but it does not make
the machine agree with the humans. Over the show, pairs are only formed within a
round (each round is one question: comparing answers to different questions says
nothing about the judge), pooled over the final rounds: sum(C - D) over
sqrt(sum(n0 - n1) * sum(n0 - n2)), which is each round's tau-b for one round and
stays in [-1, 1] (Cauchy-Schwarz).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from finale.core.model import Event, Phase
from finale.core.scoring import FinalistRound, RoundRecord, score_round

DIGITS = 9  # components equal to 9 decimals are tied (as core.ranking compares totals)

Pair = tuple[float, float]  # (LLM component, panel component) of one answer


@dataclass(frozen=True)
class PairCounts:
    """Kendall's counts over the answer pairs of one round (or summed over rounds)."""

    concordant_minus_discordant: int = 0
    untied_x: int = 0  # n0 - n1: pairs not tied on the LLM side
    untied_y: int = 0  # n0 - n2: pairs not tied on the panel side

    def __add__(self, other: PairCounts) -> PairCounts:
        return PairCounts(self.concordant_minus_discordant + other.concordant_minus_discordant,
                          self.untied_x + other.untied_x, self.untied_y + other.untied_y)

    @property
    def tau_b(self) -> float | None:
        """(C - D) / sqrt((n0 - n1)(n0 - n2)); None when one side has no untied pair."""
        if self.untied_x == 0 or self.untied_y == 0:
            return None
        tau = self.concordant_minus_discordant / math.sqrt(self.untied_x * self.untied_y)
        return max(-1.0, min(1.0, tau))  # the bound holds exactly; this only absorbs rounding


def _sign(a: float, b: float) -> int:
    a, b = round(a, DIGITS), round(b, DIGITS)
    return (a > b) - (a < b)


def pair_counts(pairs: Sequence[Pair]) -> PairCounts:
    """Kendall's counts over every two answers of `pairs` (O(n^2): a round has at most ten answers)."""
    cd = untied_x = untied_y = 0
    for i in range(len(pairs)):
        for j in range(i + 1, len(pairs)):
            dx = _sign(pairs[i][0], pairs[j][0])
            dy = _sign(pairs[i][1], pairs[j][1])
            cd += dx * dy
            untied_x += dx != 0
            untied_y += dy != 0
    return PairCounts(cd, untied_x, untied_y)


def kendall_tau_b(pairs: Sequence[Pair]) -> float | None:
    """Kendall's tau-b of the two coordinates of `pairs`; None when undefined (see the module doc)."""
    return pair_counts(pairs).tau_b


@dataclass(frozen=True)
class Agreement:
    """The judge-vs-panel agreement of a round or of the show."""

    answers: int  # answers scored by both the judge and the panel
    tau: float | None
    mean_gap: float | None  # mean |LLM - panel| in points (0-100)
    rounds: int = 1

    def describe(self, scope: str) -> str:
        """One line for the console and the report, e.g. `Judge vs panel, round 3: tau-b 0.80 ...`."""
        head = f"Judge vs panel, {scope}:"
        if self.answers == 0:
            return f"{head} no answer scored by both yet"
        tau = ("rank agreement undefined (fewer than two answers, or one side scored them all the same)"
               if self.tau is None else f"rank agreement tau-b {self.tau:+.2f}")
        gap = f"mean gap {self.mean_gap:.1f} points" if self.mean_gap is not None else "no gap"
        return f"{head} {tau} · {gap} · {self.answers} answer(s) scored by both"


def judged_pairs(scored: Mapping[str, FinalistRound]) -> list[Pair]:
    """(LLM, panel) of every answer both scored, in finalist id order, from the judge's and panel's own values."""
    out: list[Pair] = []
    for fid in sorted(scored):
        fr = scored[fid]
        if fr.llm.original is not None and fr.panel.original is not None:
            out.append((fr.llm.original, fr.panel.original))
    return out


def _mean_gap(pairs: Iterable[Pair]) -> float | None:
    gaps = [abs(x - y) for x, y in pairs]
    return statistics.fmean(gaps) if gaps else None


def agreement(rounds: Sequence[Sequence[Pair]]) -> Agreement:
    """The agreement over the answers of several rounds: within-round pairs only, pooled (see the module doc)."""
    counts = sum((pair_counts(r) for r in rounds), PairCounts())
    every = [p for r in rounds for p in r]
    return Agreement(len(every), counts.tau_b, _mean_gap(every), len(rounds))


def round_agreement(scored: Mapping[str, FinalistRound]) -> Agreement:
    """One round's agreement, from its scored components (core.scoring.score_round)."""
    return agreement([judged_pairs(scored)])


def show_agreement(event: Event, records: Iterable[RoundRecord]) -> Agreement:
    """The show's agreement over its final rounds (the rounds the standings count)."""
    final = [judged_pairs(score_round(event, r)) for r in records if r.round.phase is Phase.FINAL]
    return agreement(final)
