"""What every console screen shares: the header, the footer, and rendering from the latest snapshot."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from finale.tui.guide import next_step
from finale.tui.state import ShowSnapshot
from finale.tui.widgets.header import ShowHeader

if TYPE_CHECKING:
    from finale.tui.app import FinaleApp


class ConsoleScreen(Screen[None]):
    """A screen that renders `FinaleApp.snapshot`; subclasses fill `compose_body` and `render_snapshot`."""

    def compose(self) -> ComposeResult:
        yield ShowHeader(id="header")
        with Vertical(classes="screen-body"):
            yield from self.compose_body()
        yield Static(classes="next-step")
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def console(self) -> FinaleApp:
        return cast("FinaleApp", self.app)

    def on_mount(self) -> None:
        self.refresh_view()

    def on_screen_resume(self) -> None:
        self.refresh_view()

    @property
    def composed(self) -> bool:
        """Whether every widget of compose is mounted: a tick, a store change or a worker's read can come first."""
        return self.is_attached and bool(self.query(ShowHeader)) and bool(self.query(".next-step"))

    def refresh_view(self) -> None:
        """Render the app's latest snapshot (called on every store change while this screen is active)."""
        app = self.console
        if not self.composed:  # the guide comes after the body; on_mount renders it
            return
        headers, guide = self.query(ShowHeader), self.query(".next-step")
        headers.first().show(app.snapshot, app.hub_status, app.clock(), app.current_mode, app.operator)
        guide.first(Static).update(next_step(app.snapshot, app.current_mode, app.busy))
        if app.snapshot is not None:
            self.render_snapshot(app.snapshot)

    def render_snapshot(self, snapshot: ShowSnapshot) -> None:
        """Fill the screen's widgets; cheap when nothing this screen shows has changed."""

    def tick(self) -> None:
        """Called about twice a second for clocks and countdowns."""
        app = self.console
        for header in self.query(ShowHeader):
            header.show(app.snapshot, app.hub_status, app.clock(), app.current_mode, app.operator)
