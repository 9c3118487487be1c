"""Answer checkers: a second opinion the judge can be held against.

The strawberry case is why these exist: a judge that marks "3" wrong is caught
when a plain number check says it is right.
"""

from __future__ import annotations

import re

CHECK_KINDS = ("number", "exact", "contains", "regex")

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20,
}  # fmt: skip
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)


def first_number(text: str) -> float | None:
    """The first number an answer states, in digits or as a word up to twenty."""
    match = _NUMBER.search(text)
    if match is None:
        return None
    token = match.group(0).lower()
    if token in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[token])
    return float(token.replace(",", "."))


def _normalise(text: str) -> str:
    return " ".join(text.casefold().strip().rstrip(".!").split())


def check_answer(kind: str, expected: str, answer: str) -> bool:
    """True when `answer` satisfies the question's checker."""
    if kind == "number":
        got = first_number(answer)
        want = first_number(expected)
        return got is not None and want is not None and abs(got - want) < 1e-9
    if kind == "exact":
        return _normalise(answer) == _normalise(expected)
    if kind == "contains":
        return _normalise(expected) in _normalise(answer)
    if kind == "regex":
        return re.search(expected, answer, re.IGNORECASE) is not None
    raise ValueError(f"unknown check {kind!r}; expected one of {', '.join(CHECK_KINDS)}")
