"""Untrusted text made inert: what a finalist's model, an endpoint, the judge or a page sends.

A finalist controls every byte its endpoint returns. Before such text reaches
the MC's terminal, the hub log, a toast or an export it goes through `inert`:
terminal escape sequences (CSI, OSC, DCS, ...) are removed whole, other control
characters (C0 but newline and tab, DEL, C1) and the bidirectional overrides
and isolates that can reorder what a reader sees are dropped. What is left is
printable text that only ever shows as itself.
"""

from __future__ import annotations

import re
import unicodedata

# ESC-introduced sequences, removed whole so no parameter bytes are left behind:
# CSI (ESC [ params final), OSC/DCS/SOS/PM/APC (ESC ] ... BEL or ESC \), and two-byte escapes.
_ESCAPES = re.compile(
    r"\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # CSI
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, DCS, SOS, PM, APC (terminated or cut off)
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"  # nF and Fp/Fe/Fs two-byte escapes, or a lone ESC
    r"|\x9b[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # 8-bit CSI
    r"|[\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x9c|\x1b\\)?"  # 8-bit OSC, DCS, SOS, PM, APC
)
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def inert(text: str, *, keep_newlines: bool = True) -> str:
    """`text` with escape sequences, control characters and bidi controls removed.

    Newlines and tabs stay (answers have paragraphs) unless `keep_newlines` is
    False, for one-line places (names, toasts, log lines), where they become spaces.
    Lone surrogates, which no encoder accepts, become U+FFFD.
    """
    cleaned = _CONTROLS.sub("", _ESCAPES.sub("", text))
    if not keep_newlines:
        cleaned = cleaned.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    return _SURROGATES.sub("\ufffd", cleaned)


def one_line(text: str) -> str:
    """`inert` for places that hold one line: a name, a toast, a log line."""
    return inert(text, keep_newlines=False)


def visible_form(text: str) -> str:
    """The text as a reader sees it, for spotting look-alike delimiters: NFKC, format characters dropped.

    Fullwidth `＜` becomes `<`; zero-width spaces, joiners and other format
    characters (category Cf) disappear, so `<` + ZWSP + `/answer>` reads as `</answer>`.
    """
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


def csv_cell(value: object) -> object:
    """A value safe in a spreadsheet: text that a spreadsheet would run as a formula gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
