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

from finale.config import EventConfig
from finale.core import poll, show
from finale.core.blockers import Blocker, blockers
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
    Phase,
    Round,
)
from finale.core.scoring import RoundRecord, Standing, score_round, standings
from finale.demo.script import Script, load_script
from finale.judge.base import Judge, JudgeRequest
from finale.judge.factory import build_judge
from finale.providers.base import GenerationRequest, Provider
from finale.providers.factory import build_provider
from finale.providers.fanout import Limits, OnUpdate, fan_out
from finale.providers.runtime import Runtime
from finale.store import Store

REFERENCE_ID = "reference"


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


class Director:
    """The show's one driver; every method is one MC intent."""

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

    def new_round(self, question_id: str | None = None, prompt: str | None = None, seed: int | None = None) -> Round:
        """A draft round for a deck question, or for an unseen prompt typed live."""
        event = self.config.to_core()
        if question_id is not None:
            prompt = event.question(question_id).prompt
        if not prompt or not prompt.strip():
            raise ValueError("a round needs a deck question or a prompt")
        current = self.store.current_round()
        if current is not None and current.phase not in (Phase.FINAL, Phase.VOID):
            raise show.IllegalTransition(current.id, current.phase, Phase.DRAFT,
                                         f"round {current.id} is still {current.phase}; finish or void it first")
        seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        labels = show.assign_labels(event.finalist_ids, seed)
        return self.store.create_round(prompt.strip(), question_id, seed, labels, self.actor)

    def _move(self, rnd: Round, kind: str, payload: dict[str, object] | None = None) -> Round:
        return self.store.update_round(rnd, self.actor, kind, payload)

    async def ask(self, round_id: int, on_update: OnUpdate | None = None,
                  only: list[str] | None = None,
                  stops: Mapping[str, asyncio.Event] | None = None) -> dict[str, Answer]:
        """Send the prompt to every finalist (or re-ask `only` these) and the reference, concurrently.

        Setting `stops[finalist_id]` stops that finalist alone ("stopped by the MC"); re-ask it with `only`.
        """
        rnd = self.store.round(round_id)
        event = self.event
        asked = show.transition(rnd, Phase.ASKING)
        asked = show.freeze_settings(asked, {f.id: f.settings.version for f in event.finalists})
        await asyncio.to_thread(self._move, asked, "round.asked", {"only": only})
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
        stored = self.store.answers(rnd.id)
        if all(stored.get(fid) is not None and stored[fid].status in
               (AnswerStatus.OK, AnswerStatus.ERROR, AnswerStatus.TIMEOUT) for fid in event.finalist_ids):
            done = show.transition(self.store.round(rnd.id), Phase.ANSWERED)
            await asyncio.to_thread(self._move, done, "round.answered")
        return answers

    async def judge(self, round_id: int, only: list[str] | None = None) -> dict[str, Judgment]:
        """Score every answer (or re-judge `only` these) with the LLM judge, one call per answer."""
        rnd = self.store.round(round_id)
        moved = show.transition(rnd, Phase.JUDGING)
        await asyncio.to_thread(self._move, moved, "round.judging", {"only": only})
        event = self.config.to_core()
        question = event.question(rnd.question_id) if rnd.question_id else None
        answers = self.store.answers(rnd.id)
        targets = only or list(event.finalist_ids)

        async def one(fid: str) -> Judgment:
            answer = answers.get(fid) or Answer(rnd.id, fid)
            request = JudgeRequest(
                question=rnd.prompt, label=rnd.labels[fid],
                answer=answer.text if answer.status is AnswerStatus.OK else "",
                criteria=event.rubric, expected=question.expected if question else None,
                latency_ms=answer.total_ms, ttft_ms=answer.ttft_ms, tokens=answer.tokens,
                question_id=rnd.question_id, finalist_id=fid,
            )
            try:
                verdict = await self.endpoints.judge.judge(request)
            except Exception as exc:  # a judge bug must flag a human, never stop the show
                return Judgment(rnd.id, fid, JudgmentStatus.FAILED, reason=f"{type(exc).__name__}: {exc}")
            status = JudgmentStatus.OK if verdict.ok else JudgmentStatus.FAILED
            return Judgment(rnd.id, fid, status, verdict.scores if verdict.ok else {}, verdict.rationale,
                            verdict.reason, verdict.raw)

        results = await asyncio.gather(*(one(fid) for fid in targets))
        for j in results:
            await asyncio.to_thread(self.store.save_judgment, j, self.endpoints.judge.name)
        return {j.finalist_id: j for j in results}

    def open_poll(self, round_id: int, window_s: float | None = None) -> Round:
        rnd = self.store.round(round_id)
        window = window_s if window_s is not None else self.config.voting.window_seconds
        return self._move(poll.open_poll(rnd, self.clock(), window), "poll.opened", {"window_s": window})

    def extend_poll(self, round_id: int, seconds: float) -> Round:
        rnd = poll.extend_poll(self.store.round(round_id), seconds, self.clock())
        return self._move(rnd, "poll.extended", {"seconds": seconds, "deadline": rnd.vote_deadline})

    def close_poll(self, round_id: int) -> Round:
        rnd = poll.close_poll(self.store.round(round_id), self.clock())
        return self._move(rnd, "poll.closed", {"votes": self.store.vote_labels(round_id)})

    def finalize(self, round_id: int) -> Round:
        record = self.store.round_record(round_id)
        rnd = show.transition(record.round, Phase.FINAL, blockers(self.event, record))
        return self._move(rnd, "round.final")

    def void(self, round_id: int, reason: str) -> Round:
        if not reason.strip():
            raise ValueError("voiding a round needs a reason")
        rnd = show.transition(self.store.round(round_id), Phase.VOID)
        return self._move(rnd, "round.void", {"reason": reason.strip()})

    def reveal_round(self, round_id: int) -> Round:
        rnd = self.store.round(round_id)
        if rnd.phase not in (Phase.CLOSED, Phase.FINAL):
            raise show.IllegalTransition(rnd.id, rnd.phase, rnd.phase, "labels are revealed only after the close")
        return self._move(replace(rnd, revealed=True), "round.revealed", {"labels": rnd.labels})

    # -- overrides ----------------------------------------------------------

    def override(self, round_id: int, finalist_id: str, component: Component, reason: str,
                 value: float | None = None, waive: bool = False, actor: str | None = None) -> Override:
        """Replace (or waive) one component for one finalist, keeping the original on record."""
        scored = score_round(self.event, self.store.round_record(round_id))
        original = scored[finalist_id].component(component).original if finalist_id in scored else None
        action = OverrideAction.WAIVE if waive else OverrideAction.REPLACE
        return self.store.add_override(round_id, finalist_id, component, action, reason, actor or self.actor,
                                       None if waive else value, original)

    def revert(self, override_id: int, reason: str = "", actor: str | None = None) -> None:
        self.store.revert_override(override_id, actor or self.actor, reason)

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
