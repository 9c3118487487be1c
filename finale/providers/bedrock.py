"""Bedrock finalists and the reference model: Converse / ConverseStream (also for imported custom models)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from typing import Any

from finale.config import BedrockEndpoint
from finale.providers.aws import AWS_ERRORS, Opened, describe_error
from finale.providers.base import GenerationRequest, ProviderError, Started, StreamEvent, TextDelta, Usage
from finale.providers.runtime import Runtime


def converse_args(model_id: str, request: GenerationRequest) -> dict[str, Any]:
    """The Converse request for one prompt with the finalist's frozen settings."""
    args: dict[str, Any] = {
        "modelId": model_id,
        "messages": [{"role": "user", "content": [{"text": request.prompt}]}],
        "inferenceConfig": {"maxTokens": request.max_tokens, "temperature": request.temperature},
    }
    if request.system_prompt.strip():
        args["system"] = [{"text": request.system_prompt}]
    return args


class BedrockProvider:
    """Streams with ConverseStream (or one Converse call when streaming is off)."""

    announces_start = True

    def __init__(self, name: str, spec: BedrockEndpoint, runtime: Runtime) -> None:
        self.name = name
        self.spec = spec
        self.pool = runtime.pool
        self.client = runtime.aws_client("bedrock-runtime", spec, stream=spec.stream)
        self.what = f"Bedrock {spec.model_id}"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        args = converse_args(self.spec.model_id, request)
        try:
            if not self.spec.stream:
                reply = await self.pool.call(self.client.converse, **args)
                yield Started()
                content = reply.get("output", {}).get("message", {}).get("content", [])
                yield TextDelta("".join(block.get("text", "") for block in content))
                yield Usage(int(reply.get("usage", {}).get("outputTokens", 0)))
                return

            def open_stream() -> Iterable[dict[str, Any]]:
                return self.client.converse_stream(**args)["stream"]  # type: ignore[no-any-return]

            async with aclosing(self.pool.iterate(open_stream)) as events:
                async for event in events:
                    if isinstance(event, Opened):
                        yield Started()
                    elif "contentBlockDelta" in event:
                        text = event["contentBlockDelta"].get("delta", {}).get("text")
                        if text:
                            yield TextDelta(text)
                    elif "metadata" in event:
                        tokens = event["metadata"].get("usage", {}).get("outputTokens")
                        if tokens is not None:
                            yield Usage(int(tokens))
        except AWS_ERRORS as exc:
            raise ProviderError(describe_error(exc, self.what, stream=self.spec.stream)) from None

    async def aclose(self) -> None:
        return None
