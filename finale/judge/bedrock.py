"""The Bedrock judge: Converse with a forced record_scores tool call, temperature 0."""

from __future__ import annotations

from typing import Any

from finale.config import BedrockJudge as BedrockJudgeConfig
from finale.judge.attempts import AttemptLoop, JudgeCallError, ModelReply
from finale.judge.base import JudgeRequest, JudgeVerdict
from finale.judge.prompt import TOOL_NAME, JudgePrompt, score_schema
from finale.providers.aws import AWS_ERRORS, describe_error, error_code, error_message
from finale.providers.runtime import Runtime

RETRY_CODES = {
    "ThrottlingException", "ServiceUnavailableException", "InternalServerException", "ModelTimeoutException",
    "ModelNotReadyException", "TooManyRequestsException",
}
MAX_TOKENS = 700


def tool_config(request: JudgeRequest, forced: bool) -> dict[str, Any]:
    """Converse toolConfig: the record_scores tool and, when `forced`, a toolChoice naming it."""
    config: dict[str, Any] = {"tools": [{"toolSpec": {
        "name": TOOL_NAME,
        "description": "Record the judge's scores (0-10 per criterion) and a short rationale for one answer.",
        "inputSchema": {"json": score_schema(request)},
    }}]}
    if forced:
        config["toolChoice"] = {"tool": {"name": TOOL_NAME}}
    return config


class BedrockJudge:
    """One Bedrock model judging one answer per call."""

    def __init__(self, spec: BedrockJudgeConfig, runtime: Runtime, model_id: str | None = None) -> None:
        self.spec = spec
        self.model_id = model_id or spec.model_id
        self.name = f"bedrock:{self.model_id}"
        self.pool = runtime.pool
        self.client = runtime.aws_client("bedrock-runtime", spec, stream=False)
        self.loop = AttemptLoop(f"Bedrock judge {self.model_id}", spec.max_attempts, spec.tool_choice)

    async def judge(self, request: JudgeRequest) -> JudgeVerdict:
        return await self.loop.run(request, self._ask)

    async def _ask(self, prompt: JudgePrompt, request: JudgeRequest, tool: bool) -> ModelReply:
        args: dict[str, Any] = {
            "modelId": self.model_id,
            "system": [{"text": prompt.system}],
            "messages": [{"role": "user", "content": [{"text": prompt.user}]}],
            "inferenceConfig": {"maxTokens": MAX_TOKENS, "temperature": 0.0},
        }
        if tool:
            args["toolConfig"] = tool_config(request, forced=True)
        try:
            reply = await self.pool.call(self.client.converse, **args)
        except AWS_ERRORS as exc:
            code, message = error_code(exc), error_message(exc)
            refused = code == "ValidationException" and "toolchoice" in message.lower().replace("_", "")
            retry = code in RETRY_CODES or not code  # no code: a connection-level fault
            raise JudgeCallError(describe_error(exc, self.loop.what), retry=retry,
                                 refused_tool_choice=refused) from None
        content = reply.get("output", {}).get("message", {}).get("content", []) or []
        tool_input = next((b["toolUse"].get("input") for b in content
                           if "toolUse" in b and b["toolUse"].get("name") == TOOL_NAME), None)
        text = "".join(b.get("text", "") for b in content)
        return ModelReply(tool_input, text, str(reply.get("stopReason", "")))

    async def aclose(self) -> None:
        return None
