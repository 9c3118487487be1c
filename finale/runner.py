"""One show runner: the round sequence that the headless demo, the autopilot and the drills' MC all follow.

new round, ask, judge (a failed judgment is re-judged once), panel scores, open the poll, votes,
close, the head judge's overrides where the checker says the judge was wrong, judgments that still
failed waived on the record, reveal, final. What differs between those paths (how the panel scores
and the votes arrive, how long the poll stays open) comes in as `Hooks`; the sequence itself is
written here once, on the Director's public methods, so every path obeys the same rules.

`step` advances a round by one stage from whatever phase the store holds, so a process that was
killed mid-round resumes where it was (the console-kill drill relies on it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from finale.core.model import Component, Phase, Round
from finale.core.phases import answers_pending
from finale.core.scoring import score_round
from finale.director import Director
from finale.store import StoreError

HEAD_JUDGE = "head-judge"
MAX_STEPS = 12  # a round takes five steps; more means it is stuck (an endpoint that never finishes)


class ShowFailed(RuntimeError):
    """The show stopped mid-way: a step failed in a way the runner cannot absorb (a store or rule refusal)."""


@contextmanager
def _refusals() -> Iterator[None]:
    """A rule's refusal (ValueError, IllegalTransition among them) or the store's, as ShowFailed.

    Callers tell a wrong argument (ValueError before the show) from a show that stopped (ShowFailed).
    """
    try:
        yield
    except StoreError as exc:
        raise ShowFailed(f"the store refused a write mid-show: {exc}") from exc
    except ValueError as exc:
        raise ShowFailed(str(exc)) from exc


class Step(StrEnum):
    """What one `ShowRunner.step` did."""

    ASKED = "asked"
    JUDGED = "judged"
    OPENED = "opened"
    CLOSED = "closed"
    FINAL = "final"


@dataclass(frozen=True)
class Waiver:
    """An LLM component waived on the record because its judgment failed twice."""

    round_id: int
    finalist_id: str
    reason: str


def waived_line(round_ids: Sequence[int]) -> str:
    """'N judgments failed and were waived on the record (rounds ...)', given each waiver's round."""
    n = len(round_ids)
    rounds = sorted(set(round_ids))
    return (f"{n} judgment{'s' if n != 1 else ''} failed and {'were' if n != 1 else 'was'} waived on the record "
            f"(round{'s' if len(rounds) != 1 else ''} {', '.join(map(str, rounds))})")


async def _nothing(rnd: Round) -> None:
    return None


@dataclass(frozen=True)
class Hooks:
    """The parts of a round that differ between the headless demo, the autopilot and the drills.

    `panel` brings the panel's scores for a judged round; `votes` brings the audience's votes once
    the poll is open (it gets the opened round, deadline included); `window_s` is the poll's length
    (None: the event's); `wait_for_deadline` keeps the poll open until its deadline even when
    `votes` returned earlier, as a real crowd's poll would.
    """

    panel: Callable[[Round], Awaitable[None]] = _nothing
    votes: Callable[[Round], Awaitable[None]] = _nothing
    window_s: float | None = None
    wait_for_deadline: bool = False


def panel_value(director: Director, round_id: int, finalist_id: str) -> float | None:
    """The panel component as scoring computes it (z-normalisation included); None without panel scores."""
    scored = score_round(director.event, director.record(round_id))
    return scored[finalist_id].panel.value if finalist_id in scored else None


def override_misjudged(director: Director, round_id: int, actor: str = HEAD_JUDGE) -> int:
    """The head judge replaces the LLM score with the panel's wherever the checker says the judge was wrong.

    A finalist without a panel value is left for a human (nothing to replace the score with).
    """
    done = 0
    for dispute in director.disputes(round_id):
        if dispute.kind != "checker" or dispute.resolved:
            continue
        value = panel_value(director, round_id, dispute.finalist_id)
        if value is None:
            continue
        director.override(round_id, dispute.finalist_id, Component.LLM,
                          f"Judge misread a correct answer; {dispute.reason}. Panel consensus used.",
                          value=round(value, 1), actor=actor)
        done += 1
    return done


def waive_failed_judgments(director: Director, round_id: int, actor: str) -> list[Waiver]:
    """Waive, on the record and with the judge's own reason, every LLM component whose judgment failed."""
    record = director.record(round_id)
    scored = score_round(director.event, record)
    waived: list[Waiver] = []
    for fid, judgment in record.judgments.items():
        if not judgment.failed or fid not in scored or scored[fid].llm.present:
            continue
        reason = judgment.reason or "no reason given"
        director.override(round_id, fid, Component.LLM,
                          f"LLM judgment failed after a re-judge; waived so the show goes on: {reason}",
                          waive=True, actor=actor)
        waived.append(Waiver(round_id, fid, reason))
    return waived


class ShowRunner:
    """Drives rounds through the Director; counts the head judge's overrides and the waivers it made."""

    def __init__(self, director: Director, hooks: Hooks, *, head_judge: str = HEAD_JUDGE,
                 clock: Callable[[], float] = time.time) -> None:
        self.director = director
        self.hooks = hooks
        self.head_judge = head_judge
        self.clock = clock
        self.overrides = 0
        self.waivers: list[Waiver] = []
        self.round_ids: list[int] = []

    async def run_deck(self, seed: int) -> list[int]:
        """Every deck question in order, each round's labels seeded from the show's seed; the round ids."""
        for i, question in enumerate(self.director.config.to_core().questions):
            await self.run_round(question.id, seed=seed * 1000 + i)
        return self.round_ids

    async def run_round(self, question_id: str | None = None, prompt: str | None = None,
                        seed: int | None = None) -> Round:
        """A new round for a deck question (or an unseen prompt), run until it is final."""
        with _refusals():
            rnd = self.director.new_round(question_id, prompt=prompt, seed=seed)
        self.round_ids.append(rnd.id)
        return await self.finish(rnd.id)

    async def finish(self, round_id: int) -> Round:
        """Step the round until it is final; ShowFailed if it is void or stuck."""
        return await self.advance(round_id, until=Phase.FINAL)

    async def advance(self, round_id: int, until: Phase) -> Round:
        """Step the round until the store holds it in phase `until`; ShowFailed if it never gets there."""
        for _ in range(MAX_STEPS):
            rnd = self.director.store.round(round_id)
            if rnd.phase is until:
                return rnd
            await self.step(round_id)
        raise ShowFailed(f"round {round_id} is stuck in {self.director.store.round(round_id).phase} "
                         f"after {MAX_STEPS} steps")

    async def step(self, round_id: int) -> Step:
        """One stage of the round from its current phase; refusals become ShowFailed naming the round."""
        with _refusals():
            return await self._step(self.director.store.round(round_id))

    async def _step(self, rnd: Round) -> Step:
        d = self.director
        if answers_pending(rnd.phase):
            await self._ask(rnd)
            return Step.ASKED
        if rnd.phase is Phase.ANSWERED or (rnd.phase is Phase.JUDGING and self._unjudged(rnd)):
            await self._judge(rnd)
            return Step.JUDGED
        if rnd.phase is Phase.JUDGING:
            await self.hooks.panel(rnd)
            await asyncio.to_thread(d.open_poll, rnd.id, self.hooks.window_s)
            return Step.OPENED
        if rnd.phase is Phase.VOTING:
            await self.hooks.votes(rnd)
            if self.hooks.wait_for_deadline:
                await asyncio.sleep(max(0.0, (d.store.round(rnd.id).vote_deadline or 0) - self.clock()))
            await asyncio.to_thread(d.close_poll, rnd.id)
            return Step.CLOSED
        if rnd.phase is Phase.CLOSED:
            await asyncio.to_thread(self._settle, rnd)
            return Step.FINAL
        raise ShowFailed(f"round {rnd.id} is {rnd.phase}; there is nothing left to run in it")

    async def _ask(self, rnd: Round) -> None:
        """Ask everyone from a draft; after a restart, re-ask only the finalists without a finished answer."""
        d = self.director
        if rnd.phase is Phase.DRAFT:
            await d.ask(rnd.id)
            return
        stored = d.store.answers(rnd.id)
        missing = [f for f in d.event.finalist_ids if f not in stored or not stored[f].finished]
        if missing:
            await d.ask(rnd.id, only=missing)
        else:  # killed between the last answer and the move: every answer is in, only the move is missing
            await asyncio.to_thread(d.mark_answered, rnd.id)

    def _unjudged(self, rnd: Round) -> list[str]:
        judged = self.director.store.judgments(rnd.id)
        return [f for f in self.director.event.finalist_ids if f not in judged]

    async def _judge(self, rnd: Round) -> None:
        """Judge every answer (or, after a restart, those not judged yet); re-judge the failed ones once."""
        missing = None if rnd.phase is Phase.ANSWERED else self._unjudged(rnd)
        verdicts = await self.director.judge(rnd.id, only=missing)
        failed = [fid for fid, j in verdicts.items() if j.failed]
        if failed:
            await self.director.judge(rnd.id, only=failed)

    def _settle(self, rnd: Round) -> None:
        """After the close: the head judge's overrides, failed judgments waived, reveal, final."""
        d = self.director
        self.overrides += override_misjudged(d, rnd.id, self.head_judge)
        self.waivers += waive_failed_judgments(d, rnd.id, d.actor)
        if not rnd.revealed:
            d.reveal_round(rnd.id)
        d.finalize(rnd.id)
