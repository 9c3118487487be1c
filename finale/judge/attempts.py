"""The retry loop every model-backed judge shares: forced tool call first, JSON fallback, failed verdict last.

A backend supplies one call (`ask`), and says which of its failures are worth
another try. Throttling and transient faults are retried with a short backoff,
and so is an unusable reply; after the last attempt the verdict is failed with
the reason and the raw output, for a human to take over.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from finale.judge.base import JudgeRequest, JudgeVerdict
from finale.judge.parse import JudgeParseError, tolerant_json, validate_scores
from finale.judge.prompt import TOOL_NAME, JudgePrompt, build_prompt


class JudgeCallError(Exception):
    """A judge call failed; `retry` says whether another attempt may help."""

    def __init__(self, reason: str, *, retry: bool, refused_tool_choice: bool = False) -> None:
        super().__init__(reason)
        self.retry = retry
        self.refused_tool_choice = refused_tool_choice


@dataclass(frozen=True)
class ModelReply:
    """What the model sent back: the tool input when it called record_scores, and any text."""

    tool_input: Any | None
    text: str
    stop: str = ""

    def raw(self) -> str:
        if self.tool_input is not None:
            return json.dumps({"tool": TOOL_NAME, "input": self.tool_input}, ensure_ascii=False)
        return self.text


Ask = Callable[[JudgePrompt, JudgeRequest, bool], Awaitable[ModelReply]]


def no_answer(request: JudgeRequest) -> JudgeVerdict:
    """A missing answer scores zero without asking the model."""
    scores = {c.id: 0.0 for c in request.criteria}
    return JudgeVerdict(True, scores, "No answer was given.", raw=json.dumps({"scores": scores}))


def read_reply(reply: ModelReply, request: JudgeRequest, tool: bool) -> tuple[dict[str, float], str]:
    """Validated scores from a reply, or JudgeParseError."""
    if reply.tool_input is not None:
        return validate_scores(reply.tool_input, request.criteria)
    try:
        return validate_scores(tolerant_json(reply.text), request.criteria)
    except JudgeParseError as exc:
        if tool:
            raise JudgeParseError(f"the judge did not call {TOOL_NAME} (stop reason {reply.stop or 'unknown'}) "
                                  f"and its text holds no usable scores: {exc}") from None
        raise


class AttemptLoop:
    """Runs one judgment through up to `attempts` calls; remembers when forced tool choice is refused."""

    def __init__(self, what: str, attempts: int, tool_choice: bool, backoff_s: float = 0.5) -> None:
        self.what = what
        self.attempts = attempts
        self.tool = tool_choice
        self.backoff_s = backoff_s

    async def run(self, request: JudgeRequest, ask: Ask) -> JudgeVerdict:
        if not request.answer.strip():
            return no_answer(request)
        reason, raw, attempt = "", "", 0
        while attempt < self.attempts:
            tool = self.tool
            try:
                reply = await ask(build_prompt(request, tool=tool), request, tool)
            except JudgeCallError as exc:
                reason = str(exc)
                if exc.refused_tool_choice and tool:
                    self.tool = False  # this model cannot be forced to call a tool: JSON from now on
                    continue
                attempt += 1
                if not exc.retry:
                    break
                if attempt < self.attempts:
                    await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
                continue
            raw = reply.raw()
            try:
                scores, rationale = read_reply(reply, request, tool)
            except JudgeParseError as exc:
                reason, attempt = f"{self.what}: {exc}", attempt + 1
                continue
            return JudgeVerdict(True, scores, rationale, raw=raw)
        tries = f"{attempt} attempt{'s' if attempt != 1 else ''}"
        return JudgeVerdict(False, reason=f"{reason} (gave up after {tries}; flagged for a human)", raw=raw)
