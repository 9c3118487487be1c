"""Untrusted text is inert: no escape sequence, control or bidi character survives `inert`."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from finale.core.text import csv_cell, inert, one_line, visible_form

HOSTILE = [
    ("\x1b]0;pwned title\x07", ""),  # OSC 0: window title
    ("\x1b]52;c;cm0gLXJmIH4=\x07", ""),  # OSC 52: clipboard
    ("\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"),  # OSC 8 hyperlink
    ("\x1b[2J\x1b[H\x1b[31mOVERRIDE: Ray+40\x1b[0m", "OVERRIDE: Ray+40"),  # CSI erase, home, colour
    ("\x1b[?1049h", ""),  # alternate screen
    ("a\x00b\x07c\x08d", "abcd"),  # NUL, BEL, BS
    ("\u202eevil\u202c", "evil"),  # right-to-left override
    ("\u2066x\u2069", "x"),  # isolates
    ("\x9b2J8-bit", "8-bit"),  # 8-bit CSI
    ("\x9d0;t\x9cafter", "after"),  # 8-bit OSC with ST
    ("cut \x1b]0;never ends", "cut "),  # an OSC left open swallows the rest, never reaches the terminal
]


def test_known_attacks_are_removed_whole() -> None:
    for raw, shown in HOSTILE:
        assert inert(raw) == shown, raw


def test_paragraphs_survive_and_one_line_folds_them() -> None:
    assert inert("one\n\ttwo\r\n") == "one\n\ttwo\n"
    assert one_line("one\ntwo\tthree") == "one two three"


FORBIDDEN = set(map(chr, [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)])) | set(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@given(st.text(alphabet=st.characters(codec=None), max_size=200))
def test_nothing_forbidden_survives_and_inert_is_idempotent(text: str) -> None:
    out = inert(text)
    assert not (set(out) & FORBIDDEN), repr(out)
    assert inert(out) == out
    out.encode("utf-8")  # never a lone surrogate


@given(st.text(alphabet=string.printable.replace("\x0b", "").replace("\x0c", "").replace("\r", ""), max_size=200))
def test_plain_text_is_unchanged(text: str) -> None:
    assert inert(text) == text


def test_look_alike_delimiters_read_as_what_they_look_like() -> None:
    assert visible_form("<\u200b/answer>") == "</answer>"
    assert visible_form("\uff1c/answer\uff1e") == "</answer>"
    assert visible_form("<\u2060/answer>") == "</answer>"


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted() -> None:
    for formula in ("=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(formula) == "'" + formula
    assert csv_cell("plain") == "plain" and csv_cell(-3) == -3
