"""Any OpenAI-compatible chat-completions server (vLLM, TGI, llama.cpp, Ollama), streamed as server-sent events.

The API key is read from the environment variable the event file names, and
is sent only in the Authorization header: never logged, never in an error.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from finale.config import NetworkSettings, OpenAIEndpoint
from finale.providers.base import GenerationRequest, ProviderError, Retrying, Started, StreamEvent, TextDelta, Usage
from finale.providers.errors import readable_message, single_line, throttled
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


def http_reason(what: str, response_status: int, body: bytes, stream: bool = False) -> str:
    """`<what>: HTTP 500: <the server's own message>` on one line, from an OpenAI-style error body.

    A 429 says `throttled`; a web page (a gateway's) is summarised with a hint at the cause.
    """
    text = body.decode("utf-8", "replace")
    message = text
    try:
        obj = json.loads(body)
        err = obj.get("error") if isinstance(obj, dict) else None
        message = str(err.get("message") if isinstance(err, dict) else err or obj.get("message")
                      or obj.get("detail") or "")
    except (ValueError, AttributeError):
        pass
    shown = readable_message(message, response_status, stream) if message.strip() else ""
    return (f"{what}: " + ("throttled: " if throttled(response_status) else "") + f"HTTP {response_status}"
            + (f": {shown}" if shown else ""))


def transport_reason(what: str, exc: httpx.HTTPError, *, replying: bool = True) -> str:
    """A readable line for a connection-level failure; `replying` says whether the reply had begun."""
    detail = str(exc).strip()
    if isinstance(exc, httpx.ConnectError):
        return f"{what}: cannot connect ({detail or 'connection refused'})"
    if isinstance(exc, httpx.TimeoutException):
        if not replying:
            return f"{what}: no reply within the read timeout, it never answered ({type(exc).__name__})"
        return f"{what}: the server stopped sending ({type(exc).__name__})"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return f"{what}: connection broken mid-stream ({detail or 'connection reset or closed by the server'})"
    return f"{what}: {type(exc).__name__}: {single_line(str(exc))}"


def retry_wait(response: httpx.Response, attempt: int) -> float:
    """Honour Retry-After (capped so the show never waits long), else a short exponential backoff."""
    header = response.headers.get("Retry-After")
    try:
        wait = float(header) if header is not None else 0.25 * 2**attempt
    except ValueError:
        wait = 0.25 * 2**attempt
    return min(max(wait, 0.0), MAX_RETRY_WAIT_S)


async def attempts(client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str], tries: int,
                   what: str, stream: bool) -> AsyncGenerator[Retrying | httpx.Response, None]:
    """POST chat/completions, retrying throttling and transient errors: a `Retrying` before each retry,
    then the accepted response (the caller closes it), or HTTPStatusError / ProviderError."""
    for attempt in range(tries):
        request = client.build_request("POST", "chat/completions", json=body, headers=headers)
        try:
            response = await client.send(request, stream=stream)
        except httpx.ConnectError as exc:
            if attempt + 1 < tries:
                yield Retrying(transport_reason(what, exc))
                await asyncio.sleep(0.1 * 2**attempt)
                continue
            raise ProviderError(transport_reason(what, exc)) from None
        except httpx.HTTPError as exc:
            raise ProviderError(transport_reason(what, exc, replying=False)) from None
        if response.status_code < 400:
            yield response
            return
        data = await response.aread()
        await response.aclose()
        reason = http_reason(what, response.status_code, data, stream)
        if response.status_code in RETRY_STATUS and attempt + 1 < tries:
            yield Retrying(reason)
            await asyncio.sleep(retry_wait(response, attempt))
            continue
        retried = f" [after {attempt} retr{'y' if attempt == 1 else 'ies'}]" if attempt else ""
        raise HTTPStatusError(reason + retried, response.status_code)


async def send_with_retry(client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str],
                          tries: int, what: str, stream: bool) -> httpx.Response:
    """`attempts` for a caller that does not report retries: the accepted response (the caller closes it)."""
    async with aclosing(attempts(client, body, headers, tries, what, stream)) as items:
        async for item in items:
            if isinstance(item, httpx.Response):
                return item
    raise AssertionError("unreachable: attempts ends with a response or an error")


class OpenAIProvider:
    """Streams `/v1/chat/completions` with `stream: true` (or one JSON reply when streaming is off)."""

    announces_start = True

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

    async def _responses(self, request: GenerationRequest,
                         headers: dict[str, str]) -> AsyncGenerator[Retrying | httpx.Response, None]:
        """`attempts`, asked again without stream_options when an older server rejects them."""
        try:
            async with aclosing(attempts(self.client, self._body(request), headers, self.spec.max_attempts,
                                         self.what, self.spec.stream)) as items:
                async for item in items:
                    yield item
            return
        except HTTPStatusError as exc:
            if not (self.include_usage and exc.status in (400, 422) and "stream_options" in str(exc)):
                raise
        self.include_usage = False  # an older server: count tokens from the deltas instead
        async with aclosing(attempts(self.client, self._body(request), headers, self.spec.max_attempts,
                                     self.what, self.spec.stream)) as items:
            async for item in items:
                yield item

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        headers = api_headers(self.spec.api_key_env, self.what)
        response: httpx.Response | None = None
        async with aclosing(self._responses(request, headers)) as items:
            async for item in items:
                if isinstance(item, Retrying):
                    yield item
                else:
                    response = item
        if response is None:
            raise ProviderError(f"{self.what}: no reply")
        try:
            if not self.spec.stream:
                try:
                    obj = json.loads(await response.aread())
                    text = obj["choices"][0]["message"].get("content") or ""
                except (ValueError, KeyError, IndexError, TypeError):
                    raise ProviderError(f"{self.what}: the reply is not a chat completion") from None
                yield Started()
                yield TextDelta(str(text))
                tokens = (obj.get("usage") or {}).get("completion_tokens")
                yield Usage(int(tokens) if tokens is not None else 0)  # none given: unknown, never "1 token"
                return
            yield Started()
            lines = LineEvents(self.what)
            async for data in response.aiter_bytes():
                for event in lines.feed(data):
                    yield event
            for event in lines.finish():
                yield event
        except httpx.HTTPError as exc:
            raise ProviderError(transport_reason(self.what, exc)) from None
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()
