"""Runs the show: applies the core's rules, talks to endpoints and the judge, writes the store.

The console, the headless runner and the autopilot all drive the show through
this one object, so every path obeys the same transitions and writes the same
events. Store calls are short; the async methods push them to a thread so the
event loop (and the screen) never waits on the disk.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from finale.config import EventConfig
from finale.core import poll, show
from finale.core.ballot import origin_tag
from finale.core.blockers import Blocker, blockers
from finale.core.discount import VoteDiscount
from finale.core.disputes import Dispute, disputes
from finale.core.model import (
    Answer,
    AnswerStatus,
    Component,
    Event,
    Judgment,
    JudgmentStatus,
    Override,
    OverrideAction,
    PanelScore,
    Phase,
    Round,
)
from finale.core.phases import can_reveal, can_start_round
from finale.core.scoring import RoundRecord, Standing, score_round, standings
from finale.core.text import inert, one_line
from finale.demo.script import Script, load_script
from finale.director_questions import QuestionIntents
from finale.director_rulings import RulingIntents
from finale.director_switches import SwitchIntents
from finale.judge.base import Judge, JudgeRequest
from finale.judge.factory import build_judge
from finale.judge.record import to_judgment
from finale.providers.base import GenerationRequest, Provider
from finale.providers.factory import build_provider
from finale.providers.fanout import Limits, OnUpdate, fan_out
from finale.providers.runtime import Runtime
from finale.store import Store

REFERENCE_ID = "reference"
MC_TYPED_PREFIX = "mc-for:"  # the actor of panel scores the MC typed in on a panelist's behalf


class NotDue(Exception):
    """Internal: the poll's countdown has not run out (close_if_due leaves it open)."""

    def __init__(self, round_id: int) -> None:
        super().__init__(f"round {round_id}: the poll is not due to close")


@dataclass
class Endpoints:
    """The finalists' providers, the optional reference, and the judge."""

    finalists: dict[str, Provider]
    reference: Provider | None
    judge: Judge
    runtime: Runtime | None = None  # the shared boto3 pool of real endpoints

    async def aclose(self) -> None:
        for p in list(self.finalists.values()) + ([self.reference] if self.reference else []):
            await p.aclose()
        await self.judge.aclose()
        if self.runtime is not None:
            await self.runtime.aclose()


def build_endpoints(config: EventConfig, event_dir: Path, *, seed: int = 0, time_scale: float = 1.0) -> Endpoints:
    """Providers and judge for an event file, created once for the whole show."""
    script: Script = load_script(event_dir / config.rehearsal.script)
    runtime = Runtime.for_event(config)
    finalists = {f.id: build_provider(f.id, f.endpoint, script=script, seed=seed, time_scale=time_scale,
                                      runtime=runtime) for f in config.finalists}
    reference = (build_provider(REFERENCE_ID, config.reference.endpoint, script=script, seed=seed,
                                time_scale=time_scale, runtime=runtime) if config.reference else None)
    judge = build_judge(config.judge, script=script, seed=seed, time_scale=time_scale, runtime=runtime)
    return Endpoints(finalists, reference, judge, runtime)


class Director(SwitchIntents, RulingIntents, QuestionIntents):
    """The show's one driver; every method is one MC intent.

    The show-wide switches are in finale.director_switches, the waivers and rulings in finale.director_rulings,
    questions from the floor in finale.director_questions.
    """

    def __init__(self, store: Store, endpoints: Endpoints, *, actor: str = "mc",
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.endpoints = endpoints
        self.actor = actor
        self.clock = clock
        self.config = store.event_config()
        g = self.config.generation
        self.limits = Limits(g.timeout_s, g.idle_timeout_s, g.max_chars)

    @property
    def event(self) -> Event:
        return self.store.event()

    # -- rounds -------------------------------------------------------------

    def new_round(self, question_id: str | None = None, prompt: str | None = None, seed: int | None = None,
                  audience_question_id: int | None = None) -> Round:
        """A draft round for a deck question, or for an unseen prompt typed live or from the floor.

        `audience_question_id` is set by `ask_question_as_round` (finale.director_questions); a new round closes
        questions from the floor.
        """
        event = self.config.to_core()
        if question_id is not None:
            prompt = event.question(question_id).prompt
        prompt = inert(prompt) if prompt else prompt
        if not prompt or not prompt.strip():
            raise ValueError("a round needs a deck question or a prompt")
        seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        labels = show.assign_labels(event.finalist_ids, seed)
        with self.store.transaction():  # the check and the new round in one transaction
            current = self.store.current_round()
            if current is not None and not can_start_round(current.phase):
                raise show.IllegalTransition(current.id, current.phase, Phase.DRAFT,
                                             f"round {current.id} is still {current.phase}; finish or void it first")
            created = self.store.create_round(prompt.strip(), question_id, seed, labels, self.actor,
                                              audience_question_id)
            self._end_moment(created.id)
            self._close_questions_for_round(created.id)
            return created

    def _move(self, round_id: int, change: Callable[[Round], Round], kind: str,
              payload: dict[str, Any] | Callable[[Round, Round], dict[str, Any]] | None = None) -> Round:
        """Apply a core rule to the round as stored now, atomically (Store.move_round)."""
        return self.store.move_round(round_id, change, self.actor, kind, payload)

    async def ask(self, round_id: int, on_update: OnUpdate | None = None,
                  only: list[str] | None = None,
                  stops: Mapping[str, asyncio.Event] | None = None) -> dict[str, Answer]:
        """Send the prompt to every finalist (or re-ask `only` these) and the reference, concurrently.

        Setting `stops[finalist_id]` stops that finalist alone ("stopped by the MC"); re-ask it with `only`.
        """
        event = self.event
        versions = {f.id: f.settings.version for f in event.finalists}
        if only is None:  # the show's first ask seals it unless `finale seal` did (finale.seal); later asks: a no-op
            await asyncio.to_thread(self.store.seal, self.actor)
        asked = await asyncio.to_thread(
            self._move, round_id, lambda r: show.freeze_settings(show.transition(r, Phase.ASKING), versions),
            "round.asked", {"only": only})
        if only is None:
            await asyncio.to_thread(self._end_moment, round_id)
        rnd = asked
        targets = only or list(event.finalist_ids)
        providers: dict[str, Provider] = {}
        requests: dict[str, GenerationRequest] = {}
        for fid in targets:
            settings = self.store.settings(fid, asked.settings_versions.get(fid))
            providers[fid] = self.endpoints.finalists[fid]
            requests[fid] = GenerationRequest(rnd.prompt, settings.system_prompt, settings.temperature,
                                              settings.max_tokens, rnd.id, rnd.question_id)
        if only is None and self.endpoints.reference is not None:
            g = self.config.generation
            providers[REFERENCE_ID] = self.endpoints.reference
            requests[REFERENCE_ID] = GenerationRequest(rnd.prompt, "", g.temperature, g.max_tokens, rnd.id,
                                                       rnd.question_id)
        for fid in targets:
            await asyncio.to_thread(self.store.save_answer, Answer(rnd.id, fid), self.actor, False, False)
        answers = await fan_out(providers, requests, self.limits, on_update, stops)
        for fid, answer in answers.items():
            await asyncio.to_thread(self.store.save_answer, answer, self.actor, fid == REFERENCE_ID)
        await asyncio.to_thread(self.mark_answered, rnd.id)
        return answers

    def mark_answered(self, round_id: int) -> Round | None:
        """Move an asked round to answered once every finalist's answer is finished; None while one is not.

        Also what a restarted runner calls when it was killed between the last answer and this move.
        """
        stored = self.store.answers(round_id)
        if not all(stored.get(fid) is not None and stored[fid].finished for fid in self.config.to_core().finalist_ids):
            return None
        return self._move(round_id, lambda r: show.transition(r, Phase.ANSWERED), "round.answered")

    async def judge(self, round_id: int, only: list[str] | None = None) -> dict[str, Judgment]:
        """Score every answer (or re-judge `only` these) with the LLM judge, one call per answer."""
        rnd = await asyncio.to_thread(self._move, round_id, lambda r: show.transition(r, Phase.JUDGING),
                                      "round.judging", {"only": only})
        event = self.config.to_core()
        question = event.question(rnd.question_id) if rnd.question_id else None
        answers = self.store.answers(rnd.id)
        targets = only or list(event.finalist_ids)
        reference = self._reference_answer(rnd.id)

        async def one(fid: str) -> Judgment:
            answer = answers.get(fid) or Answer(rnd.id, fid)
            request = JudgeRequest(
                question=rnd.prompt, label=rnd.labels[fid],
                answer=answer.text if answer.status is AnswerStatus.OK else "",
                criteria=event.rubric, expected=question.expected if question else None,
                latency_ms=answer.total_ms, ttft_ms=answer.ttft_ms, tokens=answer.tokens,
                question_id=rnd.question_id, finalist_id=fid, reference=reference,
            )
            try:
                verdict = await self.endpoints.judge.judge(request)
            except Exception as exc:  # a judge bug must flag a human, never stop the show
                return Judgment(rnd.id, fid, JudgmentStatus.FAILED, reason=one_line(f"{type(exc).__name__}: {exc}"))
            return to_judgment(rnd.id, fid, verdict, event.head_to_head_weight)  # each judge's verdict kept

        results = await asyncio.gather(*(one(fid) for fid in targets))
        for j in results:
            await asyncio.to_thread(self.store.save_judgment, j, self.endpoints.judge.name)
        return {j.finalist_id: j for j in results}

    def _reference_answer(self, round_id: int) -> str | None:
        """The reference model's answer to judge each answer against (head to head), when there is one."""
        ref = self.config.reference
        answer = self.store.answers(round_id, include_reference=True).get(REFERENCE_ID)
        if ref is None or not ref.head_to_head or answer is None or answer.status is not AnswerStatus.OK:
            return None
        return answer.text if answer.text.strip() else None

    def open_poll(self, round_id: int, window_s: float | None = None) -> Round:
        """Open the audience poll with the event's window (or `window_s`) on the server's clock."""
        window = window_s if window_s is not None else self.config.voting.window_seconds
        now = self.clock()
        return self._move(round_id, lambda r: poll.open_poll(r, now, window), "poll.opened", {"window_s": window})

    def extend_poll(self, round_id: int, seconds: float) -> Round:
        """Give the audience `seconds` more (a paused poll gains them too)."""
        now = self.clock()
        return self._move(round_id, lambda r: poll.extend_poll(r, seconds, now), "poll.extended",
                          lambda _b, a: {"seconds": seconds, "deadline": a.vote_deadline})

    def close_poll(self, round_id: int, why: str = "closed by the MC") -> Round:
        """Close the poll now; the votes per label at the close go into the audit log."""
        now = self.clock()
        with self.store.transaction():
            closed = self._move(round_id, lambda r: poll.close_poll(r, now), "poll.closed",
                                lambda _b, _a: {"votes": self.store.vote_labels(round_id), "why": why})
            return self._reveal_at_close(closed)

    def _reveal_at_close(self, closed: Round) -> Round:
        """Who was who, revealed as the poll closes unless the event file says `reveal_at_close = false`."""
        return self.reveal_round(closed.id) if self.config.scoring.reveal_at_close else closed

    def close_if_due(self, round_id: int) -> Round | None:
        """Close the poll if its countdown has run out (and it is not paused); None when it is not due.

        Decided on the round as stored, so a poll that was extended or paused a moment ago stays open.
        """
        now = self.clock()

        def due(r: Round) -> Round:
            if not poll.poll_due(r, now):
                raise NotDue(r.id)
            return poll.close_poll(r, now)
        try:
            with self.store.transaction():
                closed = self._move(round_id, due, "poll.closed", lambda _b, _a: {
                    "votes": self.store.vote_labels(round_id), "why": "the countdown ended"})
                return self._reveal_at_close(closed)
        except NotDue:
            return None

    def finalize(self, round_id: int) -> Round:
        """Make a closed round final; refused, with every blocker, while anything is missing."""
        event = self.event
        with self.store.transaction():  # the blockers and the move read the same committed state
            record = self.store.round_record(round_id)
            found = blockers(event, record)
            return self._move(round_id, lambda r: show.transition(r, Phase.FINAL, found), "round.final")

    def void(self, round_id: int, reason: str) -> Round:
        """Void a round (it never counts); a reason is required, on the record."""
        if not reason.strip():
            raise ValueError("voiding a round needs a reason")
        return self._move(round_id, lambda r: show.transition(r, Phase.VOID), "round.void",
                          {"reason": reason.strip()})

    def reveal_round(self, round_id: int) -> Round:
        """Reveal who was who in a round; only once its poll has closed (a second time changes nothing)."""
        current = self.store.round(round_id)
        if current.revealed:
            return current

        def reveal(r: Round) -> Round:
            if not can_reveal(r.phase):
                raise show.IllegalTransition(r.id, r.phase, r.phase, "labels are revealed only after the close")
            return replace(r, revealed=True)
        return self._move(round_id, reveal, "round.revealed", lambda b, _a: {"labels": b.labels})

    # -- panel ------------------------------------------------------------------

    def score_panel(self, score: PanelScore, actor: str | None = None) -> None:
        """Scores a panelist read out, typed in by the MC: the same rule and store path as the judge pages."""
        self.store.save_panel_score(score, actor or f"{MC_TYPED_PREFIX}{score.panelist_id}")

    def score_panel_grid(self, round_id: int, panelist_id: str, scores: Mapping[str, Mapping[str, float]],
                         actor: str | None = None) -> None:
        """A panelist's scores for several answers (finalist id -> criterion -> score), typed in as one grid.

        One transaction: every answer's scores are stored, or none (the first refusal names the answer).
        """
        with self.store.transaction():
            for finalist_id, by_criterion in scores.items():
                self.score_panel(PanelScore(round_id, finalist_id, panelist_id, dict(by_criterion)), actor)

    # -- overrides ----------------------------------------------------------

    def override(self, round_id: int, finalist_id: str, component: Component, reason: str,
                 value: float | None = None, waive: bool = False, actor: str | None = None) -> Override:
        """Replace (or waive) one component for one finalist, keeping the original on record."""
        scored = score_round(self.event, self.store.round_record(round_id))
        original = scored[finalist_id].component(component).original if finalist_id in scored else None
        action = OverrideAction.WAIVE if waive else OverrideAction.REPLACE
        return self.store.add_override(round_id, finalist_id, component, action, inert(reason),
                                       one_line(actor or self.actor), None if waive else value, original)

    def revert(self, override_id: int, reason: str = "", actor: str | None = None) -> None:
        """Undo an override, on the record; the standings follow."""
        self.store.revert_override(override_id, one_line(actor or self.actor), inert(reason))

    def discount_votes(self, round_id: int, discount: VoteDiscount, reason: str, actor: str | None = None) -> Override:
        """The head judge discounts a slice of a round's audience votes (core.discount), on the record.

        An override like the others (reason, actor, `revert` undoes it); the standings follow.
        """
        return self.store.add_discount(round_id, discount, inert(reason), one_line(actor or self.actor))

    def origin_of(self, address: str) -> str:
        """The origin tag the votes of an address are stored under, to discount an address the crew found."""
        return origin_tag(self.store.voter_secret(), address.strip())

    # -- reading ------------------------------------------------------------

    def record(self, round_id: int) -> RoundRecord:
        return self.store.round_record(round_id)

    def blockers(self, round_id: int) -> list[Blocker]:
        return blockers(self.event, self.store.round_record(round_id))

    def disputes(self, round_id: int) -> list[Dispute]:
        return disputes(self.event, self.store.round_record(round_id))

    def standings(self) -> list[Standing]:
        return standings(self.event, self.store.records())

    def names(self) -> Mapping[str, str]:
        return {f.id: f.name for f in self.config.finalists}
