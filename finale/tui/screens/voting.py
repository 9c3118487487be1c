"""The voting screen: join QR and URL, open / extend / close, the server's countdown, live bars."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from finale.core.model import Phase
from finale.core.phases import can_reveal
from finale.core.poll import is_paused, remaining
from finale.tui.screens.base import ConsoleScreen
from finale.tui.state import ShowSnapshot
from finale.tui.widgets.bars import vote_bars
from finale.tui.widgets.qr import qr_text


class VotingScreen(ConsoleScreen):
    """The countdown is computed from the stored deadline, so a restarted console shows the same one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "app.open_poll", "Open poll"),
        Binding("x", "app.extend_poll", "+15 s"),
        Binding("c", "app.close_poll", "Close poll"),
        Binding("l", "app.reveal_labels", "Who was who"),
        Binding("m", "app.toggle_names", "Names"),
    ]

    def compose_body(self) -> ComposeResult:
        url = self.console.config.event.public_url
        with Horizontal(id="voting-body"):
            with Vertical(id="qr-col"):
                yield Static(qr_text(url), id="qr")
                yield Static(Text(f"Join: {url}", style="bold"), id="join-url")
            with Vertical(id="poll-col"):
                yield Static(id="countdown")
                yield Static(id="turnout")
                yield Static(id="bars")

    def render_snapshot(self, snapshot: ShowSnapshot) -> None:
        self._countdown(snapshot)
        rec = snapshot.current
        if rec is None:
            self.query_one("#bars", Static).update("")
            return
        hub = self.console.hub_status
        phones = "–" if hub.phones is None else str(hub.phones)
        self.query_one("#turnout", Static).update(
            Text(f"Phones connected: {phones}   Votes this round: {snapshot.total_votes}"))
        names = snapshot.names
        titles = {fid: rec.round.labels.get(fid, "?") + (f" {names[fid]}" if self.console.show_names else "")
                  for fid in snapshot.event.finalist_ids}
        bars = self.query_one("#bars", Static)
        room = bars.size.width - 28 if bars.size.width else 40  # title 13, count and share 14, one spare
        bars.update(vote_bars(rec.votes, titles, width=max(10, min(40, room))))

    def _countdown(self, snapshot: ShowSnapshot) -> None:
        rnd = snapshot.round
        text = Text()
        if rnd is None:
            text.append("No round yet.")
        elif rnd.phase is Phase.VOTING and rnd.vote_deadline is not None:
            left = remaining(rnd, self.console.clock()) or 0.0
            if is_paused(rnd):
                text.append(f"PAUSED · {left:.0f} s left · votes are refused until you resume (p)",
                            style="bold white on red")
            else:
                text.append(f"VOTING OPEN · {left:.0f} s left", style="bold green" if left > 10 else "bold red")
        elif rnd.phase is Phase.VOTING:
            text.append("VOTING OPEN", style="bold green")
        else:
            text.append(f"Poll {'closed' if can_reveal(rnd.phase) else 'not open'} "
                        f"· round {rnd.id} is {rnd.phase}", style="bold")
            if rnd.revealed:
                text.append(" · labels revealed")
        self.query_one("#countdown", Static).update(text)

    def on_resize(self) -> None:
        self.call_after_refresh(self.refresh_view)  # sizes are known (and the widgets composed) after a refresh

    def tick(self) -> None:
        super().tick()
        if self.console.snapshot is not None and self.query("#countdown"):
            self._countdown(self.console.snapshot)
