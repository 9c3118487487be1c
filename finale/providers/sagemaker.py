"""SageMaker finalists: InvokeEndpointWithResponseStream (or InvokeEndpoint), TGI or chat-messages payloads.

`tgi`: JumpStart/TGI text generation, `inputs` + `parameters`, streamed as
`data:{"token": {"text": ...}}` lines. `messages`: the chat-completions format
served by LMI/vLLM containers, streamed as `data: {"choices": [{"delta": ...}]}`.
Payload parts split lines anywhere, so the parser buffers bytes until a newline.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from typing import Any

from finale.config import SageMakerEndpoint
from finale.providers.aws import AWS_ERRORS, Opened, describe_error
from finale.providers.base import GenerationRequest, ProviderError, Started, StreamEvent, TextDelta, Usage
from finale.providers.runtime import Runtime
from finale.providers.sse import LineEvents

LLAMA3_STOP = ["<|eot_id|>", "<|end_of_text|>"]


def llama3_prompt(request: GenerationRequest) -> str:
    """The Llama 3 chat template, which the reference finale's Llama 3.2 3B models expect under TGI."""
    out = "<|begin_of_text|>"
    if request.system_prompt.strip():
        out += f"<|start_header_id|>system<|end_header_id|>\n\n{request.system_prompt}<|eot_id|>"
    out += f"<|start_header_id|>user<|end_header_id|>\n\n{request.prompt}<|eot_id|>"
    return out + "<|start_header_id|>assistant<|end_header_id|>\n\n"


def payload(fmt: str, request: GenerationRequest, stream: bool) -> dict[str, Any]:
    """The JSON body for the container format the finalist picked."""
    if fmt == "messages":
        messages = [{"role": "user", "content": request.prompt}]
        if request.system_prompt.strip():
            messages.insert(0, {"role": "system", "content": request.system_prompt})
        body: dict[str, Any] = {"messages": messages, "max_tokens": request.max_tokens,
                                "temperature": request.temperature, "stream": stream}
        return body
    # a whole reply counts its tokens only in `details` (streamed ones count one event per token)
    params: dict[str, Any] = {"max_new_tokens": request.max_tokens, "stop": LLAMA3_STOP, "details": not stream,
                              "return_full_text": False}
    if request.temperature > 0:  # TGI rejects temperature 0; greedy decoding is do_sample false
        params.update(temperature=request.temperature, do_sample=True)
    else:
        params["do_sample"] = False
    return {"inputs": llama3_prompt(request), "parameters": params, "stream": stream}


def whole_text(body: bytes, what: str) -> tuple[str, int | None]:
    """The answer (and token count, when given) from a non-streamed InvokeEndpoint body."""
    try:
        obj = json.loads(body)
    except ValueError:
        raise ProviderError(f"{what}: the endpoint's reply is not JSON: {body[:60]!r}") from None
    if isinstance(obj, list) and obj and isinstance(obj[0], dict):
        obj = obj[0]
    if isinstance(obj, dict):
        if "generated_text" in obj:
            details = obj.get("details")
            tokens = details.get("generated_tokens") if isinstance(details, dict) else None
            return str(obj["generated_text"]), int(tokens) if isinstance(tokens, int | float) else None
        choices = obj.get("choices") or []
        if choices:
            msg = choices[0].get("message") or {}
            text = msg.get("content") if msg else choices[0].get("text")
            tokens = (obj.get("usage") or {}).get("completion_tokens")
            return str(text or ""), int(tokens) if tokens is not None else None
    raise ProviderError(f"{what}: no generated text in the endpoint's reply (expected TGI or chat format)")


class SageMakerProvider:
    """One finalist's SageMaker endpoint (optionally an inference component on it)."""

    announces_start = True

    def __init__(self, name: str, spec: SageMakerEndpoint, runtime: Runtime) -> None:
        self.name = name
        self.spec = spec
        self.pool = runtime.pool
        self.client = runtime.aws_client("sagemaker-runtime", spec, stream=spec.stream)
        self.what = f"SageMaker {spec.endpoint_name}"

    def _args(self, request: GenerationRequest) -> dict[str, Any]:
        args: dict[str, Any] = {
            "EndpointName": self.spec.endpoint_name,
            "ContentType": "application/json",
            "Body": json.dumps(payload(self.spec.format, request, self.spec.stream)).encode("utf-8"),
        }
        if self.spec.inference_component:
            args["InferenceComponentName"] = self.spec.inference_component
        return args

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        args = self._args(request)
        try:
            if not self.spec.stream:
                reply = await self.pool.call(self.client.invoke_endpoint, Accept="application/json", **args)
                body = await self.pool.call(reply["Body"].read)
                yield Started()
                text, tokens = whole_text(body, self.what)
                yield TextDelta(text)
                yield Usage(tokens or 0)  # a whole reply without a count: unknown (0), never "1 token"
                return

            def open_stream() -> Iterable[dict[str, Any]]:
                return self.client.invoke_endpoint_with_response_stream(**args)["Body"]  # type: ignore[no-any-return]

            lines = LineEvents(self.what)
            async with aclosing(self.pool.iterate(open_stream)) as events:
                async for event in events:
                    if isinstance(event, Opened):
                        yield Started()
                        continue
                    part = event.get("PayloadPart")
                    if part and part.get("Bytes"):
                        for item in lines.feed(part["Bytes"]):
                            yield item
            for item in lines.finish():
                yield item
        except AWS_ERRORS as exc:
            raise ProviderError(describe_error(exc, self.what, stream=self.spec.stream)) from None

    async def aclose(self) -> None:
        return None
