"""Any OpenAI-compatible chat-completions server (vLLM, TGI, llama.cpp, Ollama), streamed as server-sent events.

The API key is read from the environment variable the event file names, and
is sent only in the Authorization header: never logged, never in an error.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from finale.config import NetworkSettings, OpenAIEndpoint
from finale.providers.base import GenerationRequest, ProviderError, StreamEvent, TextDelta, Usage
from finale.providers.runtime import Runtime
from finale.providers.sse import LineEvents

RETRY_STATUS = {408, 429, 500, 502, 503, 504}
MAX_RETRY_WAIT_S = 2.0


class HTTPStatusError(ProviderError):
    """The server answered with an HTTP error status (after any retries)."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


def shown_url(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else "")))


def api_headers(api_key_env: str | None, what: str) -> dict[str, str]:
    """The Authorization header from the named environment variable; a clear error when it is unset."""
    if not api_key_env:
        return {}
    key = os.environ.get(api_key_env)
    if not key:
        raise ProviderError(f"{what}: environment variable {api_key_env} is not set (it should hold the API key)")
    return {"Authorization": f"Bearer {key}"}


def make_client(base_url: str, spec: NetworkSettings, read_timeout_s: float) -> httpx.AsyncClient:
    """One pooled HTTP client per endpoint, with the event file's timeouts."""
    timeout = httpx.Timeout(connect=spec.connect_timeout_s, read=read_timeout_s, write=10.0, pool=5.0)
    return httpx.AsyncClient(base_url=base_url.rstrip("/") + "/", timeout=timeout)


def http_reason(what: str, response_status: int, body: bytes) -> str:
    """`<what>: HTTP 500: <the server's own message>` from an OpenAI-style error body."""
    message = ""
    try:
        obj = json.loads(body)
        err = obj.get("error") if isinstance(obj, dict) else None
        message = str(err.get("message") if isinstance(err, dict) else err or obj.get("message") or "")
    except (ValueError, AttributeError):
        message = body[:120].decode("utf-8", "replace").strip()
    return f"{what}: HTTP {response_status}" + (f": {message[:200]}" if message else "")


def transport_reason(what: str, exc: httpx.HTTPError) -> str:
    """A readable line for a connection-level failure."""
    detail = str(exc).strip()
    if isinstance(exc, httpx.ConnectError):
        return f"{what}: cannot connect ({detail or 'connection refused'})"
    if isinstance(exc, httpx.TimeoutException):
        return f"{what}: the server stopped sending ({type(exc).__name__})"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return f"{what}: connection broken mid-stream ({detail or 'connection reset or closed by the server'})"
    return f"{what}: {type(exc).__name__}: {exc}"


def retry_wait(response: httpx.Response, attempt: int) -> float:
    """Honour Retry-After (capped so the show never waits long), else a short exponential backoff."""
    header = response.headers.get("Retry-After")
    try:
        wait = float(header) if header is not None else 0.25 * 2**attempt
    except ValueError:
        wait = 0.25 * 2**attempt
    return min(max(wait, 0.0), MAX_RETRY_WAIT_S)


async def send_with_retry(client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str],
                          attempts: int, what: str, stream: bool) -> httpx.Response:
    """POST chat/completions, retrying throttling and transient errors; the caller closes the response."""
    for attempt in range(attempts):
        request = client.build_request("POST", "chat/completions", json=body, headers=headers)
        try:
            response = await client.send(request, stream=stream)
        except httpx.ConnectError as exc:
            if attempt + 1 < attempts:
                await asyncio.sleep(0.1 * 2**attempt)
                continue
            raise ProviderError(transport_reason(what, exc)) from None
        except httpx.HTTPError as exc:
            raise ProviderError(transport_reason(what, exc)) from None
        if response.status_code < 400:
            return response
        data = await response.aread()
        await response.aclose()
        if response.status_code in RETRY_STATUS and attempt + 1 < attempts:
            await asyncio.sleep(retry_wait(response, attempt))
            continue
        tries = f" [after {attempt} retr{'y' if attempt == 1 else 'ies'}]" if attempt else ""
        raise HTTPStatusError(http_reason(what, response.status_code, data) + tries, response.status_code)
    raise AssertionError("unreachable")


class OpenAIProvider:
    """Streams `/v1/chat/completions` with `stream: true` (or one JSON reply when streaming is off)."""

    def __init__(self, name: str, spec: OpenAIEndpoint, runtime: Runtime) -> None:
        self.name = name
        self.spec = spec
        self.what = f"{spec.model} at {shown_url(spec.base_url)}"
        self.client = make_client(spec.base_url, spec, runtime.read_timeout(spec, spec.stream))
        self.include_usage = spec.stream  # dropped for servers that reject stream_options

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        messages = [{"role": "user", "content": request.prompt}]
        if request.system_prompt.strip():
            messages.insert(0, {"role": "system", "content": request.system_prompt})
        body: dict[str, Any] = {"model": self.spec.model, "messages": messages, "max_tokens": request.max_tokens,
                                "temperature": request.temperature, "stream": self.spec.stream}
        if self.include_usage:
            body["stream_options"] = {"include_usage": True}
        return body

    async def _send(self, request: GenerationRequest, headers: dict[str, str]) -> httpx.Response:
        try:
            return await send_with_retry(self.client, self._body(request), headers, self.spec.max_attempts,
                                         self.what, self.spec.stream)
        except HTTPStatusError as exc:
            if not (self.include_usage and exc.status in (400, 422) and "stream_options" in str(exc)):
                raise
        self.include_usage = False  # an older server: count tokens from the deltas instead
        return await send_with_retry(self.client, self._body(request), headers, self.spec.max_attempts,
                                     self.what, self.spec.stream)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        headers = api_headers(self.spec.api_key_env, self.what)
        response = await self._send(request, headers)
        try:
            if not self.spec.stream:
                try:
                    obj = json.loads(await response.aread())
                    text = obj["choices"][0]["message"].get("content") or ""
                except (ValueError, KeyError, IndexError, TypeError):
                    raise ProviderError(f"{self.what}: the reply is not a chat completion") from None
                yield TextDelta(str(text))
                tokens = (obj.get("usage") or {}).get("completion_tokens")
                if tokens is not None:
                    yield Usage(int(tokens))
                return
            lines = LineEvents(self.what)
            async for data in response.aiter_bytes():
                for item in lines.feed(data):
                    yield item
            for item in lines.finish():
                yield item
        except httpx.HTTPError as exc:
            raise ProviderError(transport_reason(self.what, exc)) from None
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()
