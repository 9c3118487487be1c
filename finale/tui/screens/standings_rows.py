"""Standings and per-round scores as table rows, with override marks, for the show and standings screens."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from finale.core.model import Component
from finale.core.ranking import round_order
from finale.core.scoring import ComponentValue, FinalistRound, Standing
from finale.tui.screens.tables import Cell

TIE_RULE = "Ties: higher panel points, then LLM points, then more votes, then lower median latency."
MARK_NOTE = "* overridden by a human, w waived (see the audit log)"


def mark(value: ComponentValue) -> str:
    return " w" if value.waived else (" *" if value.overridden else "")


def overall_rows(rows: Sequence[Standing], names: dict[str, str]) -> list[tuple[str, Sequence[Cell]]]:
    """Rank, finalist, the 40/40/20 points, votes, total; `*` when an override applies."""
    out: list[tuple[str, Sequence[Cell]]] = []
    started = any(s.rounds for s in rows)  # before the first final round nobody is "tied first"
    for s in rows:
        tie = " (tie)" if s.tied and started else ""
        name = names.get(s.finalist_id, s.finalist_id) + (" *" if s.overridden else "") + tie
        out.append((s.finalist_id, (str(s.rank) if started else "–", name, f"{s.points[Component.LLM]:.2f}",
                                    f"{s.points[Component.PANEL]:.2f}", f"{s.points[Component.AUDIENCE]:.2f}",
                                    str(s.votes), Text(f"{s.total:.2f}", style="bold"))))
    return out


def _component(value: ComponentValue) -> str:
    if value.waived:
        return "waived"
    if value.value is None:
        return "–"
    return f"{value.value:.1f}{mark(value)}"


def round_rows(scored: dict[str, FinalistRound], labels: dict[str, str],
               names: dict[str, str]) -> list[tuple[str, Sequence[Cell]]]:
    """Per-round components on the 0-100 scale and the weighted total, best first (core.ranking's tie-breaks)."""
    ordered = [scored[fid] for fid in round_order(scored)]
    return [(fr.finalist_id, (labels.get(fr.finalist_id, "?"), names.get(fr.finalist_id, fr.finalist_id),
                              _component(fr.llm), _component(fr.panel), _component(fr.audience), str(fr.votes),
                              "–" if fr.total is None else f"{fr.total:.2f}"))
            for fr in ordered]
