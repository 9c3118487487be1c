"""The one test phone: a real websockets client of the hub that never gives up on an unacknowledged vote.

It is built on the autopilot's HubClient (finale/autopilot/client.py), so tests and the autopilot share
one wire client. `vote` sends, waits for the ack and, when the connection drops or the ack never comes,
reconnects with backoff and resends the same message id, as the vote page does. With `autopilot=True`
the vote goes through the autopilot's own phone (finale.autopilot.phones.Phone.cast) instead, so the
hub-kill drill can put that reconnect logic under the same storm.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from finale.autopilot.client import Disconnected, HubClient, State
from finale.autopilot.phones import CrowdStats
from finale.autopilot.phones import Phone as CrowdPhone

RETRY_CODES = ("rate_limited", "unavailable")


@dataclass
class PhoneLog:
    """What one phone did: every vote it sent (by id) and which of them the hub acknowledged."""

    device: str
    voter: str | None = None  # the voter id of the credential the hub issued (the votes table's key)
    sent: dict[str, str] = field(default_factory=dict)  # msg id -> label
    acked: list[str] = field(default_factory=list)  # msg ids, in order
    refused: dict[str, str] = field(default_factory=dict)  # msg id -> error code
    latencies_ms: list[float] = field(default_factory=list)  # first send to ack, per acked vote
    reconnects: int = 0
    resends: int = 0


class Phone:
    """One phone on the real hub: votes one at a time and resends an unacknowledged vote until it is answered.

    It gives up (TimeoutError, naming the vote and the last answer) only after `give_up_after_s`, so a
    hub that refuses `unavailable` for ever fails a test with why instead of hanging it.
    """

    def __init__(self, url: str, device: str, *, ack_timeout_s: float = 10.0, max_backoff_s: float = 1.0,
                 autopilot: bool = False, address: str | None = None, give_up_after_s: float = 120.0) -> None:
        self.url = url
        self.log = PhoneLog(device)
        self.ack_timeout_s = ack_timeout_s
        self.give_up_after_s = give_up_after_s
        self.max_backoff_s = max_backoff_s
        host = urlsplit(url).hostname or ""
        source = address or (loopback_for(device) if host.startswith("127.") else None)
        local = (source, 0) if source else None
        self.client = HubClient(url, "audience", device, local_addr=local)
        self._crowd: CrowdPhone | None = None
        if autopilot:
            self._crowd = CrowdPhone(url, device, CrowdStats(phones=1), local)
            self.client = self._crowd.client
        self._n = 0

    @property
    def voter_id(self) -> str | None:
        """The voter id of the credential the hub issued this phone (its votes' key in the store)."""
        return self.client.voter_id

    @property
    def state(self) -> State:
        """The latest state the hub sent this phone."""
        return self.client.state or {}

    async def connect(self, give_up_after_s: float = 60.0) -> None:
        """(Re)connect and say hello, with backoff, until the hub answers with its state."""
        backoff = 0.05
        deadline = time.monotonic() + give_up_after_s
        while True:
            try:
                await self.client.connect(5.0)
                return
            except Disconnected:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
                backoff = min(self.max_backoff_s, backoff * 2)

    async def close(self) -> None:
        await self.client.close()

    async def vote(self, round_id: int, label: str, cast_at: float | None = None) -> bool:
        """Send one vote and wait for its ack, reconnecting and resending as often as it takes.

        True when acknowledged; False when the hub refused it for good (its code is in `log.refused`).
        `cast_at` (the server-clock time of the tap, as the page sends it) goes with every resend.
        """
        self._n += 1
        msg_id = f"{self.log.device}-{self._n}"
        self.log.sent[msg_id] = label
        started = time.perf_counter()
        if self._crowd is not None:
            ok = await self._crowd.cast(round_id, label, msg_id, time.time() + 120)
            stats = self._crowd.stats
            self.log.reconnects, self.log.resends = stats.reconnects, stats.resent
            reply: dict[str, Any] = {"type": "ack"} if ok else {"type": "error", "code": _last_refusal(stats)}
        else:
            reply = await self._send_until_answered(round_id, label, msg_id, cast_at)
        self.log.voter = self.client.voter_id or self.log.voter
        if reply["type"] == "ack":
            self.log.acked.append(msg_id)
            self.log.latencies_ms.append((time.perf_counter() - started) * 1000)
            return True
        self.log.refused[msg_id] = str(reply.get("code"))
        return False

    async def _send_until_answered(self, round_id: int, label: str, msg_id: str,
                                   cast_at: float | None = None) -> dict[str, Any]:
        """The ack, or a refusal that a resend cannot change; the same message id (and cast time) every time."""
        frame: dict[str, Any] = {"type": "vote", "round": round_id, "label": label, "id": msg_id}
        if cast_at is not None:
            frame["cast_at"] = cast_at
        first = True
        deadline, last = time.monotonic() + self.give_up_after_s, "no answer yet"
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.log.device}: vote {msg_id} unanswered after {self.give_up_after_s:g} s "
                                   f"of resends (last: {last})")
            if not self.client.connected:
                await self.connect()
                self.log.reconnects += 1
            if not first:
                self.log.resends += 1
            first = False
            try:
                reply = await self.client.request(frame, timeout=self.ack_timeout_s)
            except Disconnected:
                last = "connection lost"
                continue
            except TimeoutError:
                last = f"no answer within {self.ack_timeout_s:g} s"
                await self.client.abort()  # no answer on this connection: drop it and resend on a new one
                continue
            if reply["type"] == "error" and reply.get("code") in RETRY_CODES:
                last = f"{reply.get('code')}: {reply.get('message')}"
                await asyncio.sleep(random.uniform(0.2, 0.5))
                continue
            return reply

    async def wait_for_voting(self, timeout: float = 30.0) -> None:
        """Wait until this phone sees the poll open (as the page waits before showing buttons)."""
        await self.client.wait_state(lambda s: bool(s.get("voting_open")), timeout)

    async def ping(self) -> float:
        """One ping round trip in milliseconds (the hub's responsiveness as a phone feels it)."""
        return await self.client.ping()


def loopback_for(device: str) -> str:
    """A loopback address of its own for each test phone (127.x.y.z, never 127.0.0.1), as on a venue network.

    The whole of 127.0.0.0/8 is loopback on Linux, so a client can bind any of it as its source address;
    one phone per address is the README's deployment, and what the hub's per-address vote limits expect.
    """
    n = zlib.crc32(device.encode()) % (250 * 250 * 250)
    return f"127.{1 + n // 62500}.{n // 250 % 250}.{1 + n % 250}"


def _last_refusal(stats: CrowdStats) -> str:
    """The code the autopilot's phone last counted as a refusal (it keeps counts, not the order)."""
    return max(stats.refused, key=lambda code: stats.refused[code]) if stats.refused else "gave_up"


async def connect_phones(url: str, n: int, prefix: str = "phone", concurrency: int = 100,
                         autopilot: bool = False) -> list[Phone]:
    """`n` phones connected and greeted, at most `concurrency` handshakes at a time."""
    phones = [Phone(url, f"{prefix}-{i:05d}", autopilot=autopilot) for i in range(n)]
    gate = asyncio.Semaphore(concurrency)

    async def one(p: Phone) -> None:
        async with gate:
            await p.connect()

    await asyncio.gather(*(one(p) for p in phones))
    return phones


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def latency_summary(lat: list[float]) -> dict[str, float]:
    """Median, p99 and max of latencies in milliseconds."""
    return {"p50_ms": round(statistics.median(lat), 2) if lat else 0.0, "p99_ms": round(percentile(lat, 99), 2),
            "max_ms": round(max(lat), 2) if lat else 0.0}
