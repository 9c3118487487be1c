"""The Bedrock judge: Converse with a forced tool call (record_scores, record_preference), temperature 0."""

from __future__ import annotations

from typing import Any

from finale.config import BedrockJudge as BedrockJudgeConfig
from finale.judge.attempts import AttemptLoop, JudgeCallError, ModelReply
from finale.judge.base import JudgeRequest, JudgeVerdict, PairRequest, PairVerdict
from finale.judge.prompt import JudgePrompt, ToolSpec
from finale.providers.aws import AWS_ERRORS, describe_error, error_code, error_message
from finale.providers.runtime import Runtime

RETRY_CODES = {
    "ThrottlingException", "ServiceUnavailableException", "InternalServerException", "ModelTimeoutException",
    "ModelNotReadyException", "TooManyRequestsException",
}
MAX_TOKENS = 700


def tool_config(tool: ToolSpec, forced: bool) -> dict[str, Any]:
    """Converse toolConfig: the task's tool (record_scores, record_preference) and, when `forced`, a toolChoice."""
    config: dict[str, Any] = {"tools": [{"toolSpec": {
        "name": tool.name, "description": tool.description, "inputSchema": {"json": tool.schema},
    }}]}
    if forced:
        config["toolChoice"] = {"tool": {"name": tool.name}}
    return config


class BedrockJudge:
    """One Bedrock model judging one answer per call."""

    def __init__(self, spec: BedrockJudgeConfig, runtime: Runtime, model_id: str | None = None) -> None:
        self.spec = spec
        self.model_id = model_id or spec.model_id
        self.name = f"bedrock:{self.model_id}"
        self.pool = runtime.pool
        # one try per call: the attempt loop is the judge's one retry loop, so it sees every refusal and
        # its deadline can say what the judge last said
        self.client = runtime.aws_client("bedrock-runtime", spec, stream=False, max_attempts=1)
        self.loop = AttemptLoop(f"Bedrock judge {self.model_id}", spec.max_attempts, spec.tool_choice,
                                deadline_s=spec.deadline_s)

    async def judge(self, request: JudgeRequest) -> JudgeVerdict:
        return await self.loop.run(request, self._ask)

    async def compare(self, request: PairRequest) -> PairVerdict:
        return await self.loop.compare(request, self._ask)

    async def _ask(self, prompt: JudgePrompt, spec: ToolSpec, tool: bool) -> ModelReply:
        args: dict[str, Any] = {
            "modelId": self.model_id,
            "system": [{"text": prompt.system}],
            "messages": [{"role": "user", "content": [{"text": prompt.user}]}],
            "inferenceConfig": {"maxTokens": MAX_TOKENS, "temperature": 0.0},
        }
        if tool:
            args["toolConfig"] = tool_config(spec, forced=True)
        try:
            reply = await self.pool.call(self.client.converse, **args)
        except AWS_ERRORS as exc:
            code, message = error_code(exc), error_message(exc)
            refused = code == "ValidationException" and "toolchoice" in message.lower().replace("_", "")
            retry = code in RETRY_CODES or not code  # no code: a connection-level fault
            raise JudgeCallError(describe_error(exc, self.loop.what), retry=retry, refused_tool_choice=refused,
                                 answered=bool(code)) from None
        content = reply.get("output", {}).get("message", {}).get("content", []) or []
        tool_input = next((b["toolUse"].get("input") for b in content
                           if "toolUse" in b and b["toolUse"].get("name") == spec.name), None)
        text = "".join(b.get("text", "") for b in content)
        return ModelReply(tool_input, text, str(reply.get("stopReason", "")), spec.name)

    async def aclose(self) -> None:
        return None
