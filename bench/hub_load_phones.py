"""The phones of bench/hub_load.py: one worker process holds a share of the connections and votes on command.

The orchestrator sends commands down a pipe: `ramp` (connect and hello every
phone, a bounded number of handshakes at a time), `held` (how many are still
open), `votes` (each phone sends one vote at its slot of a time window and
waits for the answer with the same id: the hub's `ack`, or the echo), `quit`.
The same code drives the hub and the echo server, so both do the same work.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

from finale.autopilot.phones import source_address

HANDSHAKES_AT_ONCE = 100


class Phones:
    """Phones `first` .. `first + count - 1` of `total`, all on one server."""

    def __init__(self, url: str, first: int, count: int, total: int) -> None:
        self.url = url
        self.first = first
        self.count = count
        self.total = total
        self.conns: list[ClientConnection | None] = [None] * count
        self.errors: dict[str, int] = {}

    def _error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def device(self, j: int) -> str:
        return f"bench-phone-{self.first + j:06d}"

    async def _join(self, j: int, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                ws = await connect(self.url, local_addr=source_address(self.first + j, "127.0.0.1"),
                                   compression=None, ping_interval=None, open_timeout=60, max_size=1 << 20)
                await ws.send(json.dumps({"type": "hello", "role": "audience", "device_id": self.device(j)}))
                await asyncio.wait_for(ws.recv(), 60)
                self.conns[j] = ws
            except Exception as exc:  # a phone that cannot join is counted, not fatal
                self._error(f"join: {type(exc).__name__}")

    async def ramp(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)
        started = time.perf_counter()
        await asyncio.gather(*(self._join(j, gate) for j in range(self.count)))
        return {"connected": sum(c is not None for c in self.conns), "ramp_s": time.perf_counter() - started,
                "errors": dict(self.errors)}

    def held(self) -> int:
        return sum(1 for c in self.conns if c is not None and c.state is State.OPEN)

    async def _vote(self, j: int, ws: ClientConnection, frame: dict[str, Any], at: float,
                    out: dict[str, Any]) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        sent_wall = time.time()
        started = time.perf_counter()
        try:
            await ws.send(json.dumps(frame))
            out["sent"].append(frame["id"])
            out["first_send"] = min(out["first_send"], sent_wall)
            while True:
                reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if reply.get("id") == frame["id"]:
                    break
        except Exception as exc:
            self._error(f"vote: {type(exc).__name__}")
            return
        if reply.get("type") in ("ack", "vote"):  # the hub's ack, or the echo of the frame itself
            out["latency_ms"].append((time.perf_counter() - started) * 1000)
            out["acked"].append(frame["id"])
            out["last_ack"] = max(out["last_ack"], time.time())
        else:
            self._error(f"refused: {reply.get('code')}")

    async def votes(self, round_id: int, labels: list[str], start_at: float, spread_s: float, tag: str,
                    shift: int) -> dict[str, Any]:
        """One vote per phone; phone g sends at start_at + spread_s * g / total (all workers' phones interleave)."""
        out: dict[str, Any] = {"sent": [], "acked": [], "latency_ms": [], "first_send": float("inf"),
                               "last_ack": 0.0}
        self.errors = {}
        tasks = []
        for j, ws in enumerate(self.conns):
            if ws is None:
                continue
            g = self.first + j
            frame = {"type": "vote", "round": round_id, "label": labels[(g + shift) % len(labels)],
                     "id": f"{tag}-{g}"}
            tasks.append(self._vote(j, ws, frame, start_at + spread_s * g / self.total, out))
        await asyncio.gather(*tasks)
        out["errors"] = dict(self.errors)
        return out


async def _serve(pipe: Connection, phones: Phones) -> None:
    loop = asyncio.get_running_loop()
    while True:
        command, args = await loop.run_in_executor(None, pipe.recv)
        if command == "ramp":
            pipe.send(await phones.ramp())
        elif command == "held":
            pipe.send(phones.held())
        elif command == "votes":
            pipe.send(await phones.votes(**args))
        else:
            for ws in phones.conns:
                if ws is not None:
                    ws.transport.abort()
            pipe.send(None)
            return


def worker(pipe: Connection, url: str, first: int, count: int, total: int) -> None:
    """Entry point of one phones process."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(_serve(pipe, Phones(url, first, count, total)))
