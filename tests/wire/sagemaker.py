"""SageMaker: the runtime (restJson1 InvokeEndpoint, InvokeEndpointWithResponseStream) and DescribeEndpoint (JSON 1.1).

Streamed payload parts carry the container's own bytes: TGI's `data:{"token":...}`
server-sent events, or the chat-completions chunks of LMI/vLLM. Lines are
deliberately split across parts, as real containers do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from tests.wire import eventstream as es
from tests.wire.bedrock import throttled
from tests.wire.server import WireHandler

ACCOUNT = "123456789012"


def describe_endpoint(h: WireHandler, body: bytes) -> None:
    """X-Amz-Target: SageMaker.DescribeEndpoint."""
    if not h.signed_by("sagemaker"):
        return
    name = json.loads(body or b"{}").get("EndpointName", "")
    h.script.take(f"describe:{name}", h.record(body))
    reply = h.script.replies.get(name)
    if reply is None:
        h.send_json(400, {"__type": "ValidationException", "message": f'Could not find endpoint "{name}".'},
                    content_type="application/x-amz-json-1.1")
        return
    h.send_json(200, {
        "EndpointName": name,
        "EndpointArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{name}",
        "EndpointConfigName": f"{name}-config",
        "EndpointStatus": reply.endpoint_status,
        "CreationTime": 1.7e9,
        "LastModifiedTime": 1.7e9,
    }, content_type="application/x-amz-json-1.1")


def handle_runtime(h: WireHandler, body: bytes) -> None:
    """POST /endpoints/{name}/invocations or /invocations-response-stream."""
    if not h.signed_by("sagemaker"):
        return
    _, _, name, op = h.path.split("?")[0].split("/", 3)
    name = unquote(name)
    reply, nth = h.script.take(name, h.record(body))
    if throttled(h, reply, nth, op == "invocations-response-stream"):
        return
    request: dict[str, Any] = json.loads(body or b"{}")
    chat = "messages" in request
    if op == "invocations":
        h.pause(reply.total_s or reply.ttft_s)
        text = reply.text * reply.repeat
        if chat:
            h.send_json(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
                              "usage": {"completion_tokens": len(reply.chunks())}})
        else:
            generated: dict[str, Any] = {"generated_text": text}
            if reply.tgi_details and request.get("parameters", {}).get("details"):
                generated["details"] = {"finish_reason": "eos_token", "generated_tokens": len(reply.chunks()),
                                        "seed": None}
            h.send_json(200, [generated])
        return
    h.start_chunked("application/vnd.amazon.eventstream",
                    {"X-Amzn-SageMaker-Content-Type": "text/event-stream"})

    def part(data: bytes) -> bytes:
        return es.event("PayloadPart", data, "application/octet-stream")

    def piece(i: int, text: str) -> bytes:
        if chat:
            line = b"data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}).encode() + b"\n\n"
        else:
            token = {"id": i, "text": text, "logprob": -0.1, "special": False}
            line = b"data:" + json.dumps({"token": token, "generated_text": None, "details": None}).encode() + b"\n\n"
        cut = len(line) // 2 if i % 2 else len(line)  # every other line split across two parts
        return part(line[:cut]) + (part(line[cut:]) if cut < len(line) else b"")

    def error(kind: str) -> bytes:
        return es.exception(kind, "Model container stopped mid-stream.", ErrorCode="ModelStreamError")

    def tail() -> Iterator[bytes]:
        if chat:
            usage = {"choices": [], "usage": {"completion_tokens": len(reply.chunks())}}
            yield part(b"data: " + json.dumps(usage).encode() + b"\n\n")
            yield part(b"data: [DONE]\n\n")
        else:
            final = {"token": {"id": 0, "text": "<|eot_id|>", "logprob": 0, "special": True},
                     "generated_text": reply.text * reply.repeat, "details": None}
            yield part(b"data:" + json.dumps(final).encode() + b"\n\n")

    h.stream(reply, piece, error, b"\x00\x00\x00\x20\x00\x00\x00\x00not-an-event-stream-frame-at-all", tail())
