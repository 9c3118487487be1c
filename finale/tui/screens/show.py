"""The show screen: the question deck with statuses, standings beside it, next question, ad-hoc prompt."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Static

from finale.core.text import inert
from finale.tui.fixes import fix_hint, fixes
from finale.tui.screens.base import ConsoleScreen
from finale.tui.screens.standings_rows import TIE_RULE, overall_rows
from finale.tui.screens.tables import Cell, fill_table, selected_key
from finale.tui.state import ShowSnapshot

PROMPT_CHARS = 80  # at most; a narrow terminal gets fewer (the preview below the deck shows it whole)
DECK_FIXED_COLUMNS = 34  # number, question id, status and the table's padding
STATUS_STYLE = {"unasked": "dim", "final": "bold green", "void": "strike dim"}


class ShowScreen(ConsoleScreen):
    """Where the MC starts each round."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "app.next_question", "Next question"),
        Binding("enter", "ask_selected", "Ask selected", show=True),
        Binding("a", "adhoc", "Ad-hoc prompt"),
        Binding("q", "app.toggle_questions", "Questions open/close"),
        Binding("escape", "leave_prompt", "Leave prompt", show=False),
    ]

    _cursor_on_next: str | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="show-body"):
            with Vertical(id="deck-col"):
                yield Static("Question deck", classes="section-title")
                yield DataTable(id="deck", cursor_type="row", zebra_stripes=True)
                yield Static(id="deck-preview")
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
        width = self.query_one("#deck", DataTable).size.width
        chars = max(12, min(PROMPT_CHARS, width - DECK_FIXED_COLUMNS)) if width else PROMPT_CHARS
        for i, q in enumerate(snapshot.event.questions, 1):
            st = status[q.id]
            label = Text(st + (" ← next" if q.id == nxt and not snapshot.round_open else ""),
                         style=STATUS_STYLE.get(st, "bold cyan"))
            prompt = q.prompt if len(q.prompt) <= chars else q.prompt[: chars - 1] + "…"
            rows.append((q.id, (str(i), q.id, label, Text(prompt))))
        deck = self.query_one("#deck", DataTable)
        fill_table(deck, rows)
        if nxt != self._cursor_on_next and nxt is not None:  # the cursor follows "next" as rounds go by
            self._cursor_on_next = nxt
            deck.move_cursor(row=[q.id for q in snapshot.event.questions].index(nxt), animate=False)
        self._preview()
        fill_table(self.query_one("#show-standings", DataTable), overall_rows(snapshot.standings, snapshot.names))
        summary = Text()
        rnd = snapshot.round
        if rnd is None:
            summary.append("No round yet. Press n for the first question, or a to type one.")
        else:
            summary.append(f"Round {rnd.id}: ", style="bold")
            summary.append(rnd.prompt)
            summary.append(f"\nPhase: {rnd.phase}\n")
            found = fixes(snapshot) if snapshot.round_open else []
            if found:
                summary.append("Blocking final, and the key that fixes it:\n", style="bold yellow")
                for fix in found[:6]:
                    summary.append(f" • {fix.about(snapshot)} → ")
                    summary.append(fix_hint(fix, "show"), style="bold")
                    summary.append("\n")
                if len(found) > 6:
                    summary.append(f" • … and {len(found) - 6} more\n")
        self.query_one("#round-summary", Static).update(summary)

    def on_resize(self) -> None:
        self.call_after_refresh(self.refresh_view)  # sizes are known (and the widgets composed) after a refresh

    @on(DataTable.RowHighlighted, "#deck")
    def _preview(self) -> None:
        """The selected question in full (the deck cuts long prompts), its expected answer, and the key to ask it."""
        snapshot = self.console.snapshot
        qid = selected_key(self.query_one("#deck", DataTable))
        question = next((q for q in snapshot.event.questions if q.id == qid), None) if snapshot else None
        text = Text()
        if question is not None:
            text.append(f"{question.id}: ", style="bold")
            text.append(question.prompt)
            if question.expected is not None:
                text.append(f"\nexpected: {question.expected}" + (f" ({question.check} check)" if question.check
                                                                   else ""), style="dim")
            text.append("\nEnter asks this question · ↑/↓ choose · n asks the next unasked one", style="dim")
        self.query_one("#deck-preview", Static).update(text)

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
        event.input.value = ""
        self.query_one("#deck", DataTable).focus()
        finalists = len(self.console.config.finalists)
        self.console.ask_first("Ask this unseen question?",
                               f"{inert(prompt)}\n\nIt goes to all {finalists} finalists now, exactly as written "
                               "above, and to the stage and the phones with their answers.",
                               "Ask it", lambda: self.console.action_ask_prompt(prompt))
