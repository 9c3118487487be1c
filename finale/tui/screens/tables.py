"""Filling DataTables from snapshots without flicker: rebuild only when the rows changed."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text


def fill_table(table: DataTable[Cell], rows: Sequence[tuple[str, Sequence[Cell]]]) -> bool:
    """Replace the rows (key, cells) keeping the cursor row; returns False when nothing changed."""
    signature = tuple((key, tuple(str(c) for c in cells)) for key, cells in rows)
    if getattr(table, "_finale_rows", None) == signature:
        return False
    table._finale_rows = signature  # type: ignore[attr-defined]
    cursor = table.cursor_row
    # Plain strings would be parsed as markup by DataTable; names and answers are untrusted text.
    texts = [(key, [Text(c) if isinstance(c, str) else c for c in cells]) for key, cells in rows]
    # Size the columns before the rows go in: DataTable's own auto-width settles on idle, and rows painted
    # before that keep their too-narrow cached rendering.
    for index, column in enumerate(table.ordered_columns):
        widths = [column.label.cell_len, *(cells[index].cell_len for _, cells in texts if index < len(cells))]
        column.width = max(widths)
        column.auto_width = False
    table.clear()
    for key, cells in texts:
        table.add_row(*cells, key=key)
    if rows:
        table.move_cursor(row=min(max(cursor, 0), len(rows) - 1), animate=False)
    return True


def selected_key(table: DataTable[Cell]) -> str | None:
    """The key of the row under the cursor, or None when the table is empty."""
    if table.row_count == 0:
        return None
    row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    return None if row_key.value is None else str(row_key.value)
