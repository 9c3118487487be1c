"""The audit log: every event, filterable by kind and round; overrides can be reverted from here."""

from __future__ import annotations

import json
import time
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Static

from finale.core.text import inert, one_line
from finale.store import EventRow
from finale.tui.screens.base import ConsoleScreen
from finale.tui.screens.tables import Cell, fill_table, selected_key
from finale.tui.state import ShowSnapshot

MAX_ROWS = 500


class AuditScreen(ConsoleScreen):
    """Newest first; the filter takes a kind pattern (`override.*`) and a round number."""

    AUTO_FOCUS = "#audit"  # the table, so screen keys work; / moves to the filter
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("u", "revert", "Revert override"),
        Binding("escape", "leave_filter", "Leave filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[str, EventRow] = {}

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="audit-filters"):
            yield Input(placeholder="kind, e.g. override.*", id="kind-filter")
            yield Input(placeholder="round", id="round-filter", type="integer")
        yield Static(id="audit-status", classes="hint")
        yield DataTable(id="audit", cursor_type="row", zebra_stripes=True)
        yield Static(id="audit-detail")

    def on_mount(self) -> None:
        table: DataTable[Cell] = self.query_one("#audit", DataTable)
        table.add_columns("Seq", "Time", "Actor", "Kind", "Round", "Details")
        for field in self.query(Input):
            field.cursor_blink = self.console.cursor_blink
        super().on_mount()

    def render_snapshot(self, snapshot: ShowSnapshot) -> None:
        kind = self.query_one("#kind-filter", Input).value.strip() or None
        raw_round = self.query_one("#round-filter", Input).value.strip()
        self.load_events(kind, int(raw_round) if raw_round.isdigit() else None)

    @on(Input.Changed)
    def _filter_changed(self, _event: Input.Changed) -> None:
        if self.console.snapshot is not None:
            self.render_snapshot(self.console.snapshot)

    @on(Input.Submitted)
    def _filter_submitted(self, _event: Input.Submitted) -> None:
        self.action_leave_filter()  # Enter applies the filter and goes to the rows (u, ↑/↓ work there)

    @on(DataTable.RowHighlighted, "#audit")
    def _show_detail(self) -> None:
        """The selected event in full: the table cuts long details (an override's reason, scores)."""
        row = self._rows.get(selected_key(self.query_one("#audit", DataTable)) or "")
        text = Text()
        if row is not None:
            text.append(f"#{row.seq} {row.kind} by {row.actor}: ", style="bold")
            text.append(inert(json.dumps(dict(row.payload), ensure_ascii=False, sort_keys=True)))
            if row.kind == "override.added":
                text.append("\nu reverts this override (reason required)", style="yellow")
        self.query_one("#audit-detail", Static).update(text)

    @work(name="read-audit-log", thread=True, exclusive=True, group="audit")
    def load_events(self, kind: str | None, round_id: int | None) -> None:
        rows = self.console.read_events(kind, round_id)
        self.app.call_from_thread(self._show_events, rows, kind, round_id)

    def _show_events(self, rows: list[EventRow], kind: str | None, round_id: int | None) -> None:
        newest = rows[::-1][:MAX_ROWS]
        self._rows = {str(r.seq): r for r in newest}
        fill_table(self.query_one("#audit", DataTable), [
            (str(r.seq), (str(r.seq), time.strftime("%H:%M:%S", time.localtime(r.at)), r.actor, r.kind,
                          "" if r.round_id is None else str(r.round_id), _summary(r))) for r in newest])
        shown = f"{len(newest)} of {len(rows)}" if len(rows) > MAX_ROWS else str(len(rows))
        self.query_one("#audit-status", Static).update(Text(
            f"{shown} events · kind {kind or 'any'} · round {round_id if round_id is not None else 'any'}"
            " · / filters (Enter applies) · select an override.added row and press u to revert it"))
        self._show_detail()

    def action_focus_filter(self) -> None:
        self.query_one("#kind-filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.query_one("#audit", DataTable).focus()

    def action_revert(self) -> None:
        key = selected_key(self.query_one("#audit", DataTable))
        row = self._rows.get(key or "")
        if row is None or row.kind != "override.added":
            self.notify("Select an override.added row to revert that override.", severity="warning")
            return
        self.console.action_revert(int(row.payload["override_id"]))


def _summary(row: EventRow) -> str:
    """A one-line summary; untrusted text is shown as plain text by the table."""
    payload = dict(row.payload)
    if row.kind == "votes.recorded":
        return f"{len(payload.get('votes', []))} votes"
    text = one_line(json.dumps(payload, ensure_ascii=False, sort_keys=True))
    return text if len(text) <= 90 else text[:89] + "…"
