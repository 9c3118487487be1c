"""One finalist's answer as it streams: label (or name), status, timings, text, error."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from finale.core.model import Answer, AnswerStatus
from finale.core.text import inert, one_line
from finale.director import REFERENCE_ID

STATUS_STYLE = {
    AnswerStatus.PENDING: "dim",
    AnswerStatus.STREAMING: "bold cyan",
    AnswerStatus.OK: "bold green",
    AnswerStatus.TIMEOUT: "bold black on yellow",
    AnswerStatus.ERROR: "bold white on red",
}


def timing_line(answer: Answer | None, waited_s: int | None = None) -> Text:
    """Status (with the seconds waited so far while in flight), then TTFT, total time and tokens per second."""
    line = Text(no_wrap=True, overflow="ellipsis")
    if answer is None:
        line.append("not asked", style="dim")
        return line
    line.append(str(answer.status), style=STATUS_STYLE[answer.status])
    if waited_s is not None and answer.status in (AnswerStatus.PENDING, AnswerStatus.STREAMING):
        line.append(f" · {waited_s} s", style="dim")
    line.append("\nTTFT " + (f"{answer.ttft_ms:.0f}ms" if answer.ttft_ms is not None else "–"))
    line.append(" · total " + (f"{answer.total_ms / 1000:.1f}s" if answer.total_ms is not None else "–"))
    rate = answer.tokens_per_s
    line.append(f" · {rate:.0f} tok/s" if rate is not None else f" · {answer.tokens} tok")
    return line


class AnswerPane(VerticalScroll, can_focus=True):
    """Answer text is untrusted: it is rendered as plain text, never as markup. Long answers scroll (↑/↓)."""

    inherit_bindings = False  # ←/→ move between panes (the round screen's keys), not sideways
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_up", "Scroll up", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
    ]
    DEFAULT_CSS = """
    AnswerPane { border: round $primary-darken-2; height: 1fr; padding: 0 1; overflow-x: hidden; }
    AnswerPane:focus { border: round $accent; }
    AnswerPane.-failed { border: heavy $error; }
    AnswerPane > Static { width: 100%; height: auto; }
    """

    def __init__(self, finalist_id: str, **kwargs: Any) -> None:
        super().__init__(id=f"pane-{finalist_id}", **kwargs)
        self.finalist_id = finalist_id
        self._key: tuple[object, ...] = ()
        self.body = Static("")

    def compose(self) -> ComposeResult:
        yield self.body

    def render_text(self) -> str:
        """What the pane shows, as plain text (for tests and logs)."""
        return str(self.body.render())

    def show(self, title: str, answer: Answer | None, waited_s: int | None = None) -> None:
        """Render the answer; `waited_s` (seconds since it was asked) shows while it is in flight."""
        key = (title, answer, waited_s)
        if key == self._key:
            return
        self._key = key
        self.border_title = title
        failed = answer is not None and answer.failed
        self.set_class(failed, "-failed")
        body = timing_line(answer, waited_s)
        if answer is not None and answer.error:
            body.append("\n" + one_line(answer.error), style="bold red")
        if failed and self.finalist_id != REFERENCE_ID:
            body.append("\nfix: e re-asks this one (select it with ←/→) · r re-asks every failed one",
                        style="bold yellow")
        if answer is not None and answer.text:
            body.append("\n")
            body.append(inert(answer.text))  # inert at the fan-out too; a database from elsewhere may not be
        self.body.update(body)
