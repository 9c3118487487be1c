"""The MC console: renders the store and sends the MC's intents to the Director.

Nothing here decides a rule; finale.core does (through the Director). Disk and
network work runs in named workers and comes back as past-tense messages
(finale.tui.messages). The store is re-read at most ten times a second, only
when `PRAGMA data_version` says something changed, so a vote storm from the
hub never slows the keyboard. `create_app` is the one factory the CLI, the
tests and the benchmark share.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen

from finale.config import EventConfig, load_event
from finale.core.model import Answer, AnswerStatus, Phase
from finale.core.poll import poll_due
from finale.core.text import inert, one_line
from finale.director import Director, Endpoints, build_endpoints
from finale.store import ChangeWatcher, EventRow, Store
from finale.tui.hub import HubStatus, HubWatch, check_hub, supervisor_note
from finale.tui.intents import MCIntents
from finale.tui.messages import HubChecked, SnapshotRead
from finale.tui.network import NetworkLoop
from finale.tui.operator import default_operator
from finale.tui.palette import mc_commands
from finale.tui.scale import ScaleBridgeMixin
from finale.tui.screens.audit import AuditScreen
from finale.tui.screens.integrity import IntegrityScreen
from finale.tui.screens.judging import JudgingScreen
from finale.tui.screens.panel import PanelScreen
from finale.tui.screens.questions import QuestionsScreen
from finale.tui.screens.round import RoundScreen
from finale.tui.screens.show import ShowScreen
from finale.tui.screens.standings import StandingsScreen
from finale.tui.screens.voting import VotingScreen
from finale.tui.state import ShowSnapshot, read_snapshot
from finale.tui.terminal import terminal_gone

Clock = Callable[[], float]
T = TypeVar("T")
RESUME_SCREEN: Mapping[Phase, str] = MappingProxyType({
    Phase.DRAFT: "show", Phase.ASKING: "round", Phase.ANSWERED: "round", Phase.JUDGING: "judging",
    Phase.VOTING: "voting", Phase.CLOSED: "standings", Phase.FINAL: "show", Phase.VOID: "show"})
HUB_START_GRACE_S = 15.0  # a hub that does not answer within this long after start-up is shown as down


class FinaleApp(MCIntents, ScaleBridgeMixin, App[None]):
    """The console; see `create_app`. Its MC intents live in finale.tui.intents, its palette in finale.tui.palette."""

    CSS_PATH = "finale.tcss"
    TITLE = "Finale console"
    ENABLE_COMMAND_PALETTE = True
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "show": ShowScreen, "round": RoundScreen, "judging": JudgingScreen, "panel": PanelScreen,
        "voting": VotingScreen, "standings": StandingsScreen, "audit": AuditScreen, "integrity": IntegrityScreen,
        "questions": QuestionsScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_screen('show')", "Show", show=False),
        Binding("2", "show_screen('round')", "Round", show=False),
        Binding("3", "show_screen('judging')", "Judging", show=False),
        Binding("4", "show_screen('panel')", "Panel", show=False),
        Binding("5", "show_screen('voting')", "Voting", show=False),
        Binding("6", "show_screen('standings')", "Standings", show=False),
        Binding("7", "show_screen('audit')", "Audit", show=False),
        Binding("8", "show_screen('integrity')", "Integrity", show=False),
        Binding("9", "show_screen('questions')", "Questions", show=False),
        Binding("p", "toggle_pause", "Pause"),
        Binding("ctrl+x", "void_round", "Void"),
    ]

    def __init__(self, store: Store, endpoints: Endpoints, *, seed: int = 7, clock: Clock = time.time,
                 hub_url: str | None = None, cursor_blink: bool = True, refresh_interval: float = 0.1,
                 hub_interval: float = 2.0, operator: str | None = None, redis_url: str | None = None) -> None:
        super().__init__()
        self.redis_url = redis_url  # [scale] redis_url: this console publishes the show and drains the votes
        self.bridge = None
        self.store = store
        self.config: EventConfig = store.event_config()
        self.endpoints = endpoints
        self.director = Director(store, endpoints, actor=one_line(operator or default_operator()), clock=clock)
        self.network = NetworkLoop()
        self.reader = Store(store.path)
        self._reader_lock = threading.Lock()
        self.watcher = ChangeWatcher(store.path)
        self.seed = seed
        self.clock = clock
        self.hub_url = hub_url
        self.hub_status = HubStatus("starting" if hub_url else "off", None, hub_url)
        self.cursor_blink = cursor_blink
        self.refresh_interval = refresh_interval
        self.hub_interval = hub_interval
        self.snapshot: ShowSnapshot | None = None
        self.after_first_paint: Callable[[], None] | None = None
        self.terminal_lost = False  # the terminal hung up: leave the hub serving phones, as after a crash
        self.on_terminal_lost: Callable[[], None] | None = None
        self.hub_watch: HubWatch | None = None  # set when a supervisor runs the hub for this console
        self.live: dict[str, Answer] = {}
        self.show_names = False
        self.show_reference = False
        self.refreshes = 0
        self._refreshing = False
        self._live_dirty = False
        self._asking = False
        self.ask_started: float | None = None  # monotonic time of the ask in flight (the round screen counts)
        self._auto_closed: int | None = None
        self._mounted_at = time.monotonic()
        self._intents: queue.Queue[tuple[str, Callable[[], str]] | None] = queue.Queue()
        self._intents_done = threading.Event()

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Toasts show text as written and inert: errors and names may hold brackets or escapes that are not ours."""
        super().notify(inert(message), title=one_line(title), severity=severity, timeout=timeout, markup=markup)

    # -- lifecycle ------------------------------------------------------------

    def on_mount(self) -> None:
        self._mounted_at = time.monotonic()
        self.network.start()
        self.run_director_intents()
        self.switch_mode("show")
        self.refresh_store(force=True)
        self.set_interval(self.refresh_interval, self._poll_store, name="store-poll")
        self.set_interval(0.5, self._tick, name="clock-tick")
        if self.hub_url:
            self.check_hub_health()
            self.set_interval(self.hub_interval, self.check_hub_health, name="hub-poll")
        if not self.is_headless and not terminal_gone():
            self.set_interval(1.0, self._watch_terminal, name="terminal-watch")
        if self.redis_url:
            self.run_redis_bridge(self.store.path)

    def _watch_terminal(self) -> None:
        """End the process like a crash once the terminal has hung up without a SIGHUP.

        Textual's orderly shutdown writes to the dead terminal and can block for ever, so the
        console leaves at once: every write is a committed transaction already (the crash tests
        show a kill loses nothing committed) and the hub keeps serving the phones.
        """
        if self.terminal_lost or not terminal_gone():
            return
        self.terminal_lost = True
        if self.on_terminal_lost is not None:
            self.on_terminal_lost()
        os._exit(129)

    async def on_unmount(self) -> None:
        self._intents.put(None)
        try:
            await asyncio.wait_for(self.network.run(self.endpoints.aclose()), 5)
        finally:
            await asyncio.to_thread(self.network.stop)
            await asyncio.to_thread(self._close_stores)

    def _close_stores(self) -> None:
        """Close the connections once no worker thread is inside one (closing under a query can crash)."""
        self._intents_done.wait(timeout=10)
        with self._reader_lock:
            self.watcher.close()
            self.reader.close()
        with self.store._lock:
            self.store.close()

    # -- reading the store ----------------------------------------------------

    def _poll_store(self) -> None:
        if self._live_dirty:
            self._live_dirty = False
            if isinstance(self.console_screen, RoundScreen):
                self.console_screen.refresh_view()
        if not self._refreshing:
            self._refreshing = True
            self.refresh_store()

    @work(name="read-store", thread=True, group="store")
    def refresh_store(self, force: bool = False) -> None:
        """Re-read the store when another connection (the Director, the hub) has committed."""
        try:
            with self._reader_lock:
                if self.watcher.changed() or force:
                    self.post_message(SnapshotRead(read_snapshot(self.reader)))
        finally:
            self._refreshing = False

    def read_store(self, read: Callable[[Store], T]) -> T:
        """One read on the console's reader connection (call from a worker thread), e.g. the integrity view's."""
        with self._reader_lock:
            return read(self.reader)

    def read_fresh_snapshot(self) -> ShowSnapshot:
        """The show as the store holds it now (call from a worker thread), whatever the watcher says."""
        with self._reader_lock:
            return read_snapshot(self.reader)

    def read_events(self, kind: str | None, round_id: int | None) -> list[EventRow]:
        """The audit log (call from a worker thread)."""
        with self._reader_lock:
            return self.reader.events(kind=kind, round_id=round_id)

    def on_snapshot_read(self, message: SnapshotRead) -> None:
        self.snapshot = message.snapshot
        self.refreshes += 1
        rnd = message.snapshot.round
        if self.refreshes == 1 and rnd is not None and message.snapshot.round_open:
            self.switch_mode(RESUME_SCREEN[rnd.phase])  # resuming: open where the show was
        if self.refreshes == 1 and self.after_first_paint is not None:
            self.call_after_refresh(self.start_after_first_paint)
        if self.console_screen is not None:
            self.console_screen.refresh_view()

    def live_answer(self, finalist_id: str, stored: Answer | None) -> Answer | None:
        """The streaming copy while an answer is in flight, else what the store holds."""
        live = self.live.get(finalist_id)
        if live is not None and (stored is None or stored.status in (AnswerStatus.PENDING, AnswerStatus.STREAMING)):
            return live
        return stored

    def _tick(self) -> None:
        if not self.screen_stack:  # shutting down
            return
        front = self.console_screen
        if front is not None:  # under an open dialog too: the clock and the countdown keep going
            front.tick()
        snap = self.snapshot
        rnd = snap.round if snap is not None else None
        if rnd is not None and poll_due(rnd, self.clock()) and self._auto_closed != rnd.id:
            self._auto_closed = rnd.id
            self._intent("close-poll", lambda: self._close_if_due(rnd.id))

    def _close_if_due(self, round_id: int) -> str:
        closed = self.director.close_if_due(round_id)
        if closed is None:
            self._auto_closed = None  # extended or paused meanwhile: look again at the next tick
            return ""
        return f"Poll closed for round {round_id} (the countdown ended)."

    @work(name="start-after-first-paint", thread=True, group="startup")
    def start_after_first_paint(self) -> None:
        """Slow start-up work (spawning the hub) waits until the MC sees the show screen."""
        if self.after_first_paint is not None:
            self.after_first_paint()
            if self.hub_url:
                for _ in range(20):  # say "up" (or what blocks it) as soon as it is true, not at the next poll
                    try:
                        self.call_from_thread(self.check_hub_health)
                    except RuntimeError:  # the console is closing
                        return
                    time.sleep(0.25)
                    if self.hub_status.state != "starting":
                        return

    # -- the hub --------------------------------------------------------------

    def use_hub(self, url: str) -> None:
        """Watch the hub at `url` (call before the app runs)."""
        self.hub_url = url
        self.hub_status = HubStatus("starting", None, url)

    @work(name="check-hub", thread=True, exclusive=True, group="hub")
    def check_hub_health(self) -> None:
        """Our own hub must be alive (per its supervisor) and answer /healthz; another program's doesn't count."""
        if not self.hub_url:
            return
        sup = self.hub_watch
        if sup is not None and not sup.alive:
            if not sup.started:
                status = HubStatus("starting", None, self.hub_url)
            elif sup.blocked_by:
                status = HubStatus("blocked", None, self.hub_url, sup.blocked_short)
            else:
                status = HubStatus("down", None, self.hub_url, supervisor_note(sup))
            self.post_message(HubChecked(status))
            return
        status = check_hub(self.hub_url)
        if status.state == "down" and self.hub_status.state == "starting" \
                and time.monotonic() - self._mounted_at < HUB_START_GRACE_S:
            status = HubStatus("starting", None, self.hub_url)  # a hub just spawned is not down yet
        self.post_message(HubChecked(status.noted(supervisor_note(sup)) if sup is not None else status))

    def on_hub_checked(self, message: HubChecked) -> None:
        was, was_note = self.hub_status.state, self.hub_status.note
        changed = message.status != self.hub_status
        self.hub_status = message.status
        if changed and self.console_screen is not None:
            self.console_screen.refresh_view()  # the header and the voting screen's phone count
        sup = self.hub_watch
        log = f" Its log: {sup.log_path}." if sup is not None else ""
        if message.status.state == "blocked" and sup is not None and message.status.note != was_note:
            self.notify(f"The audience hub cannot start: {sup.blocked_by}. Stop that program, or give this event "
                        f"another port ([hub] port in the event file). The console keeps trying.{log}",
                        title="hub blocked", severity="error", timeout=20)
        elif was == "blocked" and message.status.state == "up":
            self.notify("The port is free again: the audience hub is up.", title="hub up", timeout=4)
        elif was not in ("down", "blocked") and message.status.state == "down":
            self.notify("The audience hub is not answering; its supervisor restarts it. Stored votes are safe and "
                        f"phones reconnect by themselves.{log}", title="hub down", severity="warning", timeout=10)
        elif was == "down" and message.status.state == "up":
            self.notify("The audience hub is back.", title="hub up", timeout=4)

    # -- view toggles and navigation -------------------------------------------

    def action_show_screen(self, name: str) -> None:
        if self.current_mode != name:
            self.switch_mode(name)

    def action_toggle_names(self) -> None:
        self.show_names = not self.show_names
        if self.console_screen is not None:
            self.console_screen.refresh_view()

    def action_toggle_reference(self) -> None:
        self.show_reference = not self.show_reference
        if self.console_screen is not None:
            self.console_screen.refresh_view()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every MC action: the show-wide ones, then the keys of the screen the palette was opened on."""
        yield from super().get_system_commands(screen)
        yield from mc_commands(self, screen)


def create_app(db_path: str | Path, event_file: str | Path | None = None, *, seed: int = 7,
               time_scale: float = 1.0, clock: Clock = time.time, hub_url: str | None = None,
               cursor_blink: bool = True, config: EventConfig | None = None,
               event_dir: Path | None = None, operator: str | None = None,
               redis_url: str | None = None) -> FinaleApp:
    """The console on a database; a new database gets the event file's setup, an existing one resumes."""
    if config is None:
        if event_file is None:
            raise ValueError("create_app needs an event file (or a loaded config)")
        config = load_event(Path(event_file))
    event_dir = event_dir or (Path(event_file).parent if event_file is not None else None)
    if event_dir is None:
        raise ValueError("create_app needs the event file's folder for its rehearsal script")
    store = Store(db_path)
    store.setup_event(config)
    endpoints = build_endpoints(config, event_dir, seed=seed, time_scale=time_scale)
    redis_url = redis_url or os.environ.get("FINALE_REDIS_URL") or config.scale.redis_url
    return FinaleApp(store, endpoints, seed=seed, clock=clock, hub_url=hub_url, cursor_blink=cursor_blink,
                     redis_url=redis_url, operator=operator)
