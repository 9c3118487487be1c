"""The OpenAI-compatible judge: chat completions with a forced function call (the task's tool), temperature 0."""

from __future__ import annotations

import json
from typing import Any

from finale.config import OpenAIJudge as OpenAIJudgeConfig
from finale.judge.attempts import AttemptLoop, JudgeCallError, ModelReply
from finale.judge.base import JudgeRequest, JudgeVerdict, PairRequest, PairVerdict
from finale.judge.parse import JudgeParseError, tolerant_json
from finale.judge.prompt import JudgePrompt, ToolSpec
from finale.providers.base import ProviderError
from finale.providers.openai import HTTPStatusError, api_headers, make_client, send_with_retry, shown_url
from finale.providers.runtime import Runtime

MAX_TOKENS = 700


class OpenAIJudge:
    """One model on an OpenAI-compatible server judging one answer per call."""

    def __init__(self, spec: OpenAIJudgeConfig, runtime: Runtime, model: str | None = None) -> None:
        self.spec = spec
        self.model = model or spec.model
        self.name = f"openai:{self.model}"
        self.client = make_client(spec.base_url, spec, runtime.read_timeout(spec, stream=False))
        self.loop = AttemptLoop(f"judge {self.model} at {shown_url(spec.base_url)}", spec.max_attempts,
                                spec.tool_choice, deadline_s=spec.deadline_s)

    async def judge(self, request: JudgeRequest) -> JudgeVerdict:
        return await self.loop.run(request, self._ask)

    async def compare(self, request: PairRequest) -> PairVerdict:
        return await self.loop.compare(request, self._ask)

    async def _ask(self, prompt: JudgePrompt, spec: ToolSpec, tool: bool) -> ModelReply:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}],
            "temperature": 0,
            "max_tokens": MAX_TOKENS,
        }
        if tool:
            body["tools"] = [{"type": "function", "function": {
                "name": spec.name, "description": spec.description, "parameters": spec.schema}}]
            body["tool_choice"] = {"type": "function", "function": {"name": spec.name}}
        try:
            headers = api_headers(self.spec.api_key_env, self.loop.what)
            # one try per call: the attempt loop is the judge's one retry loop (it sees every refusal)
            response = await send_with_retry(self.client, body, headers, 1, self.loop.what, stream=False)
        except HTTPStatusError as exc:
            refused = exc.status == 400 and "tool" in str(exc).lower()
            raise JudgeCallError(str(exc), retry=exc.status >= 500 or exc.status == 429,
                                 refused_tool_choice=refused) from None
        except ProviderError as exc:  # the connection or the read failed: the server never answered this one
            raise JudgeCallError(str(exc), retry=True, answered=False) from None
        try:
            message = json.loads(response.content)["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise JudgeCallError(f"{self.loop.what}: the reply is not a chat completion", retry=True) from None
        calls = [c for c in message.get("tool_calls") or [] if c.get("function", {}).get("name") == spec.name]
        tool_input: Any | None = None
        if calls:
            arguments = calls[0]["function"].get("arguments")
            try:
                tool_input = tolerant_json(arguments) if isinstance(arguments, str) else arguments
            except JudgeParseError:
                tool_input = arguments  # kept raw; validation says why it is unusable
        text = message.get("content") or ""
        return ModelReply(tool_input, str(text), "tool_calls" if calls else "stop", spec.name)

    async def aclose(self) -> None:
        await self.client.aclose()
