"""The waiver dialog: the audience, or one panelist, waived for every finalist of the round with one reason.

What a waiver does to the scores is the core's (core.scoring): the waived part drops
out and the other weights scale up (the audience), or the panel is the mean of the
other panelists (one panelist). The dialog says so before the MC confirms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet, Static

from finale.tui.fixes import AUDIENCE
from finale.tui.state import ShowSnapshot


@dataclass(frozen=True)
class WaiveRequest:
    """What the MC confirmed: `what` is AUDIENCE or a panelist id."""

    round_id: int
    what: str
    reason: str
    decided_by: str


class WaiveModal(ModalScreen[WaiveRequest | None]):
    """Choose what to waive (preset to what blocks the round), type the reason, Enter applies it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, snapshot: ShowSnapshot, preset: str, head_judge: str) -> None:
        super().__init__()
        assert snapshot.current is not None
        self.snapshot, self.head_judge = snapshot, head_judge
        self.round = snapshot.current.round
        self.choices = [AUDIENCE, *(p.id for p in snapshot.event.panelists)]
        self.preset = self.choices.index(preset) if preset in self.choices else 0

    def _title(self, what: str) -> str:
        return "the audience" if what == AUDIENCE else self.snapshot.panel_names.get(what, what)

    def compose(self) -> ComposeResult:
        with Vertical(id="waive-dialog", classes="dialog"):
            yield Label(f"Waive for round {self.round.id}, for every finalist", classes="dialog-title")
            yield RadioSet(*(RadioButton(self._title(w).capitalize() if w == AUDIENCE else self._title(w),
                                         value=i == self.preset) for i, w in enumerate(self.choices)),
                           id="waive-what")
            yield Static(id="waive-effect")
            with Horizontal(classes="decided-by"):
                yield Label("Decided by (head judge):")
                yield Input(value=self.head_judge, placeholder="who decided it", id="waive-by", max_length=80)
            yield Input(placeholder="reason (required, on the record): Enter applies", id="waive-reason",
                        max_length=500)
            yield Static(id="waive-message")
            yield Static("Shift+Tab back to who decided and what to waive (↑/↓) · Enter applies · Esc cancels",
                         classes="hint")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
        self._effect()
        self.query_one("#waive-reason", Input).focus()

    def _what(self) -> str:
        return self.choices[max(self.query_one("#waive-what", RadioSet).pressed_index, 0)]

    @on(RadioSet.Changed)
    def _effect(self) -> None:
        what = self._what()
        count = len(self.snapshot.event.finalist_ids)
        if what == AUDIENCE:
            effect = (f"The audience share drops out for all {count} finalists of round {self.round.id}; the judge "
                      "and the panel weigh in its place (weights scaled up to sum to 1).")
        else:
            effect = (f"{self._title(what)}'s scores leave round {self.round.id} for all {count} finalists: the "
                      "panel is the mean of the other panelists (with nobody left, the panel drops out).")
        self.query_one("#waive-effect", Static).update(Text(effect + " One override per finalist, revertible "
                                                            "from the audit log.", style="yellow"))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        reason = self.query_one("#waive-reason", Input).value.strip()
        decided_by = self.query_one("#waive-by", Input).value.strip()
        if event.input.id == "waive-by" and not reason:
            self.query_one("#waive-reason", Input).focus()
            return
        if not reason:
            self.query_one("#waive-message", Static).update(Text("A reason is required.", style="bold red"))
            return
        if not decided_by:
            self.query_one("#waive-message", Static).update(Text("Say who decided it.", style="bold red"))
            return
        self.dismiss(WaiveRequest(self.round.id, self._what(), reason, decided_by))

    def action_cancel(self) -> None:
        self.dismiss(None)
