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
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen

from finale.config import EventConfig, load_event
from finale.core.model import Answer, AnswerStatus, Component, PanelScore, Phase
from finale.core.poll import poll_due
from finale.director import REFERENCE_ID, Director, Endpoints, build_endpoints
from finale.store import ChangeWatcher, EventRow, Store
from finale.tui.hub import HubStatus, HubWatch, check_hub
from finale.tui.messages import (
    ActionDone,
    ActionFailed,
    AnswerStreamed,
    HubChecked,
    JudgingFinished,
    RoundAsked,
    RoundCreated,
    SnapshotRead,
)
from finale.tui.network import NetworkLoop
from finale.tui.screens.audit import AuditScreen
from finale.tui.screens.base import ConsoleScreen
from finale.tui.screens.judging import JudgingScreen
from finale.tui.screens.modals import (
    COMPONENT_TITLES,
    ConfirmModal,
    OverrideModal,
    OverrideRequest,
    PanelEntry,
    PanelScoresModal,
    ReasonModal,
)
from finale.tui.screens.panel import PanelScreen
from finale.tui.screens.round import RoundScreen
from finale.tui.screens.show import ShowScreen
from finale.tui.screens.standings import StandingsScreen
from finale.tui.screens.voting import VotingScreen
from finale.tui.state import ShowSnapshot, read_snapshot
from finale.tui.terminal import terminal_gone

Clock = Callable[[], float]
RESUME_SCREEN = {Phase.DRAFT: "show", Phase.ASKING: "round", Phase.ANSWERED: "round", Phase.JUDGING: "judging",
                 Phase.VOTING: "voting", Phase.CLOSED: "standings", Phase.FINAL: "show", Phase.VOID: "show"}
EXTEND_S = 15.0
HUB_START_GRACE_S = 15.0  # a hub that does not answer within this long after start-up is shown as down

# (action, palette title, help) for every MC intent: the footer shows their keys, the palette lists them all.
PALETTE: list[tuple[str, str, str]] = [
    ("show_screen('show')", "Go to: show", "Question deck and standings (key 1)"),
    ("show_screen('round')", "Go to: round", "Live answers (key 2)"),
    ("show_screen('judging')", "Go to: judging", "LLM judge scores, failures, disputes (key 3)"),
    ("show_screen('panel')", "Go to: panel", "Panel submissions; type scores for a panelist (key 4)"),
    ("show_screen('voting')", "Go to: voting", "QR, countdown, live bars (key 5)"),
    ("show_screen('standings')", "Go to: standings", "Per round and overall; freeze and reveal (key 6)"),
    ("show_screen('audit')", "Go to: audit log", "Every event, filterable; revert overrides (key 7)"),
    ("next_question", "Ask the next deck question", "Creates the round and asks every finalist (n on the show screen)"),
    ("retry_failed", "Re-ask every failed finalist", "Errors, timeouts, answers cut off by a restart (r on round)"),
    ("judge", "Run the LLM judge", "Scores every answer of the current round (j on the round or judging screen)"),
    ("open_poll", "Open the audience poll", "Starts the countdown on the server's clock (o on the voting screen)"),
    ("extend_poll", "Extend the poll by 15 s", "Pushes the deadline back (x on the voting screen)"),
    ("close_poll", "Close the poll now", "Ends voting for this round (c on the voting screen)"),
    ("reveal_labels", "Reveal who was who", "Which finalist gave which answer, after the close (l on voting)"),
    ("finalize", "Make the round final", "Refused while anything blocks it; the show screen lists what (f)"),
    ("override", "Override a component", "Replace or waive one score, with a reason (o on judging or standings)"),
    ("toggle_freeze", "Freeze / unfreeze the stage", "The stage page stops updating (z on standings)"),
    ("reveal_next", "Reveal the next place", "The stage reveals from last place to the winner (r on standings)"),
    ("toggle_pause", "Pause / resume the show", "Freezes the countdown and the stage (p)"),
    ("void_round", "Void the current round", "Needs a reason; the round no longer counts (ctrl+x)"),
    ("toggle_names", "Show names / labels", "Real names are for the MC only (m)"),
    ("toggle_reference", "Show / hide the reference answer", "The reference model is never ranked (f on round)"),
]


class FinaleApp(App[None]):
    """The console; see `create_app`."""

    CSS_PATH = "finale.tcss"
    TITLE = "Finale console"
    ENABLE_COMMAND_PALETTE = True
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "show": ShowScreen, "round": RoundScreen, "judging": JudgingScreen, "panel": PanelScreen,
        "voting": VotingScreen, "standings": StandingsScreen, "audit": AuditScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_screen('show')", "Show", show=False),
        Binding("2", "show_screen('round')", "Round", show=False),
        Binding("3", "show_screen('judging')", "Judging", show=False),
        Binding("4", "show_screen('panel')", "Panel", show=False),
        Binding("5", "show_screen('voting')", "Voting", show=False),
        Binding("6", "show_screen('standings')", "Standings", show=False),
        Binding("7", "show_screen('audit')", "Audit", show=False),
        Binding("p", "toggle_pause", "Pause"),
        Binding("ctrl+x", "void_round", "Void round"),
    ]

    def __init__(self, store: Store, endpoints: Endpoints, *, seed: int = 7, clock: Clock = time.time,
                 hub_url: str | None = None, cursor_blink: bool = True, refresh_interval: float = 0.1,
                 hub_interval: float = 2.0) -> None:
        super().__init__()
        self.store = store
        self.config: EventConfig = store.event_config()
        self.endpoints = endpoints
        self.director = Director(store, endpoints, actor="mc", clock=clock)
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
        """Toasts show text as written: errors and names may hold brackets that are not markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

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
            if isinstance(self.screen, RoundScreen):
                self.screen.refresh_view()
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
        if isinstance(self.screen, ConsoleScreen):
            self.screen.refresh_view()

    def live_answer(self, finalist_id: str, stored: Answer | None) -> Answer | None:
        """The streaming copy while an answer is in flight, else what the store holds."""
        live = self.live.get(finalist_id)
        if live is not None and (stored is None or stored.status in (AnswerStatus.PENDING, AnswerStatus.STREAMING)):
            return live
        return stored

    def _tick(self) -> None:
        if not self.screen_stack:  # shutting down
            return
        if isinstance(self.screen, ConsoleScreen):
            self.screen.tick()
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
                status = HubStatus("down", None, self.hub_url)
            self.post_message(HubChecked(status))
            return
        status = check_hub(self.hub_url)
        if status.state == "down" and self.hub_status.state == "starting" \
                and time.monotonic() - self._mounted_at < HUB_START_GRACE_S:
            status = HubStatus("starting", None, self.hub_url)  # a hub just spawned is not down yet
        self.post_message(HubChecked(status.noted("adopted") if sup is not None and sup.adopted else status))

    def on_hub_checked(self, message: HubChecked) -> None:
        was, was_note = self.hub_status.state, self.hub_status.note
        changed = message.status != self.hub_status
        self.hub_status = message.status
        if changed and isinstance(self.screen, ConsoleScreen):
            self.screen.refresh_view()  # the header and the voting screen's phone count
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

    # -- intents that run in order in one worker thread -----------------------

    @work(name="director-intents", thread=True, group="intents")
    def run_director_intents(self) -> None:
        """One thread applies the MC's intents in the order the keys were pressed."""
        while True:
            item = self._intents.get()
            if item is None:
                self._intents_done.set()
                return
            name, job = item
            try:
                detail = job()
            except Exception as exc:  # a refused or failed intent is reported, never fatal
                self.post_message(ActionFailed(name, str(exc)))
            else:
                self.post_message(ActionDone(name, detail))

    def _intent(self, name: str, job: Callable[[], str]) -> None:
        self._intents.put((name, job))

    def on_action_done(self, message: ActionDone) -> None:
        if message.detail:
            self.notify(message.detail, title=message.action, timeout=4)

    def on_action_failed(self, message: ActionFailed) -> None:
        self.notify(message.error, title=f"{message.action} refused", severity="error", timeout=8)

    def _current_round_id(self) -> int | None:
        rnd = self.snapshot.round if self.snapshot is not None else None
        if rnd is None:
            self.notify("There is no round yet: press 1 then n to ask the first question.", severity="warning")
            return None
        return rnd.id

    # -- asking and judging (async workers: network calls on the event loop) --

    def action_next_question(self) -> None:
        qid = self.snapshot.next_question() if self.snapshot is not None else None
        if qid is None:
            self.notify("Every deck question has been asked; type an unseen one (a on the show screen).",
                        severity="warning")
            return
        self.action_ask_question(qid)

    def action_ask_question(self, question_id: str) -> None:
        self._start_ask(question_id=question_id)

    def action_ask_prompt(self, prompt: str) -> None:
        self._start_ask(prompt=prompt)

    def action_retry(self, finalist_id: str) -> None:
        round_id = self._current_round_id()
        if round_id is not None:
            self._start_ask(round_id=round_id, only=[finalist_id])

    def action_retry_failed(self) -> None:
        """Re-ask every finalist whose answer failed, timed out, or was cut off by a console restart."""
        snap = self.snapshot
        rec = snap.current if snap is not None else None
        if snap is None or rec is None:
            self._current_round_id()
            return
        unfinished = [fid for fid in snap.event.finalist_ids
                      if fid not in rec.answers or rec.answers[fid].status is not AnswerStatus.OK]
        if not unfinished:
            self.notify("Every finalist has an answer; nothing to re-ask.", severity="warning")
            return
        self._start_ask(round_id=rec.round.id, only=unfinished)

    def _start_ask(self, *, question_id: str | None = None, prompt: str | None = None,
                   round_id: int | None = None, only: list[str] | None = None) -> None:
        if self._asking:
            self.notify("Finalists are still being asked; wait for the answers first.", severity="warning")
            return
        snap = self.snapshot
        if round_id is None and snap is not None and snap.round is not None and snap.round_open:
            self.notify(f"Round {snap.round.id} is still {snap.round.phase}: make it final (6, f) or void it "
                        "(ctrl+x) before asking another question.", severity="warning", timeout=8)
            return
        self._asking = True
        self.ask_started = time.monotonic()
        self.ask_round(question_id, prompt, round_id, only)
        if only is None:
            self.switch_mode("round")

    @work(name="ask-finalists", group="ask")
    async def ask_round(self, question_id: str | None, prompt: str | None, round_id: int | None,
                        only: list[str] | None) -> None:
        """Create the round if needed, then stream every finalist's answer (or re-ask `only` these)."""
        try:
            if round_id is None:
                count = len(self.snapshot.records) if self.snapshot is not None else 0
                rnd = await asyncio.to_thread(self.director.new_round, question_id, prompt,
                                              self.seed * 1000 + count)
                self.post_message(RoundCreated(rnd))
                round_id = rnd.id
            answers = await self.network.run(self.director.ask(round_id, on_update=self._streamed, only=only))
            self.post_message(RoundAsked(round_id, answers))
        except Exception as exc:
            self.post_message(ActionFailed("ask", str(exc)))
        finally:
            self._asking = False
            self.ask_started = None

    def _streamed(self, answer: Answer) -> None:
        """Called on the network loop's thread; post_message hands it to the screen's loop."""
        self.post_message(AnswerStreamed(answer))

    def on_round_created(self, message: RoundCreated) -> None:
        self.live.clear()

    def on_answer_streamed(self, message: AnswerStreamed) -> None:
        self.live[message.answer.finalist_id] = message.answer
        self._live_dirty = True

    def on_round_asked(self, message: RoundAsked) -> None:
        failed = [fid for fid, a in message.answers.items()
                  if fid != REFERENCE_ID and a.failed]
        note = f"; {len(failed)} failed (r re-asks them, or select the pane and press e)" if failed else ""
        self.notify(f"Round {message.round_id}: answers in{note}. Press j to judge.",
                    severity="warning" if failed else "information", timeout=6)
        if isinstance(self.screen, ConsoleScreen):
            self.screen.refresh_view()

    def action_judge(self, only: list[str] | None = None) -> None:
        round_id = self._current_round_id()
        if round_id is not None:
            self.judge_answers(round_id, only)
            if only is None:
                self.switch_mode("judging")

    @work(name="judge-answers", group="judge")
    async def judge_answers(self, round_id: int, only: list[str] | None) -> None:
        try:
            judgments = await self.network.run(self.director.judge(round_id, only))
        except Exception as exc:
            self.post_message(ActionFailed("judge", str(exc)))
        else:
            self.post_message(JudgingFinished(round_id, judgments))

    def on_judging_finished(self, message: JudgingFinished) -> None:
        failed = sum(1 for j in message.judgments.values() if j.failed)
        warn = f"; {failed} FAILED: re-judge (e) or score by hand (h)" if failed else ""
        self.notify(f"Round {message.round_id}: {len(message.judgments)} judged{warn}.",
                    severity="warning" if failed else "information", timeout=4)

    # -- poll, reveal, final, void ---------------------------------------------

    def action_open_poll(self) -> None:
        round_id = self._current_round_id()
        if round_id is not None:
            self._intent("open-poll", lambda: f"Poll open for round {self.director.open_poll(round_id).id}.")

    def action_extend_poll(self) -> None:
        round_id = self._current_round_id()
        if round_id is not None:
            self._intent("extend-poll", lambda: (self.director.extend_poll(round_id, EXTEND_S), "")[1])

    def action_close_poll(self) -> None:
        round_id = self._current_round_id()
        if round_id is not None:
            self._intent("close-poll", lambda: self._close_poll(round_id, "closed by the MC"))

    def _close_poll(self, round_id: int, why: str) -> str:
        self.director.close_poll(round_id, why)
        return f"Poll closed for round {round_id} ({why})."

    def action_reveal_labels(self) -> None:
        round_id = self._current_round_id()
        if round_id is not None:
            self._intent("reveal-labels", lambda: (self.director.reveal_round(round_id), "Labels revealed.")[1])

    def action_finalize(self) -> None:
        round_id = self._current_round_id()
        if round_id is not None:
            self._intent("finalize", lambda: (self.director.finalize(round_id), f"Round {round_id} is final.")[1])

    def action_void_round(self) -> None:
        round_id = self._current_round_id()
        if round_id is None:
            return

        def voided(reason: str | None) -> None:
            if reason:
                self._intent("void", lambda: (self.director.void(round_id, reason), f"Round {round_id} void.")[1])

        self.push_screen(ReasonModal(f"Void round {round_id}?", "reason (required, on the record)"), voided)

    async def action_quit(self) -> None:
        """Quit at once between rounds; while a round is live, ask first (ctrl+q twice by accident costs a show)."""
        snap = self.snapshot
        rnd = snap.round if snap is not None else None
        if isinstance(self.screen, ConfirmModal):
            return
        if snap is None or rnd is None or not snap.round_open:
            self.exit()
            return
        hub = " The audience hub this console started stops too; phones reconnect when it is back." \
            if self.hub_watch is not None and not self.hub_watch.adopted else ""
        body = (f"Round {rnd.id} is live ({rnd.phase}). Everything is stored: start the console again on the same "
                f"database to resume exactly here.{hub}")

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(ConfirmModal("Quit the console mid-round?", body, yes="Quit"), answered)

    # -- show-wide switches ------------------------------------------------------

    def action_toggle_pause(self) -> None:
        self._intent("pause", self._toggle_pause)

    def _toggle_pause(self) -> str:
        paused = self.director.toggle_pause().paused
        return "Show paused: countdown stands still, votes wait." if paused else "Show resumed."

    def action_toggle_freeze(self) -> None:
        def job() -> str:
            return "Stage frozen." if self.director.toggle_freeze().frozen else "Stage live again."
        self._intent("freeze", job)

    def action_reveal_next(self) -> None:
        def job() -> str:
            place, who = self.director.reveal_next_place()
            name = f": {self.config_names().get(who.finalist_id, who.finalist_id)} ({who.total:.2f})" if who else ""
            return f"Stage reveals place {place}{name}."
        self._intent("reveal", job)

    # -- human scores ---------------------------------------------------------

    def action_override(self, finalist_id: str | None = None, component: str | None = None) -> None:
        if self.snapshot is None or self.snapshot.current is None:
            self._current_round_id()
            return
        comp = Component(component) if component else None
        self.push_screen(OverrideModal(self.snapshot, finalist_id, comp, self.show_names), self._override_confirmed)

    def _override_confirmed(self, request: OverrideRequest | None) -> None:
        if request is None:
            return
        self._intent("override", lambda: self._apply_override(request))

    def _apply_override(self, r: OverrideRequest) -> str:
        o = self.director.override(r.round_id, r.finalist_id, r.component, r.reason, value=r.value, waive=r.waive)
        label = self.snapshot.round.labels.get(r.finalist_id, "?") if self.snapshot and self.snapshot.round else "?"
        name = self.config_names().get(r.finalist_id, r.finalist_id)
        what = "waived" if r.waive else f"now {r.value:g}"
        return f"Override #{o.id} on the record: {COMPONENT_TITLES[r.component]} for {label} ({name}) {what}."

    def config_names(self) -> dict[str, str]:
        """Finalist id -> name, from the event file."""
        return {f.id: f.name for f in self.config.finalists}

    def action_revert(self, override_id: int) -> None:
        def revert(reason: str) -> str:
            self.director.revert(override_id, reason)
            return f"Override #{override_id} reverted."

        def reverted(reason: str | None) -> None:
            if reason:
                self._intent("revert", partial(revert, reason))

        self.push_screen(ReasonModal(f"Revert override #{override_id}?", "reason (required)"), reverted)

    def action_type_panel_scores(self, panelist_id: str | None = None) -> None:
        if self.snapshot is None or self.snapshot.current is None:
            self._current_round_id()
            return
        self.push_screen(PanelScoresModal(self.snapshot, panelist_id, self.show_names), self._panel_entered)

    def _panel_entered(self, entry: PanelEntry | None) -> None:
        if entry is None:
            return

        def job() -> str:
            self.director.score_panel(PanelScore(entry.round_id, entry.finalist_id, entry.panelist_id, entry.scores))
            who = self.snapshot.panel_names.get(entry.panelist_id, entry.panelist_id) if self.snapshot else ""
            return f"Scores saved for {who}."
        self._intent("panel-scores", job)

    # -- view toggles and navigation -------------------------------------------

    def action_show_screen(self, name: str) -> None:
        if self.current_mode != name:
            self.switch_mode(name)

    def action_toggle_names(self) -> None:
        self.show_names = not self.show_names
        if isinstance(self.screen, ConsoleScreen):
            self.screen.refresh_view()

    def action_toggle_reference(self) -> None:
        self.show_reference = not self.show_reference
        if isinstance(self.screen, ConsoleScreen):
            self.screen.refresh_view()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every MC action: the show-wide ones, then the keys of the screen the palette was opened on."""
        yield from super().get_system_commands(screen)
        listed = set()
        for action, title, help_text in PALETTE:
            listed.add(action.removeprefix("app."))
            yield SystemCommand(title, help_text, partial(self.run_action, action))
        for binding in screen.BINDINGS:
            if isinstance(binding, Binding) and binding.show and binding.action.removeprefix("app.") not in listed:
                yield SystemCommand(f"{binding.description} ({binding.key})", f"on the {self.current_mode} screen",
                                    partial(screen.run_action, binding.action))


def create_app(db_path: str | Path, event_file: str | Path | None = None, *, seed: int = 7,
               time_scale: float = 1.0, clock: Clock = time.time, hub_url: str | None = None,
               cursor_blink: bool = True, config: EventConfig | None = None,
               event_dir: Path | None = None) -> FinaleApp:
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
    return FinaleApp(store, endpoints, seed=seed, clock=clock, hub_url=hub_url, cursor_blink=cursor_blink)
