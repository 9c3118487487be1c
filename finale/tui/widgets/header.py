"""The console's header: event, round, show clock, hub status, and the show-wide switches."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from finale.tui.hub import HubStatus
from finale.tui.state import ShowSnapshot

SCREENS = [("1", "show", "Show"), ("2", "round", "Round"), ("3", "judging", "Judging"), ("4", "panel", "Panel"),
           ("5", "voting", "Voting"), ("6", "standings", "Standings"), ("7", "audit", "Audit log")]


def nav_text(current: str) -> Text:
    """The screen keys, with the current screen highlighted."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for key, mode, title in SCREENS:
        text.append(f" {key} ", style="bold reverse" if mode == current else "bold")
        text.append(f"{title} ", style="bold" if mode == current else "dim")
    text.append("  ^q quit · ^p commands · p pause · ^x void", style="dim")
    return text


def header_text(snapshot: ShowSnapshot | None, hub: HubStatus, now: float) -> Text:
    """One line: what the MC must always see at a glance."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if snapshot is None:
        text.append("Finale console · loading…", style="bold")
        return text
    text.append(snapshot.config.event.name, style="bold")
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

    def show(self, snapshot: ShowSnapshot | None, hub: HubStatus, now: float, screen: str = "") -> None:
        self.update(header_text(snapshot, hub, now) + Text("\n") + nav_text(screen))
