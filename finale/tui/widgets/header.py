"""The console's header: event, round, show clock, hub status, the show-wide switches, who is at the console.

Both lines fit the terminal: the event name gives way before the clock and the hub, the
key hints before the person on the record.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from finale.tui.hub import HubStatus
from finale.tui.state import ShowSnapshot

SCREENS = [("1", "show", "Show"), ("2", "round", "Round"), ("3", "judging", "Judging"), ("4", "panel", "Panel"),
           ("5", "voting", "Voting"), ("6", "standings", "Standings"), ("7", "audit", "Audit log")]


HINTS = ("^p commands", "^q quit", "p pause", "^x void")


def nav_text(current: str, operator: str = "", width: int = 0) -> Text:
    """The screen keys (the current one highlighted), who is at the console, and the key hints that fit."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for key, mode, title in SCREENS:
        text.append(f" {key} ", style="bold reverse" if mode == current else "bold")
        text.append(f"{title} ", style="bold" if mode == current else "dim")
    if operator:
        text.append("  at the console: ", style="dim")
        text.append(operator, style="bold")
    hints = list(HINTS)
    while hints and width and text.cell_len + 2 + len(" · ".join(hints)) > width:
        hints.pop()
    if hints:
        text.append("  " + " · ".join(hints), style="dim")
    return text


def header_text(snapshot: ShowSnapshot | None, hub: HubStatus, now: float, width: int = 0) -> Text:
    """One line: what the MC must always see at a glance; a long event name is shortened, never the clock."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if snapshot is None:
        text.append("Finale console · loading…", style="bold")
        return text
    tail = _status(snapshot, hub, now)
    name = snapshot.config.event.name
    room = width - tail.cell_len if width else len(name)
    if len(name) > room:
        name = name[: max(room - 1, 0)] + "…" if room > 1 else ""
    text.append(name, style="bold")
    return text + tail


def _status(snapshot: ShowSnapshot, hub: HubStatus, now: float) -> Text:
    """Everything after the event name: the round and phase, the switches, votes, the hub, the clock."""
    text = Text(no_wrap=True, overflow="ellipsis")
    rnd = snapshot.round
    if rnd is None:
        text.append(" · no round yet")
    else:
        text.append(f" · round {rnd.id} ({rnd.question_id or 'ad hoc'}) ")
        text.append(str(rnd.phase).upper(), style="bold reverse")
    switches = snapshot.switches  # the switches come first: a narrow terminal must never hide them
    if switches.paused:
        text.append("  PAUSED ", style="bold white on red")
    if switches.frozen:
        text.append("  STAGE FROZEN ", style="bold black on cyan")
    if rnd is not None:
        text.append(f" · votes {snapshot.total_votes}")
    text.append(" · ")
    text.append(hub.label, style="bold" if hub.state == "up" else
                "bold white on red" if hub.alarm else "bold black on yellow")
    text.append(" · " + time.strftime("%H:%M:%S", time.localtime(now)))
    return text


class ShowHeader(Static):
    """Re-rendered by the app on every snapshot and clock tick."""

    DEFAULT_CSS = """
    ShowHeader { height: 2; background: $panel; color: $text; padding: 0 1; text-wrap: nowrap;
                 text-overflow: ellipsis; }
    """

    def show(self, snapshot: ShowSnapshot | None, hub: HubStatus, now: float, screen: str = "",
             operator: str = "") -> None:
        width = self.content_size.width
        self.update(header_text(snapshot, hub, now, width) + Text("\n") + nav_text(screen, operator, width))
