"""The phones of bench/hub_load.py: one worker process holds a share of the connections and votes on command.

The orchestrator sends commands down a pipe: `ramp` (connect and hello every
phone, a bounded number of handshakes at a time), `held` (how many are still
open), `votes` (each phone sends one vote at its slot of a time window and
waits for the answer with the same id: the hub's `ack`, or the echo), `quit`.
The same code drives the hub and the echo server, so both do the same work.

Each phone is a bare asyncio protocol speaking RFC 6455 itself (HTTP upgrade,
masked client frames, pongs to the server's keepalive pings, close): a few
microseconds per message, so on a shared 2-core machine the load generator
leaves the CPU to the server it measures. Real phones bring their own CPUs;
the autopilot (finale/autopilot) uses the full websockets client instead.
"""

from __future__ import annotations

import asyncio
import json
import resource
import struct
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the frames are the tests' (tests/raw_ws.py)

from finale.autopilot.phones import source_address
from tests.raw_ws import CLOSE, PING, PONG, TEXT, frame, upgrade_request

HANDSHAKES_AT_ONCE = 100


class PhoneProtocol(asyncio.Protocol):
    """One phone's connection: upgrade, then text frames in and out; the server's frames are unmasked."""

    def __init__(self, host: str, path: str, pings: list[float]) -> None:
        self.request = upgrade_request(host, path)
        self.pings = pings  # when the server's keepalive pings arrived, all of this process's phones
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded = False
        self.open = False
        self.waiter: asyncio.Future[dict[str, Any] | None] | None = None
        self.expect: str | None = None  # the id whose answer `waiter` waits for; None: the next message

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self._resolve(None)

    def _resolve(self, value: dict[str, Any] | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(value)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buf.startswith(b"HTTP/1.1 101"):
                assert self.transport is not None
                self.transport.close()
                return
            del self.buf[:end + 4]
            self.upgraded = self.open = True
        while len(self.buf) >= 2:
            opcode, n, at = self.buf[0] & 0x0F, self.buf[1] & 0x7F, 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, at = struct.unpack_from("!H", self.buf, 2)[0], 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n, at = struct.unpack_from("!Q", self.buf, 2)[0], 10
            if len(self.buf) < at + n:
                return
            payload = bytes(self.buf[at:at + n])
            del self.buf[:at + n]
            self._frame(opcode, payload)

    def _frame(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if opcode == PING:
            self.pings.append(time.time())
            self.transport.write(frame(PONG, payload))
        elif opcode == CLOSE:
            self.open = False
            self.transport.close()
        elif opcode == TEXT and self.waiter is not None:
            msg = json.loads(payload)
            if self.expect is None or msg.get("id") == self.expect:
                self._resolve(msg)

    async def exchange(self, message: dict[str, Any], expect: str | None, timeout: float) -> dict[str, Any] | None:
        """Send one text frame and wait for the next message (expect None) or the one carrying `expect` as id."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.expect = expect
        self.transport.write(frame(TEXT, json.dumps(message).encode()))
        try:
            return await asyncio.wait_for(self.waiter, timeout)
        finally:
            self.waiter = None

    async def until_open(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.open:
            if self.transport is None or self.transport.is_closing() or time.monotonic() > deadline:
                raise ConnectionError("upgrade refused or timed out")
            await asyncio.sleep(0.005)


class Phones:
    """Phones `first` .. `first + count - 1` of `total`, all on one server."""

    def __init__(self, url: str, first: int, count: int, total: int) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self.first = first
        self.count = count
        self.total = total
        self.conns: list[PhoneProtocol | None] = [None] * count
        self.errors: dict[str, int] = {}
        self.pings: list[float] = []  # keepalive pings' arrival times: the server's idle work lands in waves

    def _error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    async def _join(self, j: int, gate: asyncio.Semaphore) -> None:
        loop = asyncio.get_running_loop()
        async with gate:
            try:
                _, proto = await loop.create_connection(
                    lambda: PhoneProtocol(f"{self.host}:{self.port}", self.path, self.pings), self.host, self.port,
                    local_addr=source_address(self.first + j, self.host))
                await proto.until_open(60)
                hello = {"type": "hello", "role": "audience", "device_id": f"bench-phone-{self.first + j:06d}"}
                if await proto.exchange(hello, None, 60) is None:
                    raise ConnectionError("closed after hello")
                self.conns[j] = proto
            except Exception as exc:  # a phone that cannot join is counted, not fatal
                self._error(f"join: {type(exc).__name__}")

    async def ramp(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)
        started = time.perf_counter()
        await asyncio.gather(*(self._join(j, gate) for j in range(self.count)))
        return {"connected": sum(c is not None for c in self.conns), "ramp_s": time.perf_counter() - started,
                "errors": dict(self.errors)}

    def held(self) -> int:
        return sum(1 for c in self.conns if c is not None and c.open)

    async def _vote(self, proto: PhoneProtocol, message: dict[str, Any], at: float, out: dict[str, Any]) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        late = time.time() - at  # this process's own delay: a phone sent after its slot joins a clump
        out["late_max_ms"] = max(out["late_max_ms"], late * 1000)
        out["late_over_5ms"] += late > 0.005
        if not proto.open:
            self._error("vote: connection closed")
            return
        out["first_send"] = min(out["first_send"], time.time())
        out["sent"].append(message["id"])
        started = time.perf_counter()
        try:
            reply = await proto.exchange(message, message["id"], 30)
        except TimeoutError:
            self._error("vote: no answer in 30 s")
            return
        if reply is None:
            self._error("vote: connection lost")
        elif reply.get("type") in ("ack", "vote"):  # the hub's ack, or the echo of the frame itself
            out["latency_ms"].append((time.perf_counter() - started) * 1000)
            out["acked"].append(message["id"])
            out["last_ack"] = max(out["last_ack"], time.time())
        else:
            self._error(f"refused: {reply.get('code')}")

    async def votes(self, round_id: int, labels: list[str], start_at: float, spread_s: float, tag: str,
                    shift: int) -> dict[str, Any]:
        """One vote per phone; phone g sends at start_at + spread_s * g / total (all workers' phones interleave)."""
        out: dict[str, Any] = {"sent": [], "acked": [], "latency_ms": [], "first_send": float("inf"),
                               "last_ack": 0.0, "late_max_ms": 0.0, "late_over_5ms": 0}
        self.errors = {}
        tasks = []
        for j, proto in enumerate(self.conns):
            if proto is None:
                continue
            g = self.first + j
            message = {"type": "vote", "round": round_id, "label": labels[(g + shift) % len(labels)],
                       "id": f"{tag}-{g}"}
            tasks.append(self._vote(proto, message, start_at + spread_s * g / self.total, out))
        await asyncio.gather(*tasks)
        out["errors"] = dict(self.errors)
        out["pings"] = sum(1 for t in self.pings if out["first_send"] <= t <= out["last_ack"])
        return out


async def _serve(pipe: Connection, phones: Phones) -> None:
    loop = asyncio.get_running_loop()
    while True:
        command, args = await loop.run_in_executor(None, pipe.recv)
        if command == "ramp":
            pipe.send(await phones.ramp())
        elif command == "held":
            pipe.send(phones.held())
        elif command == "pings":
            pipe.send([t for t in phones.pings if t >= args["since"]])
        elif command == "votes":
            pipe.send(await phones.votes(**args))
        else:
            for proto in phones.conns:
                if proto is not None and proto.transport is not None:
                    proto.transport.abort()
            pipe.send(None)
            return


def worker(pipe: Connection, url: str, first: int, count: int, total: int) -> None:
    """Entry point of one phones process."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(_serve(pipe, Phones(url, first, count, total)))
