"""Answer checkers, which catch the judge's misreadings."""

from __future__ import annotations

import pytest

from finale.core.checks import check_answer, first_number


@pytest.mark.parametrize("kind,expected,answer,ok", [
    ("number", "3", "3.", True),
    ("number", "3", "There are three r's in strawberry.", True),
    ("number", "3", "Strawberry has 2 r's.", False),
    ("number", "3", "No idea", False),
    ("exact", "Canberra", "  canberra. ", True),
    ("exact", "Canberra", "Sydney", False),
    ("contains", "Canberra", "The capital is Canberra, not Sydney.", True),
    ("contains", "Canberra", "Sydney", False),
    ("regex", r"\bcanberra\b", "It's CANBERRA!", True),
    ("regex", r"^\d+$", "abc", False),
])
def test_checkers(kind: str, expected: str, answer: str, ok: bool) -> None:
    assert check_answer(kind, expected, answer) is ok


def test_unknown_checker_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown check 'fuzzy'; expected one of number, exact, contains, regex"):
        check_answer("fuzzy", "a", "a")


def test_first_number_reads_digits_and_words() -> None:
    assert first_number("about 2,5 litres") == 2.5
    assert first_number("Twelve apples and 3 pears") == 12
    assert first_number("none") is None
