"""One real websockets client of the hub: hello, the latest state, and requests answered by `ack` or `error`.

Phones and simulated panelists are both built on it. A reader task keeps the
latest `state` (and wakes whoever waits for a particular one) and resolves each
request's future when the hub answers with the same message id (a ping's, when
its pong echoes the same `t`). A lost
connection fails every open request with `Disconnected`, so the caller decides
whether to reconnect and resend, as the real pages do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

State = dict[str, Any]


def _pong_key(t: object) -> str:
    """Where a ping's pong is filed: its `t`, which no request id can look like."""
    return f"pong:{t!r}"


class Disconnected(Exception):
    """The connection to the hub was lost (or could not be opened) before an answer came."""


class HubClient:
    """A connection that has said hello; `request` sends a frame with an `id` and returns the hub's answer."""

    def __init__(self, url: str, role: str, device_id: str, token: str | None = None,
                 local_addr: tuple[str, int] | None = None) -> None:
        self.url = url
        self.role = role
        self.device_id = device_id
        self.token = token
        self.local_addr = local_addr
        self.credential: str | None = None  # the voter credential the hub issued (audience), sent in every hello
        self.state: State | None = None
        self.ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self.ws is not None and self._reader is not None and not self._reader.done()

    async def connect(self, timeout: float = 20.0) -> State:
        """Open the socket, send hello and return the first state; `Disconnected` if any step fails."""
        hello: dict[str, Any] = {"type": "hello", "role": self.role, "device_id": self.device_id}
        if self.token is not None:
            hello["token"] = self.token
        if self.credential is not None:
            hello["credential"] = self.credential
        try:
            kwargs: dict[str, Any] = {"local_addr": self.local_addr} if self.local_addr else {}
            self.ws = await connect(self.url, open_timeout=timeout, compression=None, max_size=1 << 20,
                                    ping_interval=None, close_timeout=1, **kwargs)
            await self.ws.send(json.dumps(hello))
            first = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as exc:
            await self.abort()
            raise Disconnected(f"{self.device_id}: cannot join {self.url}: {type(exc).__name__}: {exc}") from None
        if first.get("type") != "state":
            await self.abort()
            raise Disconnected(f"{self.device_id}: hello refused: {first.get('code')}: {first.get('message')}")
        self._keep(first)
        self._reader = asyncio.create_task(self._read(self.ws))
        return first

    def _keep(self, state: State) -> None:
        """Take a state; a credential in it is kept across reconnects and hub restarts (the page keeps it in
        localStorage), whichever frame carries it."""
        self.state = state
        if "credential" in state:
            self.credential = state["credential"] or None

    @property
    def voter_id(self) -> str | None:
        """The voter id of the credential the hub issued: the key this phone's votes are stored under."""
        return self.credential.split(".")[1] if self.credential else None

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                msg = json.loads(raw)
                kind = msg.get("type")
                if kind == "state":
                    async with self._changed:
                        self._keep(msg)
                        self._changed.notify_all()
                elif kind in ("ack", "error", "pong"):
                    key = _pong_key(msg.get("t")) if kind == "pong" else msg.get("id")
                    fut = self._pending.pop(key, None) if isinstance(key, str) else None
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
        except ConnectionClosed:
            pass
        finally:
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(Disconnected(f"{self.device_id}: connection lost"))
            self._pending.clear()
            async with self._changed:
                self._changed.notify_all()

    async def wait_state(self, ok: Callable[[State], bool], timeout: float) -> State:
        """The first state (the current one included) for which `ok` holds; TimeoutError or Disconnected."""
        async with asyncio.timeout(timeout), self._changed:
            while True:
                if self.state is not None and ok(self.state):
                    return self.state
                if not self.connected:
                    raise Disconnected(f"{self.device_id}: connection lost while waiting")
                await self._changed.wait()

    async def request(self, message: dict[str, Any], timeout: float = 15.0, drop_after_send: bool = False
                      ) -> dict[str, Any]:
        """Send one frame carrying `id` and return the `ack` or `error` with that id.

        `drop_after_send` cuts the connection right after the frame leaves, as a phone
        losing its signal does: the answer never arrives and `Disconnected` is raised.
        """
        return await self._exchange(message["id"], message, timeout, drop_after_send)

    async def ping(self, timeout: float = 10.0) -> float:
        """One ping round trip in milliseconds: how responsive the hub is, as a phone feels it."""
        t = time.time()
        started = time.perf_counter()
        await self._exchange(_pong_key(t), {"type": "ping", "t": t}, timeout)
        return (time.perf_counter() - started) * 1000

    async def _exchange(self, key: str, message: dict[str, Any], timeout: float, drop_after_send: bool = False
                        ) -> dict[str, Any]:
        """Send a frame and wait for the reply the reader files under `key`."""
        if self.ws is None or not self.connected:
            raise Disconnected(f"{self.device_id}: not connected")
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[key] = fut
        try:
            await self.ws.send(json.dumps(message))
        except (ConnectionClosed, OSError):
            self._pending.pop(key, None)
            await self.abort()  # else `connected` stays true and a caller retrying at once spins without yielding
            raise Disconnected(f"{self.device_id}: connection lost while sending") from None
        if drop_after_send:
            await self.abort()
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._pending.pop(key, None)

    async def abort(self) -> None:
        """Drop the TCP connection without a closing handshake (a phone going out of range)."""
        ws, self.ws = self.ws, None
        if ws is not None:
            ws.transport.abort()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None

    async def close(self) -> None:
        """Leave cleanly (close 1000)."""
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        await self.abort()
