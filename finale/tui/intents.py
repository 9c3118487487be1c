"""The MC's intents: each key or palette action becomes one call on the Director, never a store write here.

A mixin of `FinaleApp` (finale.tui.app), kept apart so the app module holds only
the lifecycle, the snapshot reading and the hub watch. Quick intents run in order
on one worker thread (`run_director_intents`); asking and judging are async
workers on the network loop. Each reports back as ActionDone / ActionFailed, so a
refused intent is a toast, never a crash.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable

from textual import work

from finale.config import EventConfig
from finale.core.model import Answer, AnswerStatus
from finale.core.poll import remaining
from finale.director import REFERENCE_ID, Director
from finale.tui.hub import HubWatch
from finale.tui.human import HumanIntents
from finale.tui.messages import (
    ActionDone,
    ActionFailed,
    AnswerStreamed,
    JudgingFinished,
    RoundAsked,
    RoundCreated,
    SnapshotRead,
)
from finale.tui.network import NetworkLoop
from finale.tui.screens.modals import ConfirmModal, ReasonModal
from finale.tui.state import ShowSnapshot

EXTEND_S = 15.0


class MCIntents(HumanIntents):
    """The `action_*` methods that send the MC's intents to the Director, and the thread that applies them.

    The human decisions (overrides, waivers, typed panel scores, rulings) are in finale.tui.human.
    """

    # set by FinaleApp.__init__
    config: EventConfig
    director: Director
    network: NetworkLoop
    seed: int
    snapshot: ShowSnapshot | None
    hub_watch: HubWatch | None
    live: dict[str, Answer]
    show_names: bool
    _live_dirty: bool
    _asking: bool
    ask_started: float | None
    _intents: queue.Queue[tuple[str, Callable[[], str]] | None]
    _intents_done: threading.Event
    _judging = False  # a judge worker is in flight, or its store read not yet shown (the next-step line waits)
    read_fresh_snapshot: Callable[[], ShowSnapshot]  # FinaleApp: one read on the reader connection

    @property
    def busy(self) -> str:
        """What the console is doing that the next step waits for: "asking", "judging" or ""."""
        return "asking" if self._asking else "judging" if self._judging else ""

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

    def on_action_done(self, message: ActionDone) -> None:
        if message.detail:
            self.notify(message.detail, title=message.action, timeout=4)
        if message.action == "close-poll" and message.detail:
            self._after_close()

    def on_action_failed(self, message: ActionFailed) -> None:
        if message.action == "judge":
            self._judging = False
        self.notify(message.error, title=f"{message.action} refused", severity="error", timeout=8)
        if self.console_screen is not None:
            self.console_screen.refresh_view()

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

    def action_ask_floor_question(self, question_id: int) -> None:
        """Ask an approved question from the floor as the next round (finale.tui.screens.questions, n)."""
        self._start_ask(floor_question=question_id)

    def action_toggle_questions(self) -> None:
        """Open questions from the floor between rounds, or close them (q on the show and questions screens)."""
        def job() -> str:
            state = self.director.toggle_questions()
            return ("Questions from the floor are open: phones can submit and upvote (9 moderates them)."
                    if state.open else "Questions from the floor are closed.")
        self._intent("questions", job)

    def action_retry(self, finalist_id: str) -> None:
        """Re-ask one finalist; a good answer is thrown away by it, so that asks first."""
        round_id = self._current_round_id()
        if round_id is None:
            return
        snap = self.snapshot
        rec = snap.current if snap is not None else None
        answer = rec.answers.get(finalist_id) if rec is not None else None
        if answer is None or answer.status is not AnswerStatus.OK:
            self._start_ask(round_id=round_id, only=[finalist_id])
            return
        label = rec.round.labels.get(finalist_id, "?") if rec is not None else "?"
        self.ask_first(f"Re-ask answer {label}?",
                       f"Answer {label} came back complete ({answer.tokens} tokens). Re-asking throws it away and "
                       "asks this finalist again; the new answer replaces it for the judge, the panel and the phones.",
                       "Re-ask", lambda: self._start_ask(round_id=round_id, only=[finalist_id]))

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
                   round_id: int | None = None, only: list[str] | None = None,
                   floor_question: int | None = None) -> None:
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
        self.ask_round(question_id, prompt, round_id, only, floor_question)
        if only is None:
            self.switch_mode("round")

    @work(name="ask-finalists", group="ask")
    async def ask_round(self, question_id: str | None, prompt: str | None, round_id: int | None,
                        only: list[str] | None, floor_question: int | None = None) -> None:
        """Create the round if needed (from a question from the floor too), then stream every finalist's answer
        (or re-ask `only` these)."""
        try:
            if round_id is None:
                count = len(self.snapshot.records) if self.snapshot is not None else 0
                seed = self.seed * 1000 + count
                rnd = await asyncio.to_thread(self.director.new_round, question_id, prompt, seed) \
                    if floor_question is None else \
                    await asyncio.to_thread(self.director.ask_question_as_round, floor_question, seed)
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
        if self.console_screen is not None:
            self.console_screen.refresh_view()

    def action_judge(self, only: list[str] | None = None) -> None:
        round_id = self._current_round_id()
        if round_id is not None:
            self._judging = True
            self.judge_answers(round_id, only)
            if only is None:
                self.switch_mode("judging")

    @work(name="judge-answers", group="judge")
    async def judge_answers(self, round_id: int, only: list[str] | None) -> None:
        outcome: ActionFailed | JudgingFinished
        try:
            judgments = await self.network.run(self.director.judge(round_id, only))
        except Exception as exc:
            outcome = ActionFailed("judge", str(exc))
        else:
            outcome = JudgingFinished(round_id, judgments)
        try:  # the judgments reach the snapshot before the line stops waiting (else it says "judge again")
            self.post_message(SnapshotRead(await asyncio.to_thread(self.read_fresh_snapshot)))
        finally:
            self.post_message(outcome)

    def on_judging_finished(self, message: JudgingFinished) -> None:
        self._judging = False
        failed = sum(1 for j in message.judgments.values() if j.failed)
        warn = f"; {failed} FAILED: re-judge (e) or score by hand (h)" if failed else ""
        self.notify(f"Round {message.round_id}: {len(message.judgments)} judged{warn}.",
                    severity="warning" if failed else "information", timeout=4)
        if self.console_screen is not None:
            self.console_screen.refresh_view()  # the next-step line stops waiting for the judge

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
        """Close the poll now, once the MC says yes; the console then goes on to the standings."""
        round_id = self._current_round_id()
        if round_id is None:
            return
        rnd = self.snapshot.round if self.snapshot is not None else None
        left = remaining(rnd, self.director.clock()) if rnd is not None else None
        votes = self.snapshot.total_votes if self.snapshot is not None else 0
        when = f" with {left:.0f} s still on the countdown" if left else ""
        self.ask_first(f"Close the poll for round {round_id} now?",
                       f"Phones stop taking votes{when}; the {votes} votes cast so far are the audience's share. "
                       "A closed poll does not reopen.", "Close the poll",
                       lambda: self._intent("close-poll", lambda: self._close_poll(round_id, "closed by the MC")))

    def _close_poll(self, round_id: int, why: str) -> str:
        self.director.close_poll(round_id, why)
        return f"Poll closed for round {round_id} ({why})."

    def _after_close(self) -> None:
        """The MC watching the poll goes on to where the next step is (reveal, make final), as a resume does."""
        if self.current_mode == "voting":
            self.switch_mode("standings")

    def action_reveal_labels(self) -> None:
        round_id = self._current_round_id()
        if round_id is not None:
            self._intent("reveal-labels", lambda: (self.director.reveal_round(round_id), "Labels revealed.")[1])

    def action_finalize(self) -> None:
        """Make the round final once the MC says yes: its scores lock for good."""
        round_id = self._current_round_id()
        if round_id is None:
            return
        snap = self.snapshot

        def finalize() -> str:
            self.director.finalize(round_id)
            return f"Round {round_id} is final."

        if snap is None or not snap.round_open or snap.blockers:  # the Director refuses it and says why
            self._intent("finalize", finalize)
            return
        self.ask_first(f"Make round {round_id} final?",
                       f"Round {round_id}'s scores lock: no more panel scores, overrides or waivers for it, and its "
                       "points go into the standings on the stage.", "Make it final",
                       lambda: self._intent("finalize", finalize))

    def action_void_round(self) -> None:
        round_id = self._current_round_id()
        if round_id is None:
            return

        def voided(reason: str | None) -> None:
            if reason:
                self._intent("void", lambda: (self.director.void(round_id, reason), f"Round {round_id} void.")[1])

        self.push_screen(ReasonModal(f"Void round {round_id}?", "reason (required, on the record)"), voided)

    async def action_quit(self) -> None:
        """Ask first while a round is live, or when quitting stops the hub this console started (the phones' show).

        Between rounds with no hub of ours (an adopted one keeps serving), it quits at once.
        """
        snap = self.snapshot
        rnd = snap.round if snap is not None else None
        if isinstance(self.screen, ConfirmModal):
            return
        own_hub = self.hub_watch is not None and not self.hub_watch.adopted
        if snap is None or rnd is None or not snap.round_open:
            if not own_hub:
                self.exit()
                return
            self.ask_first("Quit the console?", "The audience hub this console started stops too: phones, judge "
                           "pages and the stage lose the show until a console runs again on this database.",
                           "Quit", self.exit)
            return
        hub = " The audience hub this console started stops too; phones reconnect when it is back." \
            if own_hub else ""
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

    def action_dismiss_reveal(self) -> None:
        """End the standings reveal on the stage and phones (asking the next round ends it too)."""
        self._intent("dismiss-reveal", lambda: (self.director.dismiss_reveal(), "Reveal dismissed.")[1])

    def action_declare_last_round(self) -> None:
        """This round is the show's last: the reveal after it names the winner (again: taken back)."""
        def job() -> str:
            last = self.director.declare_last_round().last_round
            return (f"Round {last} is the last: the reveal after it names the winner." if last is not None
                    else "No round is declared the last any more.")
        self._intent("last-round", job)

    def action_spotlight_next(self) -> None:
        """Fill the stage with the next answer (A, B, ... then off)."""
        def job() -> str:
            label = self.director.spotlight_next()
            return f"Stage spotlight: answer {label}." if label else "Spotlight off: the stage shows every answer."
        self._intent("spotlight", job)
