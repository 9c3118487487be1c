"""The standings screen: per round and overall with the 40/40/20 breakdown; freeze and reveal for the stage."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from finale.core.model import Phase
from finale.tui.fixes import fix_hint, fixes
from finale.tui.screens.base import ConsoleScreen
from finale.tui.screens.standings_rows import MARK_NOTE, TIE_RULE, overall_rows, round_rows
from finale.tui.screens.tables import Cell, fill_table
from finale.tui.state import ShowSnapshot


class StandingsScreen(ConsoleScreen):
    """The current round's components above, the overall standings over final rounds below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "app.reveal_labels", "Who was who", show=False),
        Binding("f", "app.finalize", "Make final"),
        Binding("w", "app.waive", "Waive"),
        Binding("n", "app.next_question", "Ask next"),
        Binding("z", "app.toggle_freeze", "Freeze"),
        Binding("r", "app.reveal_next", "Reveal"),
        Binding("d", "app.dismiss_reveal", "Dismiss"),
        Binding("o", "app.override", "Override"),
        Binding("left_square_bracket", "browse(-1)", "Prev round", show=False),
        Binding("right_square_bracket", "browse(1)", "Next round", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.browsing: int | None = None  # a round id other than the current one, while the MC looks back

    def compose_body(self) -> ComposeResult:
        yield Static(id="round-standings-title", classes="section-title")
        yield DataTable(id="round-standings", cursor_type="none", zebra_stripes=True)
        yield Static(id="overall-title", classes="section-title")
        yield DataTable(id="overall-standings", cursor_type="none", zebra_stripes=True)
        yield Static(id="show-agreement", classes="hint")
        yield Static(Text(f"{TIE_RULE}\n{MARK_NOTE} · [ and ] browse the rounds"), classes="hint")
        yield Static(id="stage-state")

    def on_mount(self) -> None:
        w = self.console.config.to_core().weights
        round_table: DataTable[Cell] = self.query_one("#round-standings", DataTable)
        round_table.add_columns("Label", "Finalist", "LLM /100", "Panel /100", "Audience /100", "Votes", "Total")
        overall: DataTable[Cell] = self.query_one("#overall-standings", DataTable)
        overall.add_columns("#", "Finalist", f"LLM {w.llm:.0%}", f"Panel {w.panel:.0%}",
                            f"Audience {w.audience:.0%}", "Votes", "Total")
        super().on_mount()

    def render_snapshot(self, snapshot: ShowSnapshot) -> None:
        shown = next((r for r in snapshot.records if r.round.id == self.browsing), snapshot.current)
        rnd = shown.round if shown is not None else None
        title = "This round: no round yet"
        if rnd is not None:
            which = "" if shown is snapshot.current else " (browsing: [ and ] to move)"
            title = f"Round {rnd.id} ({rnd.question_id or 'ad hoc'}) · {rnd.phase} · components on 0-100{which}"
        self.query_one("#round-standings-title", Static).update(Text(title))
        scored = snapshot.scored_by_round.get(rnd.id, {}) if rnd is not None else {}
        fill_table(self.query_one("#round-standings", DataTable),
                   round_rows(scored, rnd.labels if rnd else {}, snapshot.names))
        finals = sum(1 for r in snapshot.records if r.round.phase is Phase.FINAL)
        self.query_one("#overall-title", Static).update(f"Overall · {finals} final round(s)")
        fill_table(self.query_one("#overall-standings", DataTable), overall_rows(snapshot.standings, snapshot.names))
        if snapshot.show_agreement is not None:
            self.query_one("#show-agreement", Static).update(
                Text(snapshot.show_agreement.describe(f"the show ({finals} final round(s))")))
        state = Text()
        frozen = snapshot.switches.frozen
        reveal = snapshot.switches.reveal_step
        state.append("Stage: ", style="bold")
        state.append("FROZEN" if frozen else "live", style="bold cyan" if frozen else "green")
        state.append(f" · reveal {reveal}/{len(snapshot.standings)} places (from last to the winner)")
        found = fixes(snapshot) if snapshot.round is not None and snapshot.round_open else []
        if found and snapshot.round is not None:
            state.append(f"\nRound {snapshot.round.id} cannot be final yet: "
                         f"{found[0].about(snapshot)} → {fix_hint(found[0], 'standings')}"
                         + (f" (+{len(found) - 1} more on the show screen, 1)" if len(found) > 1 else ""),
                         style="yellow")
        self.query_one("#stage-state", Static).update(state)

    def action_browse(self, step: int) -> None:
        snapshot = self.console.snapshot
        if snapshot is None or not snapshot.records:
            return
        ids = [r.round.id for r in snapshot.records]
        current = self.browsing if self.browsing in ids else (snapshot.round.id if snapshot.round else ids[-1])
        index = min(max(ids.index(current) + step, 0), len(ids) - 1)
        self.browsing = None if snapshot.round is not None and ids[index] == snapshot.round.id else ids[index]
        self.render_snapshot(snapshot)
