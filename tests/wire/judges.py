"""Judge models for the wire fakes: a reply computed from the prompt the judge was shown (`Reply.decide`).

A scoring prompt holds one `<answer label="X">`; a head-to-head prompt holds
answers "1" and "2". `fair` reads the answers and prefers the one that contains
a phrase wherever it is shown; `first_shown` always prefers answer 1, the
position bias the two orders are there to catch.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_ANSWER = re.compile(r'<answer label="([^"]*)">\n(.*?)\n</answer>', re.DOTALL)

Decide = Callable[[str], dict[str, Any]]


def answers(prompt: str) -> dict[str, str]:
    """The answers in a judge prompt by label."""
    return dict(_ANSWER.findall(prompt))


def is_pair(prompt: str) -> bool:
    return set(answers(prompt)) == {"1", "2"}


def scores(generalization: float = 8, quality: float = 8, efficiency: float = 7) -> dict[str, Any]:
    return {"scores": {"generalization": generalization, "quality": quality, "efficiency": efficiency},
            "rationale": "Scored by the wire judge."}


def fair(prefer: str, score: dict[str, Any] | None = None) -> Decide:
    """Scores one answer with `score`; of two, prefers the one containing `prefer` (a tie if both or neither)."""
    def decide(prompt: str) -> dict[str, Any]:
        if not is_pair(prompt):
            return score or scores()
        shown = answers(prompt)
        has = [label for label in ("1", "2") if prefer in shown[label]]
        better = has[0] if len(has) == 1 else "tie"
        return {"better": better, "rationale": f"Answer {better} is the better one."}
    return decide


def first_shown(score: dict[str, Any] | None = None) -> Decide:
    """Scores one answer with `score`; of two, always prefers the first one shown, whatever it says."""
    def decide(prompt: str) -> dict[str, Any]:
        if not is_pair(prompt):
            return score or scores()
        return {"better": "1", "rationale": "Answer 1 is clearly better."}
    return decide
