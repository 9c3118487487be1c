"""One grid per panelist: every answer by every criterion, typed as the panelist reads them out.

A score is a digit and the cursor moves on by itself, so 5 answers x 3 criteria
is 15 keys between `i` and Enter: `1` waits for a `0` (10) or the next score,
`.` after a score adds a decimal to it (`7` `.` `5` is 7.5), Tab and the arrows
move, Backspace clears. Enter (or ctrl+s) saves every complete row in one
transaction (Director.score_panel_grid); the range is checked by the core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Label, Static

from finale.core.ranges import SCORE_RANGE_TEXT, ScoreError, check_score
from finale.tui.state import ShowSnapshot


@dataclass(frozen=True)
class PanelGrid:
    """A panelist's typed scores for the answers whose rows are complete: finalist id -> criterion -> score."""

    round_id: int
    panelist_id: str
    scores: dict[str, dict[str, float]]


class ScoreGrid(Widget, can_focus=True):
    """The cells and the cursor; keys type, move and clear. Enter posts `Submitted`."""

    DEFAULT_CSS = "ScoreGrid { height: auto; padding: 0 1; }"

    class Submitted(Message):
        """Enter was pressed in the grid."""

    def __init__(self, rows: list[str], columns: list[str], cells: list[list[str]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.row_titles, self.columns, self.cells = rows, columns, cells
        self.row, self.col = 0, 0
        self.editing = False  # typing extends the cell under the cursor ("1" before "0", "7." before "5")
        self.amend: tuple[int, int] | None = None  # the cell just completed: a "." extends it
        self.dirty = False

    # -- moving -----------------------------------------------------------------

    def _step(self, delta: int) -> None:
        width = len(self.columns)
        index = min(max(self.row * width + self.col + delta, 0), len(self.row_titles) * width - 1)
        self.row, self.col = divmod(index, width)
        self.editing, self.amend = False, None
        self.refresh()

    def _set(self, text: str) -> None:
        self.cells[self.row][self.col] = text
        self.dirty = True

    def _complete(self) -> None:
        """The cell under the cursor is done: the cursor moves on (a "." still extends it)."""
        done = (self.row, self.col)
        self._step(1)
        self.amend = done if done != (self.row, self.col) else None

    # -- typing -----------------------------------------------------------------

    def _digit(self, d: str) -> None:
        current = self.cells[self.row][self.col]
        if self.editing and current == "1" and d == "0":
            self._set("10")
            self._complete()
            return
        if self.editing and current.endswith("."):
            self._set(current + d)
            self._complete()
            return
        if self.editing:  # "1" followed by another score: the 1 stands, the digit starts the next cell
            self._complete()
            if self.amend is None:  # the last cell: the new digit replaces it
                self._set(d)
                self._complete_or_wait(d)
                return
        self._set(d)
        self._complete_or_wait(d)

    def _complete_or_wait(self, d: str) -> None:
        if d == "1":
            self.editing = True  # 1 or 10: the next key says
            self.refresh()
        else:
            self._complete()

    def _dot(self) -> None:
        if not self.editing and self.amend is not None:
            self.row, self.col = self.amend
            self.amend = None
        current = self.cells[self.row][self.col]
        if current and "." not in current:
            self._set(current + ".")
            self.editing = True
        self.refresh()

    def _clear(self) -> None:
        if not self.cells[self.row][self.col] and (self.row or self.col):
            self._step(-1)
        self._set("")
        self.editing, self.amend = False, None
        self.refresh()

    def on_key(self, event: events.Key) -> None:
        key = event.key
        handled = True
        if len(key) == 1 and key.isdigit():
            self._digit(key)
        elif key in ("full_stop", ".", "comma"):
            self._dot()
        elif key in ("backspace", "delete"):
            self._clear()
        elif key in ("tab", "right"):
            self._step(1)
        elif key in ("shift+tab", "left"):
            self._step(-1)
        elif key == "down":
            self._step(len(self.columns))
        elif key == "up":
            self._step(-len(self.columns))
        elif key == "enter":
            self.post_message(self.Submitted())
        else:
            handled = False
        if handled:
            event.stop()
            event.prevent_default()

    def render(self) -> Table:
        table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 2))
        table.add_column("")
        for title in self.columns:
            table.add_column(title, justify="center")
        for r, title in enumerate(self.row_titles):
            cells: list[Text] = []
            for c, value in enumerate(self.cells[r]):
                here = (r, c) == (self.row, self.col)
                shown = f"{value or '·'}{'_' if here and self.editing else ''}"
                cells.append(Text(f" {shown} ", style="bold reverse" if here and self.has_focus else
                                  "bold" if value else "dim"))
            table.add_row(Text(title), *cells)
        return table


class PanelGridModal(ModalScreen[PanelGrid | None]):
    """A panelist's grid: the first panelist with answers still to score, unless one is named; PgUp/PgDn change."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel"),
        Binding("pageup", "panelist(-1)", "Previous panelist"), Binding("pagedown", "panelist(1)", "Next panelist"),
    ]

    def __init__(self, snapshot: ShowSnapshot, panelist_id: str | None, show_names: bool) -> None:
        super().__init__()
        assert snapshot.current is not None
        self.snapshot, self.show_names = snapshot, show_names
        self.round = snapshot.current.round
        self.panelists = [p.id for p in snapshot.event.panelists]
        self.finalists = sorted(snapshot.event.finalist_ids, key=lambda f: self.round.labels.get(f, "?"))
        self.criteria = list(snapshot.event.criterion_ids)
        done = {(s.panelist_id, s.finalist_id) for s in snapshot.current.panel_scores}
        todo = next((p for p in self.panelists if any((p, f) not in done for f in self.finalists)), None)
        chosen = panelist_id if panelist_id in self.panelists else todo
        self.index = self.panelists.index(chosen) if chosen is not None else 0

    def compose(self) -> ComposeResult:
        with Vertical(id="grid-dialog", classes="dialog"):
            yield Label(id="grid-title", classes="dialog-title")
            yield self._grid()
            yield Static(id="grid-message")
            yield Static(f"Type each score ({SCORE_RANGE_TEXT}): the cursor moves on by itself · 1 then 0 is 10, "
                         "a . after a score adds a decimal · Tab/arrows move · Backspace clears · Enter saves every "
                         "complete row · PgUp/PgDn another panelist · Esc cancels", classes="hint")

    def _grid(self) -> ScoreGrid:
        pid = self.panelists[self.index]
        typed = {s.finalist_id: s.scores for s in self.snapshot.current.panel_scores  # type: ignore[union-attr]
                 if s.panelist_id == pid}
        cells = [[f"{typed[f][c]:g}" if f in typed and c in typed[f] else "" for c in self.criteria]
                 for f in self.finalists]
        names = self.snapshot.names
        rows = [f"Answer {self.round.labels.get(f, '?')}" + (f" · {names[f]}" if self.show_names else "")
                for f in self.finalists]
        grid = ScoreGrid(rows, self.criteria, cells, id="score-grid")
        first_empty = next((i for i, row in enumerate(cells) if not all(row)), 0)
        grid.row = first_empty
        return grid

    def on_mount(self) -> None:
        self._title()
        self.query_one(ScoreGrid).focus()

    def _title(self) -> None:
        pid = self.panelists[self.index]
        self.query_one("#grid-title", Label).update(
            f"Panel scores · round {self.round.id} · {self.snapshot.panel_names.get(pid, pid)} "
            f"(panelist {self.index + 1} of {len(self.panelists)})")

    async def action_panelist(self, step: int) -> None:
        grid = self.query_one(ScoreGrid)
        if grid.dirty:
            self._say("Save these scores (Enter) or cancel them (Esc) before another panelist.")
            return
        self.index = (self.index + step) % len(self.panelists)
        await grid.remove()
        await self.query_one("#grid-dialog", Vertical).mount(self._grid(), after="#grid-title")
        self._title()
        self.query_one(ScoreGrid).focus()

    def _say(self, message: str) -> None:
        self.query_one("#grid-message", Static).update(Text(message, style="bold red"))

    def on_score_grid_submitted(self, _event: ScoreGrid.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        grid = self.query_one(ScoreGrid)
        scores: dict[str, dict[str, float]] = {}
        for fid, title, row in zip(self.finalists, grid.row_titles, grid.cells, strict=True):
            if not any(row):
                continue
            if not all(row):
                missing = ", ".join(c for c, v in zip(self.criteria, row, strict=True) if not v)
                self._say(f"{title}: {missing} still empty; type it or clear the row (Backspace).")
                return
            try:
                scores[fid] = {c: check_score(c, float(v)) for c, v in zip(self.criteria, row, strict=True)}
            except (ScoreError, ValueError) as exc:
                self._say(f"{title}: {exc}")
                return
        if not scores:
            self._say("Nothing typed yet: type the panelist's scores, then Enter.")
            return
        self.dismiss(PanelGrid(self.round.id, self.panelists[self.index], scores))

    def action_cancel(self) -> None:
        self.dismiss(None)
