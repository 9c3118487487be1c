"""Tiny HTML helpers for the report: every piece of text goes through `esc`, once.

The report holds untrusted text (model answers, judge rationales, names,
override reasons). Nothing here ever inserts a value into markup without
escaping it, so an answer like `<img src=x onerror=...>` shows as literal text.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable, Sequence


def esc(value: object) -> str:
    """HTML-escape any value (quotes too, so it is safe inside attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def num(value: float | None, digits: int = 1, missing: str = "–") -> str:
    """A number for a table cell, or a dash when there is none."""
    return missing if value is None else f"{value:.{digits}f}"


def ms(value: float | None) -> str:
    """A latency in ms, switching to seconds above 10 s."""
    if value is None:
        return "–"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.2f} ms"


def when(ts: float | None) -> str:
    """A UTC wall-clock time (the report may be read in another time zone than the venue's)."""
    if ts is None:
        return "–"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def tag(name: str, content: str = "", cls: str | None = None, **attrs: str) -> str:
    """An element whose content is already markup; class and attribute values are escaped."""
    parts = [name]
    if cls:
        parts.append(f'class="{esc(cls)}"')
    parts.extend(f'{k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    return f"<{' '.join(parts)}>{content}</{name}>"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "grid",
          numeric: Sequence[int] = ()) -> str:
    """A table: headers are plain text (escaped here); cells are markup built by the caller."""
    head = "".join(tag("th", esc(h), cls="num" if i in numeric else None) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(tag("td", cell, cls="num" if i in numeric else None) for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
