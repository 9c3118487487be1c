"""Streamed JSON lines, as model servers send them: SSE `data:` lines or bare JSON lines.

Used for OpenAI-compatible SSE and for the bytes inside SageMaker payload parts
(TGI tokens, LMI/vLLM chat chunks). Chunks split lines anywhere, so bytes are
buffered until a newline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from finale.providers.base import ProviderError, StreamEvent, TextDelta, Usage


class LineEvents:
    """Turns streamed payload bytes into text deltas and usage, whichever container format they use."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.buffer = b""
        self.done = False

    def feed(self, data: bytes) -> Iterator[StreamEvent]:
        self.buffer += data
        while b"\n" in self.buffer and not self.done:
            line, self.buffer = self.buffer.split(b"\n", 1)
            yield from self.line(line.strip())

    def finish(self) -> Iterator[StreamEvent]:
        if self.buffer.strip() and not self.done:
            yield from self.line(self.buffer.strip())
        self.buffer = b""

    def line(self, raw: bytes) -> Iterator[StreamEvent]:
        if not raw or raw.startswith(b":") or raw.startswith(b"event:"):
            return
        if raw.startswith(b"data:"):
            raw = raw[5:].strip()
        if raw == b"[DONE]":
            self.done = True
            return
        try:
            obj = json.loads(raw)
        except ValueError:
            shown = raw[:60].decode("utf-8", "replace")
            raise ProviderError(f"{self.what}: unreadable streamed line from the endpoint: {shown!r}") from None
        if not isinstance(obj, dict):
            return
        if obj.get("error"):
            err = obj["error"]
            message = err.get("message", err) if isinstance(err, dict) else err
            raise ProviderError(f"{self.what}: the server reported an error mid-stream: {str(message)[:200]}")
        token = obj.get("token")
        if isinstance(token, dict):  # TGI; the final event repeats the whole text in generated_text: ignore it
            if not token.get("special") and token.get("text"):
                yield TextDelta(str(token["text"]))
            return
        for choice in obj.get("choices") or []:
            text = (choice.get("delta") or {}).get("content") or choice.get("text")
            if text:
                yield TextDelta(str(text))
        usage = obj.get("usage")
        if isinstance(usage, dict) and usage.get("completion_tokens") is not None:
            yield Usage(int(usage["completion_tokens"]))
