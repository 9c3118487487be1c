"""An OpenAI-compatible chat-completions server: JSON replies, SSE streaming, tool calls, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.wire.server import Reply, Script, WireHandler, WireHTTPServer


def _chunk(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode("utf-8") + b"\n\n"


class OpenAIHandler(WireHandler):
    api_key: str | None = None

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self.send_json(200, {"object": "list", "data": [{"id": k, "object": "model"}
                                                            for k in self.script.replies]})
        else:
            self.send_json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        body = self.read_body()
        if self.path != "/v1/chat/completions":
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        key = self.server.api_key  # type: ignore[attr-defined]
        if key is not None and self.headers.get("Authorization") != f"Bearer {key}":
            self.send_json(401, {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error"}})
            return
        request = json.loads(body or b"{}")
        reply, nth = self.script.take(str(request.get("model")), self.record(body))
        if self.fault(reply, nth, bool(request.get("stream")),
                      lambda: self.send_json(429, {"error": {"message": "Rate limit reached for requests",
                                                             "type": "rate_limit"}}, {"Retry-After": "0"}),
                      lambda: self.send_json(reply.fail_status or 500, {"error": {
                          "message": "The server had an error while processing your request.",
                          "type": "server_error"}})):
            return
        if request.get("tool_choice") and reply.refuse_tool_choice:
            self.send_json(400, {"error": {"message": "tool_choice is not supported by this server",
                                           "type": "invalid_request_error"}})
            return
        if reply.reject_stream_options and "stream_options" in request:
            self.send_json(422, {"error": {"message": "Extra inputs are not permitted: stream_options",
                                           "type": "invalid_request_error"}})
            return
        if request.get("stream"):
            self.sse(reply)
        else:
            self.complete(reply, request)

    def complete(self, reply: Reply, request: dict[str, Any]) -> None:
        self.pause(reply.total_s or reply.ttft_s)
        message: dict[str, Any] = {"role": "assistant", "content": reply.text * reply.repeat}
        tool_input = reply.tool_input
        if reply.decide is not None:
            tool_input = reply.decide(request["messages"][-1]["content"])
        tools = request.get("tools")
        if tools and tool_input is not None:
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": tools[0]["function"]["name"], "arguments": json.dumps(tool_input)}}]}
        self.send_json(200, {"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
                             "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 12, "completion_tokens": len(reply.chunks())}})

    def sse(self, reply: Reply) -> None:
        self.start_chunked("text/event-stream")

        def piece(i: int, text: str) -> bytes:
            return _chunk({"id": "c", "object": "chat.completion.chunk",
                           "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})

        def error(kind: str) -> bytes:
            return _chunk({"error": {"message": f"{kind}: the model server failed mid-stream", "type": kind}})

        def tail() -> Iterator[bytes]:
            yield _chunk({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            yield _chunk({"id": "c", "choices": [], "usage": {"completion_tokens": len(reply.chunks())}})
            yield b"data: [DONE]\n\n"

        self.stream(reply, piece, error, b"data: {\"choices\": [{\"delta\": \x00\xff garbage\n\n", tail())


def openai_server(script: Script | None = None, api_key: str | None = None) -> WireHTTPServer:
    """A started-on-enter server at `srv.url + "/v1"`."""
    srv = WireHTTPServer(OpenAIHandler, script)
    srv.api_key = api_key  # type: ignore[attr-defined]
    return srv
