"""The moderation queue: questions from the floor, pending first, with their upvotes; approve, reject, star, ask.

Nothing reaches a phone or the stage before the MC approves it here (core.questions); a
rejected question is shown on this screen only (dim, with its reason). "Ask as the next
round" makes an approved question the next round's unseen prompt, recorded as coming from
the audience (Director.ask_question_as_round). Every key is one Director intent; the rows
are read from the store in a worker thread whenever the store changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static

from finale.core.questions import FloorQuestion, QuestionsState, Status, queue_order
from finale.core.text import one_line
from finale.store import Store
from finale.tui.screens.base import ConsoleScreen
from finale.tui.screens.tables import Cell, fill_table, selected_key
from finale.tui.state import ShowSnapshot

READ_EVERY_S = 0.5  # at most this often, however fast questions and upvotes arrive
STATUS_STYLE = {Status.PENDING: "bold yellow", Status.APPROVED: "bold green", Status.ASKED: "cyan",
                Status.REJECTED: "dim strike"}
TEXT_CHARS = 90


def read_queue(store: Store) -> tuple[QuestionsState, list[FloorQuestion]]:
    """The switch and every question in queue order (a worker thread)."""
    with store.read():
        return store.questions_state(), queue_order(store.floor_questions())


class RejectModal(ModalScreen[str | None]):
    """Why a question is rejected, optional (kept on the console and in the audit log, shown to no page)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: FloorQuestion) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Reject question #{self.question.id}? No page will ever show it.", classes="dialog-title")
            yield Static(Text(self.question.text), id="reject-text")
            yield Input(placeholder="reason (optional): off topic, duplicate, ...", id="reject-reason",
                        max_length=200)
            yield Static("Enter rejects · Esc cancels", classes="hint")

    @on(Input.Submitted, "#reject-reason")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class QuestionsScreen(ConsoleScreen):
    """Questions from the floor: the queue and the keys that moderate it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "app.toggle_questions", "Open/close questions"),
        Binding("a", "approve", "Approve"),
        Binding("r", "reject", "Reject"),
        Binding("s", "star", "Star"),
        Binding("n", "ask", "Ask as next round"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.state = QuestionsState()
        self.rows: list[FloorQuestion] = []
        self._read_at = 0.0

    def compose_body(self) -> ComposeResult:
        yield Static(id="questions-state")
        # The columns go in before the table is mounted: the queue is read in a worker that the app's tick can
        # start between the push and this screen's on_mount, and rows without columns are an error.
        queue: DataTable[Cell] = DataTable(id="floor-queue", cursor_type="row", zebra_stripes=True)
        queue.add_columns("#", "Status", "★", "Up", "Question")
        yield queue
        yield Static(id="floor-preview")

    def render_snapshot(self, snapshot: ShowSnapshot) -> None:
        if time.monotonic() - self._read_at >= READ_EVERY_S:
            self._read_at = time.monotonic()
            self.load_queue()

    def tick(self) -> None:
        super().tick()
        if self.composed and self.console.snapshot is not None and time.monotonic() - self._read_at >= READ_EVERY_S:
            self.render_snapshot(self.console.snapshot)

    @work(name="read-questions", thread=True, exclusive=True, group="questions")
    def load_queue(self) -> None:
        state, rows = self.console.read_store(read_queue)
        self.app.call_from_thread(self.show_queue, state, rows)

    def show_queue(self, state: QuestionsState, rows: list[FloorQuestion]) -> None:
        """Paint the switch and the queue (also what the tests read)."""
        if not self.composed:  # the read finished after the screen was closed
            return
        self.state, self.rows = state, rows
        pending = sum(1 for q in rows if q.status is Status.PENDING)
        head = Text()
        if state.open:
            head.append(" QUESTIONS OPEN ", style="bold black on green")
            head.append(" phones can submit and upvote · q closes them (asking the next round does too)")
        else:
            head.append(" QUESTIONS CLOSED ", style="bold white on red")
            head.append(" q opens them between rounds")
        head.append(f"\n{pending} waiting for moderation · only approved questions reach the phones and the stage",
                    style="dim")
        self.query_one("#questions-state", Static).update(head)
        table: list[tuple[str, tuple[Cell, ...]]] = []
        for q in rows:
            text = q.text if len(q.text) <= TEXT_CHARS else q.text[: TEXT_CHARS - 1] + "…"
            status = str(q.status) + (f" r{q.round_id}" if q.round_id else "")
            table.append((str(q.id), (str(q.id), Text(status, style=STATUS_STYLE[q.status]),
                                      "★" if q.starred else "", str(q.upvotes),
                                      Text(text, style="dim" if q.status is Status.REJECTED else ""))))
        fill_table(self.query_one("#floor-queue", DataTable), table)
        self._preview()

    @on(DataTable.RowHighlighted, "#floor-queue")
    def _preview(self) -> None:
        q = self._selected()
        text = Text()
        if q is not None:
            text.append(f"#{q.id} ({q.status}, {q.upvotes} upvotes): ", style="bold")
            text.append(q.text)
            if q.reason:
                text.append(f"\nrejected: {q.reason}", style="dim")
            text.append("\na approves · r rejects (a reason is optional) · s stars · n asks it as the next round",
                        style="dim")
        self.query_one("#floor-preview", Static).update(text)

    def _selected(self) -> FloorQuestion | None:
        key = selected_key(self.query_one("#floor-queue", DataTable))
        return next((q for q in self.rows if str(q.id) == key), None)

    def _chosen(self) -> FloorQuestion | None:
        """The selected question, or None after saying the queue is empty."""
        q = self._selected()
        if q is None:
            self.notify("No question selected: the queue is empty.", severity="warning")
        return q

    def _send(self, name: str, job: Callable[[], str]) -> None:
        """One Director intent, in order with the MC's others, reported as a toast; the queue is read again."""
        self.console._intent(name, job)
        self._read_at = 0.0

    def action_approve(self) -> None:
        q = self._chosen()
        if q is not None:
            director = self.console.director
            self._send("approve", lambda: f"Question #{director.approve_question(q.id).id} approved: it is on the "
                                          "phones and the stage while questions are open.")

    def action_star(self) -> None:
        q = self._chosen()
        if q is not None:
            director = self.console.director

            def job() -> str:
                starred = director.toggle_star(q.id).starred
                return f"Question #{q.id} {'starred: it leads the board' if starred else 'unstarred'}."
            self._send("star", job)

    def action_reject(self) -> None:
        q = self._chosen()
        if q is None:
            return
        director = self.console.director

        def rejected(reason: str | None) -> None:
            if reason is not None:
                self._send("reject", lambda: f"Question #{director.reject_question(q.id, reason).id} rejected; "
                                             "no page shows it.")
        self.app.push_screen(RejectModal(q), rejected)

    def action_ask(self) -> None:
        q = self._chosen()
        if q is None:
            return
        if q.status is not Status.APPROVED:
            self.notify(f"Question #{q.id} is {q.status}: only an approved question can be asked (a approves it).",
                        severity="warning")
            return
        self.console.ask_first(
            "Ask this question from the audience?",
            f"{one_line(q.text)}\n\nIt becomes the next round's prompt, unseen by the models, sent to every finalist "
            "now; the stage and the report say it is a question from the audience.",
            "Ask it", lambda: self.console.action_ask_floor_question(q.id))
