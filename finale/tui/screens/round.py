"""The round screen: one pane per finalist (and the reference) streaming live, with timings and errors."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.widgets import Static

from finale.core.model import Answer
from finale.director import REFERENCE_ID
from finale.tui.screens.base import ConsoleScreen
from finale.tui.state import ShowSnapshot
from finale.tui.widgets.answer_pane import AnswerPane


class RoundScreen(ConsoleScreen):
    """The MC watches the answers arrive; names are shown only when the MC asks."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "app.judge", "Judge"),
        Binding("e", "retry", "Re-ask"),
        Binding("r", "app.retry_failed", "Re-ask failed"),
        Binding("m", "app.toggle_names", "Names"),
        Binding("f", "app.toggle_reference", "Reference"),
        Binding("left", "move(-1)", "Prev pane", show=False),
        Binding("right", "move(1)", "Next pane", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(id="round-prompt")
        with Grid(id="answers"):
            for f in self.console.config.finalists:
                yield AnswerPane(f.id)
            yield AnswerPane(REFERENCE_ID, classes="reference")

    def render_snapshot(self, snapshot: ShowSnapshot) -> None:
        app = self.console
        rnd = snapshot.round
        prompt = Text()
        if rnd is None:
            prompt.append("No round yet: go to the show screen (1) and press n.")
        else:
            prompt.append(f"Round {rnd.id} · {rnd.phase} · ", style="bold")
            prompt.append(rnd.prompt)
        self.query_one("#round-prompt", Static).update(prompt)
        answers = snapshot.current.answers if snapshot.current is not None else {}
        started = app.ask_started
        waited = int(time.monotonic() - started) if started is not None else None
        names = snapshot.names
        for pane in self.query(AnswerPane):
            fid = pane.finalist_id
            if fid == REFERENCE_ID:
                pane.display = app.show_reference
                ref = snapshot.config.reference
                pane.show(f"{ref.name if ref else 'reference'} · not ranked", app.live_answer(fid, snapshot.reference),
                          waited)
                continue
            label = rnd.labels.get(fid, "?") if rnd is not None else "?"
            title = f"{label} · {names[fid]}" if app.show_names else f"Answer {label}"
            stored: Answer | None = answers.get(fid)
            pane.show(title, app.live_answer(fid, stored), waited)

    def tick(self) -> None:
        """While finalists are being asked, the in-flight panes count the seconds (a stuck endpoint is visible)."""
        super().tick()
        if self.console.ask_started is not None and self.console.snapshot is not None and self.query(AnswerPane):
            self.render_snapshot(self.console.snapshot)

    def selected_finalist(self) -> str | None:
        focused = self.focused
        if isinstance(focused, AnswerPane) and focused.finalist_id != REFERENCE_ID:
            return focused.finalist_id
        return None

    def action_retry(self) -> None:
        fid = self.selected_finalist()
        if fid is None:
            self.notify("Select a finalist's pane first (Tab or ←/→), then press e to re-ask it.",
                        severity="warning")
            return
        self.console.action_retry(fid)

    def action_move(self, step: int) -> None:
        panes = [p for p in self.query(AnswerPane) if p.display]
        if not panes:
            return
        current = self.focused
        index = panes.index(current) if isinstance(current, AnswerPane) and current in panes else -step
        panes[(index + step) % len(panes)].focus()
