"""Bedrock runtime (restJson1): Converse and ConverseStream, the latter as an AWS event stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from tests.wire import eventstream as es
from tests.wire.server import Reply, WireHandler

_CONTENT = "application/vnd.amazon.eventstream"


def throttled(h: WireHandler, reply: Reply, nth: int, streaming: bool = False) -> bool:
    """Answer a modelled AWS error if the reply's script says so; True when it did."""
    return h.fault(reply, nth, streaming,
                   lambda: h.send_json(429, {"message": "Too many requests, please wait before trying again."},
                                       {"x-amzn-ErrorType": "ThrottlingException"}),
                   lambda: h.send_json(reply.fail_status or 500, {"message": reply.fail_message},
                                       {"x-amzn-ErrorType": reply.fail_code}))


def handle(h: WireHandler, body: bytes) -> None:
    """POST /model/{modelId}/converse or /converse-stream."""
    if not h.signed_by("bedrock"):
        return
    _, _, model_id, op = h.path.split("?")[0].split("/", 3)
    model_id = unquote(model_id)
    reply, nth = h.script.take(model_id, h.record(body))
    request: dict[str, Any] = json.loads(body or b"{}")
    if throttled(h, reply, nth, op == "converse-stream"):
        return
    tools = request.get("toolConfig")
    if tools and reply.refuse_tool_choice and "toolChoice" in tools:
        h.send_json(400, {"message": "This model does not support the toolChoice field."},
                    {"x-amzn-ErrorType": "ValidationException"})
        return
    if op == "converse":
        converse(h, reply, tools, request)
    elif op == "converse-stream":
        converse_stream(h, reply)
    else:
        h.send_json(404, {"message": f"unknown operation {op}"}, {"x-amzn-ErrorType": "UnknownOperationException"})


def converse(h: WireHandler, reply: Reply, tools: Any, request: dict[str, Any]) -> None:
    h.pause(reply.total_s or reply.ttft_s)
    tool_input = reply.tool_input
    if reply.decide is not None:
        tool_input = reply.decide(request["messages"][0]["content"][0]["text"])
    if tools and tool_input is not None:
        name = tools["tools"][0]["toolSpec"]["name"]
        content: list[dict[str, Any]] = [
            {"toolUse": {"toolUseId": "tooluse_1", "name": name, "input": tool_input}}]
        stop = "tool_use"
    else:
        content, stop = [{"text": reply.text * reply.repeat}], "end_turn"
    h.send_json(200, {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 12, "outputTokens": len(reply.chunks()), "totalTokens": 12 + len(reply.chunks())},
        "metrics": {"latencyMs": int(reply.total_s * 1000)},
    })


def converse_stream(h: WireHandler, reply: Reply) -> None:
    h.start_chunked(_CONTENT)
    h.chunk(es.event("messageStart", {"role": "assistant"}))

    def piece(i: int, text: str) -> bytes:
        return es.event("contentBlockDelta", {"delta": {"text": text}, "contentBlockIndex": 0})

    def error(kind: str) -> bytes:
        return es.exception(kind, f"The model stopped: {kind} raised by the test server.")

    def tail() -> Iterator[bytes]:
        yield es.event("contentBlockStop", {"contentBlockIndex": 0})
        yield es.event("messageStop", {"stopReason": "end_turn"})
        n = len(reply.chunks())
        yield es.event("metadata", {"usage": {"inputTokens": 12, "outputTokens": n, "totalTokens": 12 + n},
                                    "metrics": {"latencyMs": int(reply.total_s * 1000)}})

    h.stream(reply, piece, error, b"\x00\x00\x00\x20\x00\x00\x00\x00not-an-event-stream-frame-at-all", tail())
