"""The standings as text: used by the headless run, `finale standings` and the report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.table import Table

from finale.core.model import Component, Weights
from finale.core.scoring import Standing


def standings_table(rows: Sequence[Standing], names: Mapping[str, str], weights: Weights,
                    title: str = "Final standings") -> Table:
    """A rich table: rank, finalist, points per component, total; `*` marks an override."""
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("Finalist")
    table.add_column(f"LLM {weights.llm:.0%}", justify="right")
    table.add_column(f"Panel {weights.panel:.0%}", justify="right")
    table.add_column(f"Audience {weights.audience:.0%}", justify="right")
    table.add_column("Votes", justify="right")
    table.add_column("Total", justify="right")
    for s in rows:
        mark = " *" if s.overridden else ""
        tie = " (tie)" if s.tied else ""
        table.add_row(str(s.rank), names.get(s.finalist_id, s.finalist_id) + mark + tie,
                      f"{s.points[Component.LLM]:.2f}", f"{s.points[Component.PANEL]:.2f}",
                      f"{s.points[Component.AUDIENCE]:.2f}", str(s.votes), f"{s.total:.2f}")
    table.caption = "* a human override applies to this finalist (see the audit log). Ties: panel, LLM, votes, latency."
    return table
