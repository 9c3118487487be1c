"""Vote bars drawn with block characters, one line per anonymous label."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text


def vote_bars(counts: Mapping[str, int], titles: Mapping[str, str], width: int = 50) -> Text:
    """`counts` and `titles` are keyed the same way (label or finalist id)."""
    total = sum(counts.values())
    text = Text()
    for key in sorted(titles, key=lambda k: titles[k]):
        n = counts.get(key, 0)
        share = n / total if total else 0.0
        filled = round(share * width)
        text.append(f"{titles[key]:<12.12} ")
        text.append("█" * filled, style="bold green")
        text.append("░" * (width - filled), style="dim")
        text.append(f" {n:>6} {share:>6.1%}\n")
    return text
