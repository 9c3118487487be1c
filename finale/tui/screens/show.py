"""The show screen: the question deck with statuses, standings beside it, next question, ad-hoc prompt."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Static

from finale.tui.screens.base import ConsoleScreen
from finale.tui.screens.standings_rows import TIE_RULE, overall_rows
from finale.tui.screens.tables import Cell, fill_table, selected_key
from finale.tui.state import ShowSnapshot

PROMPT_CHARS = 36
STATUS_STYLE = {"unasked": "dim", "final": "bold green", "void": "strike dim"}


class ShowScreen(ConsoleScreen):
    """Where the MC starts each round."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "app.next_question", "Next question"),
        Binding("enter", "ask_selected", "Ask selected", show=True),
        Binding("a", "adhoc", "Ad-hoc prompt"),
        Binding("escape", "leave_prompt", "Leave prompt", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="show-body"):
            with Vertical(id="deck-col"):
                yield Static("Question deck", classes="section-title")
                yield DataTable(id="deck", cursor_type="row", zebra_stripes=True)
                yield Static("Unseen question, typed live:", classes="section-title")
                yield Input(placeholder="type a prompt and press Enter to ask every finalist", id="adhoc",
                            max_length=2000)
            with Vertical(id="standings-col"):
                yield Static("Standings (final rounds)", classes="section-title")
                yield DataTable(id="show-standings", cursor_type="none", zebra_stripes=True)
                yield Static(TIE_RULE, classes="hint")
                yield Static(id="round-summary")

    def on_mount(self) -> None:
        deck: DataTable[Cell] = self.query_one("#deck", DataTable)
        deck.add_columns("#", "Question", "Status", "Prompt")
        table: DataTable[Cell] = self.query_one("#show-standings", DataTable)
        table.add_columns("#", "Finalist", "LLM", "Panel", "Aud.", "Votes", "Total")
        self.query_one("#adhoc", Input).cursor_blink = self.console.cursor_blink
        super().on_mount()

    def render_snapshot(self, snapshot: ShowSnapshot) -> None:
        status = snapshot.question_status()
        nxt = snapshot.next_question()
        rows: list[tuple[str, tuple[Cell, ...]]] = []
        for i, q in enumerate(snapshot.event.questions, 1):
            st = status[q.id]
            label = Text(st + (" ← next" if q.id == nxt and not snapshot.round_open else ""),
                         style=STATUS_STYLE.get(st, "bold cyan"))
            prompt = q.prompt if len(q.prompt) <= PROMPT_CHARS else q.prompt[: PROMPT_CHARS - 1] + "…"
            rows.append((q.id, (str(i), q.id, label, Text(prompt))))
        fill_table(self.query_one("#deck", DataTable), rows)
        fill_table(self.query_one("#show-standings", DataTable), overall_rows(snapshot.standings, snapshot.names))
        summary = Text()
        rnd = snapshot.round
        if rnd is None:
            summary.append("No round yet. Press n for the first question, or a to type one.")
        else:
            summary.append(f"Round {rnd.id}: ", style="bold")
            summary.append(rnd.prompt)
            summary.append(f"\nPhase: {rnd.phase}\n")
            if snapshot.blockers and snapshot.round_open:
                summary.append("Blocking final:\n", style="bold yellow")
                for b in snapshot.blockers[:6]:
                    summary.append(f" • {b}\n")
                if len(snapshot.blockers) > 6:
                    summary.append(f" • … and {len(snapshot.blockers) - 6} more\n")
        self.query_one("#round-summary", Static).update(summary)

    def action_ask_selected(self) -> None:
        qid = selected_key(self.query_one("#deck", DataTable))
        if qid is not None:
            self.console.action_ask_question(qid)

    @on(DataTable.RowSelected, "#deck")
    def _deck_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.console.action_ask_question(str(event.row_key.value))

    def action_adhoc(self) -> None:
        self.query_one("#adhoc", Input).focus()

    def action_leave_prompt(self) -> None:
        self.query_one("#deck", DataTable).focus()

    @on(Input.Submitted, "#adhoc")
    def _adhoc_submitted(self, event: Input.Submitted) -> None:
        prompt = event.value.strip()
        if not prompt:
            self.notify("Type a prompt first: the unseen question every finalist will answer.", severity="warning")
            return
        self.console.action_ask_prompt(prompt)
        event.input.value = ""
        self.query_one("#deck", DataTable).focus()
