"""The criterion score range (0 to 10), checked in one place.

The panel's pages, the MC's typed scores, the store and the LLM judge's output
all carry criterion scores; each checks them here, so the range and the
wording of the refusal are the same on every path.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

SCORE_MIN = 0.0
SCORE_MAX = 10.0
SCORE_RANGE_TEXT = f"{SCORE_MIN:g} to {SCORE_MAX:g}"


class ScoreError(ValueError):
    """A criterion score that is missing, not a number, or outside the range."""


def check_score(criterion: str, value: object) -> float:
    """One criterion score as a float, or ScoreError saying which criterion and what is expected."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScoreError(f"score for {criterion} must be a number from {SCORE_RANGE_TEXT}; got {value!r}")
    number = float(value)
    if not math.isfinite(number) or not SCORE_MIN <= number <= SCORE_MAX:
        raise ScoreError(f"score for {criterion} must be a number from {SCORE_RANGE_TEXT}; got {value!r}")
    return number


def check_scores(scores: Mapping[str, object], criteria: Iterable[str]) -> dict[str, float]:
    """Exactly one in-range score per rubric criterion, or ScoreError naming what is wrong."""
    wanted = list(criteria)
    if set(scores) != set(wanted):
        missing = sorted(set(wanted) - set(scores))
        extra = sorted(set(scores) - set(wanted))
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
                ([f"unknown {', '.join(extra)}"] if extra else [])
        raise ScoreError(f"scores need exactly the criteria {', '.join(wanted)} ({'; '.join(parts)})")
    return {c: check_score(c, scores[c]) for c in wanted}
