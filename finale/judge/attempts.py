"""The retry loop every model-backed judge shares: forced tool call first, JSON fallback, failed verdict last.

A backend supplies one call (`ask`), and says which of its failures are worth
another try. Throttling and transient faults are retried with a short backoff,
and so is an unusable reply; after the last attempt the verdict is failed with
the reason and the raw output, for a human to take over. The whole verdict,
every attempt and backoff in it, is bounded by the judge's deadline
(`judge.deadline_s`): a judge that never starts replying is flagged when it
passes, saying that it never answered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from finale.judge.base import JudgeRequest, JudgeVerdict, PairRequest, PairVerdict
from finale.judge.pair import build_pair_prompt, pair_tool, read_preference
from finale.judge.parse import JudgeParseError, tolerant_json, validate_scores
from finale.judge.prompt import JudgePrompt, ToolSpec, build_prompt, score_tool

T = TypeVar("T")


class JudgeCallError(Exception):
    """A judge call failed; `retry` says whether another attempt may help, `answered` whether the server replied."""

    def __init__(self, reason: str, *, retry: bool, refused_tool_choice: bool = False, answered: bool = True) -> None:
        super().__init__(reason)
        self.retry = retry
        self.refused_tool_choice = refused_tool_choice
        self.answered = answered


@dataclass(frozen=True)
class ModelReply:
    """What the model sent back: the tool input when it called the task's tool, and any text."""

    tool_input: Any | None
    text: str
    stop: str = ""
    tool: str = ""

    def raw(self) -> str:
        if self.tool_input is not None:
            return json.dumps({"tool": self.tool, "input": self.tool_input}, ensure_ascii=False)
        return self.text


@dataclass(frozen=True)
class Task(Generic[T]):
    """One question for a judge model: the tool it answers through, its prompt, and how to read the answer."""

    tool: ToolSpec
    prompt: Callable[[bool], JudgePrompt]  # the wording for the tool (True) or for a JSON reply (False)
    read: Callable[[Any], T]  # the parsed output to the value, or JudgeParseError saying why not


@dataclass(frozen=True)
class Attempted(Generic[T]):
    """A task's value, or why there is none; the raw output either way."""

    value: T | None
    reason: str | None = None
    raw: str = ""


Ask = Callable[[JudgePrompt, ToolSpec, bool], Awaitable[ModelReply]]


def no_answer(request: JudgeRequest) -> JudgeVerdict:
    """A missing answer scores zero without asking the model."""
    scores = {c.id: 0.0 for c in request.criteria}
    return JudgeVerdict(True, scores, "No answer was given.", raw=json.dumps({"scores": scores}))


def read_reply(reply: ModelReply, task: Task[T], tool: bool) -> T:
    """The task's value from a reply, or JudgeParseError."""
    if reply.tool_input is not None:
        return task.read(reply.tool_input)
    try:
        return task.read(tolerant_json(reply.text))
    except JudgeParseError as exc:
        if tool:
            raise JudgeParseError(f"the judge did not call {task.tool.name} (stop reason {reply.stop or 'unknown'}) "
                                  f"and its text holds no usable answer: {exc}") from None
        raise


@dataclass
class _Progress:
    """How far a verdict got, for the reason when it runs out of attempts or time."""

    reason: str = ""
    raw: str = ""
    attempt: int = 0
    heard: bool = False  # the server replied at least once (an error status counts)


class AttemptLoop:
    """Runs one judgment through up to `attempts` calls; remembers when forced tool choice is refused."""

    def __init__(self, what: str, attempts: int, tool_choice: bool, backoff_s: float = 0.5,
                 deadline_s: float | None = None) -> None:
        self.what = what
        self.attempts = attempts
        self.tool = tool_choice
        self.backoff_s = backoff_s
        self.deadline_s = deadline_s

    async def run(self, request: JudgeRequest, ask: Ask) -> JudgeVerdict:
        """Score one answer against the rubric (an empty answer scores zero without a call)."""
        if not request.answer.strip():
            return no_answer(request)
        task = Task(score_tool(request), lambda tool: build_prompt(request, tool=tool),
                    lambda obj: validate_scores(obj, request.criteria))
        done = await self.run_task(task, ask)
        if done.value is None:
            return JudgeVerdict(False, reason=done.reason, raw=done.raw)
        scores, rationale = done.value
        return JudgeVerdict(True, scores, rationale, raw=done.raw)

    async def compare(self, request: PairRequest, ask: Ask) -> PairVerdict:
        """Say which of two answers is better, in the order shown (one head-to-head call)."""
        task = Task(pair_tool(), lambda tool: build_pair_prompt(request, tool=tool), read_preference)
        done = await self.run_task(task, ask)
        if done.value is None:
            return PairVerdict(False, reason=done.reason, raw=done.raw)
        better, rationale = done.value
        return PairVerdict(True, better, rationale, raw=done.raw)

    async def run_task(self, task: Task[T], ask: Ask) -> Attempted[T]:
        """The task's value within the attempts and the deadline, or a failure saying why."""
        progress = _Progress()
        deadline = asyncio.timeout(self.deadline_s)
        try:
            async with deadline:
                return await self._attempts(task, ask, progress)
        except TimeoutError:
            if not deadline.expired():
                raise
        limit = f"the {self.deadline_s:g} s deadline (judge.deadline_s)"
        if not progress.heard:
            reason = f"{self.what}: never answered within {limit}"
        else:
            reason = f"{self.what}: no usable verdict within {limit}; last: {progress.reason or 'no reply yet'}"
        return Attempted(None, f"{reason} (flagged for a human)", progress.raw)

    async def _attempts(self, task: Task[T], ask: Ask, progress: _Progress) -> Attempted[T]:
        while progress.attempt < self.attempts:
            tool = self.tool
            try:
                reply = await ask(task.prompt(tool), task.tool, tool)
            except JudgeCallError as exc:
                progress.reason, progress.heard = str(exc), progress.heard or exc.answered
                if exc.refused_tool_choice and tool:
                    self.tool = False  # this model cannot be forced to call a tool: JSON from now on
                    continue
                progress.attempt += 1
                if not exc.retry:
                    break
                if progress.attempt < self.attempts:
                    await asyncio.sleep(self.backoff_s * 2 ** (progress.attempt - 1))
                continue
            progress.heard, progress.raw = True, reply.raw()
            try:
                return Attempted(read_reply(reply, task, tool), raw=progress.raw)
            except JudgeParseError as exc:
                progress.reason, progress.attempt = f"{self.what}: {exc}", progress.attempt + 1
        tries = f"{progress.attempt} attempt{'s' if progress.attempt != 1 else ''}"
        return Attempted(None, f"{progress.reason} (gave up after {tries}; flagged for a human)", progress.raw)
