"""Modal dialogs: override (replace or waive, reason required, confirm), a reason prompt, a one-key yes/no."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from finale.core.model import Component, Override, OverrideAction
from finale.core.scoring import ScoringError, validate_override
from finale.tui.state import ShowSnapshot

COMPONENT_TITLES = {Component.LLM: "LLM judge", Component.PANEL: "Panel", Component.AUDIENCE: "Audience"}


@dataclass(frozen=True)
class OverrideRequest:
    """What the MC confirmed in the override dialog."""

    round_id: int
    finalist_id: str
    component: Component
    waive: bool
    value: float | None
    reason: str
    decided_by: str = ""  # the head judge, as named in the dialog


def _radio(ident: str, titles: list[str], selected: int) -> RadioSet:
    return RadioSet(*(RadioButton(t, value=i == selected) for i, t in enumerate(titles)), id=ident)


def _index(radio: RadioSet) -> int:
    return max(radio.pressed_index, 0)


def _blink(screen: ModalScreen[Any]) -> None:
    """Inputs follow the app's cursor_blink (off in snapshot tests)."""
    for field in screen.query(Input):
        field.cursor_blink = bool(getattr(screen.app, "cursor_blink", True))


class OverrideModal(ModalScreen[OverrideRequest | None]):
    """Two steps: the first Confirm shows what will change, the second applies it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "confirm", "Confirm"), Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, snapshot: ShowSnapshot, finalist_id: str | None, component: Component | None,
                 show_names: bool, head_judge: str = "") -> None:
        super().__init__()
        self.head_judge = head_judge
        assert snapshot.current is not None
        self.snapshot = snapshot
        self.round = snapshot.current.round
        self.finalists = sorted(snapshot.event.finalist_ids, key=lambda f: self.round.labels.get(f, "?"))
        self.components = list(Component)
        self.preset_finalist = self.finalists.index(finalist_id) if finalist_id in self.finalists else 0
        self.preset_component = self.components.index(component) if component is not None else 0
        self.show_names = show_names
        self._armed: OverrideRequest | None = None

    def compose(self) -> ComposeResult:
        names = self.snapshot.names
        with Vertical(id="override-dialog", classes="dialog"):
            yield Label(f"Override · round {self.round.id}", classes="dialog-title")
            with Horizontal(classes="radios"):
                with Vertical():
                    yield Label("Finalist")
                    yield _radio("ov-finalist", [self.round.labels.get(f, "?") + " · " + names[f]
                                                 for f in self.finalists], self.preset_finalist)
                with Vertical():
                    yield Label("Component")
                    yield _radio("ov-component", [COMPONENT_TITLES[c] for c in self.components],
                                 self.preset_component)
                with Vertical():
                    yield Label("Action")
                    yield _radio("ov-action", ["Replace value", "Waive component"], 0)
            yield Static(id="ov-current")
            yield Input(placeholder="new value, 0-100", id="ov-value", type="number")
            yield Input(placeholder="reason (required, goes on the record)", id="ov-reason", max_length=500)
            with Horizontal(classes="decided-by"):
                yield Label("Decided by (head judge):")
                yield Input(value=self.head_judge, placeholder="who decided it", id="ov-by", max_length=80)
            yield Static(id="ov-message")
            with Horizontal(classes="buttons"):
                yield Button("Confirm (ctrl+s)", variant="warning", id="ov-confirm")
                yield Button("Cancel (esc)", id="ov-cancel")

    def on_mount(self) -> None:
        _blink(self)
        self._show_current()
        self.query_one("#ov-value", Input).focus()

    def _choice(self) -> tuple[str, Component, bool]:
        fid = self.finalists[_index(self.query_one("#ov-finalist", RadioSet))]
        component = self.components[_index(self.query_one("#ov-component", RadioSet))]
        waive = _index(self.query_one("#ov-action", RadioSet)) == 1
        return fid, component, waive

    def _show_current(self) -> None:
        fid, component, _ = self._choice()
        fr = self.snapshot.scored.get(fid)
        text = Text()
        if fr is not None:
            cv = fr.component(component)
            original = "–" if cv.original is None else f"{cv.original:.1f}"
            text.append(f"Current {COMPONENT_TITLES[component]} for {self.round.labels.get(fid, '?')}: ")
            text.append(original, style="bold")
            if cv.overridden or cv.waived:
                used = "waived" if cv.waived else f"{cv.value:.1f}"
                text.append(f" (already overridden: {used})", style="yellow")
        self.query_one("#ov-current", Static).update(text)

    @on(RadioSet.Changed)
    def _changed(self, _event: RadioSet.Changed) -> None:
        self._armed = None
        self.query_one("#ov-message", Static).update("")
        self._show_current()

    @on(Input.Changed)
    def _typed(self, _event: Input.Changed) -> None:
        self._armed = None

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        reason = self.query_one("#ov-reason", Input)
        if event.input.id in ("ov-value", "ov-by") and not reason.value.strip():
            reason.focus()  # Enter after the value goes on to the reason, which is required
            return
        self.action_confirm()

    @on(Button.Pressed, "#ov-confirm")
    def _confirm_pressed(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#ov-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _request(self) -> OverrideRequest | str:
        fid, component, waive = self._choice()
        reason = self.query_one("#ov-reason", Input).value.strip()
        decided_by = self.query_one("#ov-by", Input).value.strip()
        raw = self.query_one("#ov-value", Input).value.strip()
        value: float | None = None
        if not waive:
            try:
                value = float(raw)
            except ValueError:
                return f"Type the new {COMPONENT_TITLES[component]} value as a number from 0 to 100 (got {raw!r})."
        try:
            validate_override(Override(0, self.round.id, fid, component,
                                       OverrideAction.WAIVE if waive else OverrideAction.REPLACE,
                                       reason, decided_by, value))
        except ScoringError as exc:
            return str(exc).capitalize() + "."
        return OverrideRequest(self.round.id, fid, component, waive, value, reason, decided_by)

    def action_confirm(self) -> None:
        message = self.query_one("#ov-message", Static)
        request = self._request()
        if isinstance(request, str):
            self._armed = None
            message.update(Text(request, style="bold red"))
            return
        if self._armed == request:
            self.dismiss(request)
            return
        self._armed = request
        who = f"{self.round.labels.get(request.finalist_id, '?')} ({self.snapshot.names[request.finalist_id]})"
        what = "Waive" if request.waive else f"Replace with {request.value:g}"
        summary = Text(f"{what}: {COMPONENT_TITLES[request.component]} for {who}. Reason: ", style="bold")
        summary.append(request.reason)
        summary.append(f" Decided by {request.decided_by}.", style="bold")
        summary.append("\nPress ctrl+s (or Confirm) again to apply it, on the record.", style="yellow")
        message.update(summary)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReasonModal(ModalScreen[str | None]):
    """Asks for a reason (voiding a round, reverting an override); empty is refused."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, placeholder: str) -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(placeholder=self.placeholder, id="reason", max_length=500)
            yield Static(id="reason-message")
            yield Static("Enter to confirm · Esc to cancel", classes="hint")

    def on_mount(self) -> None:
        _blink(self)

    @on(Input.Submitted, "#reason")
    def _submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one("#reason-message", Static).update(Text("A reason is required.", style="bold red"))
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question for a step that is hard to undo on stage (quitting mid-round); No is the default."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"), Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str, body: str, yes: str = "Yes", no: str = "No, stay") -> None:
        super().__init__()
        self.title_text, self.body, self.yes, self.no = title, body, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(Text(self.body))
            with Horizontal(classes="buttons"):
                yield Button(f"{self.no} (n)", id="confirm-no", variant="primary")
                yield Button(f"{self.yes} (y)", id="confirm-yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
