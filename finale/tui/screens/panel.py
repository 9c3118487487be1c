"""The panel screen: which panelists have scored which answers; the MC types scores on their behalf."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from finale.director import MC_TYPED_PREFIX
from finale.tui.screens.base import ConsoleScreen
from finale.tui.screens.tables import Cell, fill_table, selected_key
from finale.tui.state import ShowSnapshot


class PanelScreen(ConsoleScreen):
    """Rows are panelists, columns the round's labels: ✓ with the mean score once submitted."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "type_scores", "Type scores"),
        Binding("w", "app.waive", "Waive for round"),
        Binding("m", "app.toggle_names", "Names/labels"),
    ]

    _auto_row: int | None = None  # where the screen put the cursor; the MC moving it elsewhere keeps theirs

    def compose_body(self) -> ComposeResult:
        yield Static(id="panel-title", classes="section-title")
        yield DataTable(id="panel-table", cursor_type="row", zebra_stripes=True)
        yield Static("✓ scored from the panelist's own page · ✎ typed by the MC on their behalf · – waived for "
                     "this round · i types the selected panelist's scores in one grid (↑/↓ choose; the cursor "
                     "starts on the first with answers to score) · w waives the audience or a panelist",
                     classes="hint")

    def render_snapshot(self, snapshot: ShowSnapshot) -> None:
        rec = snapshot.current
        table: DataTable[Cell] = self.query_one("#panel-table", DataTable)
        if rec is None:
            self.query_one("#panel-title", Static).update("No round yet.")
            return
        order = sorted(snapshot.event.finalist_ids, key=lambda f: rec.round.labels.get(f, "?"))
        header = tuple(rec.round.labels.get(f, "?") + (f" {snapshot.names[f]}" if self.console.show_names else "")
                       for f in order)
        if getattr(table, "_finale_header", None) != header:
            table.clear(columns=True)
            table._finale_rows = None  # type: ignore[attr-defined]
            table.add_columns("Panelist", *header, "Done")
            table._finale_header = header  # type: ignore[attr-defined]
        got = {(s.panelist_id, s.finalist_id): s for s in rec.panel_scores}
        rows: list[tuple[str, tuple[Cell, ...]]] = []
        submitted = 0
        for p in snapshot.event.panelists:
            cells: list[Cell] = []
            for fid in order:
                s = got.get((p.id, fid))
                fr = snapshot.scored.get(fid)
                if fr is not None and p.id in fr.panel.left_out:
                    cells.append(Text("– waived", style="dim italic"))
                elif s is None:
                    cells.append(Text("·", style="dim"))
                else:
                    by_mc = snapshot.panel_actors.get((p.id, fid), "").startswith(MC_TYPED_PREFIX)
                    mark = "✎" if by_mc else "✓"
                    cells.append(Text(f"{mark} {sum(s.scores.values()) / len(s.scores):.1f}",
                                      style="bold yellow" if by_mc else "bold green"))
            done = sum(1 for fid in order if (p.id, fid) in got)
            submitted += done == len(order)
            rows.append((p.id, (p.name, *cells, f"{done}/{len(order)}")))
        fill_table(table, rows)
        todo = next((i for i, p in enumerate(snapshot.event.panelists)
                     if any((p.id, fid) not in got for fid in order)), None)
        follow = self._auto_row is None or table.cursor_row == self._auto_row  # the MC has not moved it
        if rows and todo is not None and follow:
            table.move_cursor(row=todo, animate=False)  # i opens the next panelist to score
            self._auto_row = todo
        self.query_one("#panel-title", Static).update(
            f"Panel · round {rec.round.id} · {submitted}/{len(snapshot.event.panelists)} panelists complete")

    def on_screen_resume(self) -> None:
        self._auto_row = None
        super().on_screen_resume()

    def action_type_scores(self) -> None:
        self.console.action_type_panel_scores(selected_key(self.query_one("#panel-table", DataTable)))
