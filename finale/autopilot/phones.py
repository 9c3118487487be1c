"""Simulated phones: real websockets clients that join through the hub and vote like an audience.

Each phone says hello as `audience`, waits for the voting state, then votes
with human-like timing: most in the first seconds of the window, a tenth change
their mind once their first vote is acknowledged, and a few lose their signal
right after sending, come back (hello again with the same device id and the
voter credential the hub issued them) and resend the unacknowledged vote with
its original message id, as the real page does. Each phone connects from a
loopback address of its own (`source_address`), one phone per address, as on
the venue network the hub's per-address limits expect.

What a phone votes for (and whether it changes its mind or drops out) comes
from a RNG seeded by the show's seed, the phone and the round, so a seed gives
the same votes on every run; only the timing varies with the machine.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from finale.autopilot.client import Disconnected, HubClient, State

# Refusals that a phone answers by waiting and resending, as the page does.
RETRYABLE = ("rate_limited", "unavailable")


@dataclass
class CrowdStats:
    """What the phones saw: every vote message sent, acknowledged or refused, and how long acks took."""

    phones: int = 0
    joined: int = 0
    reconnects: int = 0
    resent: int = 0
    join_failures: int = 0
    sent: set[str] = field(default_factory=set)
    acked: set[str] = field(default_factory=set)
    refused: dict[str, int] = field(default_factory=dict)
    ack_ms: list[float] = field(default_factory=list)
    # (round, device) -> the label of that device's last acknowledged vote: what the store must count
    final: dict[tuple[int, str], str] = field(default_factory=dict)

    def refuse(self, code: str) -> None:
        self.refused[code] = self.refused.get(code, 0) + 1


@dataclass(frozen=True)
class VotePlan:
    """One phone's behaviour in one round, drawn from its seeded RNG."""

    first: str
    first_at: float  # fraction of the window
    second: str | None
    second_at: float
    drops: bool
    back_after: float  # fraction of the window


def plan_vote(seed: int, device_id: str, round_id: int, taste: Mapping[str, float]) -> VotePlan:
    """Which label, when, whether the phone changes its mind or drops out; the same for the same seed."""
    rng = random.Random(f"{seed}:phone:{device_id}:{round_id}")
    labels = sorted(taste)
    weights = [taste[label] for label in labels]
    first = rng.choices(labels, weights)[0]
    first_at = min(0.55, rng.expovariate(1 / 0.08))  # most votes in the first seconds of the window
    changes = rng.random() < 0.10 and len(labels) > 1
    others = [(label, w) for label, w in zip(labels, weights, strict=True) if label != first]
    second = rng.choices([o[0] for o in others], [o[1] for o in others])[0] if changes else None
    second_at = min(0.8, first_at + rng.uniform(0.05, 0.2))
    drops = rng.random() < 0.05
    return VotePlan(first, first_at, second, second_at, drops, rng.uniform(0.02, 0.08))


def source_address(index: int, host: str) -> tuple[str, int] | None:
    """A loopback address of its own for phone `index` when the hub is on loopback, else the default route.

    One phone per address, as on the venue network of the README: the hub limits voting devices and new
    credentials per address. The whole of 127.0.0.0/8 is loopback, so 127.0.0.2 onwards (skipping the
    .0 and .255 of every /24) gives millions of phones an address each. A crowd sent to a hub on
    another machine shares this machine's address: raise that hub's `[voting]` limits for it.
    """
    if not host.startswith("127."):
        return None
    n = index + 1  # 127.0.0.1 is the console's and the tests' own
    return (f"127.{n // 63_500 % 250}.{n // 254 % 250}.{1 + n % 254}", 0)


class Phone:
    """One audience member's phone."""

    def __init__(self, url: str, device_id: str, stats: CrowdStats, local_addr: tuple[str, int] | None) -> None:
        self.client = HubClient(url, "audience", device_id, local_addr=local_addr)
        self.device_id = device_id
        self.stats = stats

    async def join(self, timeout: float = 30.0) -> bool:
        try:
            await self.client.connect(timeout)
        except Disconnected:
            self.stats.join_failures += 1
            return False
        self.stats.joined += 1
        return True

    async def _reconnect(self, give_up_at: float) -> None:
        delay = 0.05
        while True:
            try:
                await self.client.connect(max(1.0, give_up_at - time.time()))
                self.stats.reconnects += 1
                return
            except Disconnected:
                if time.time() + delay > give_up_at:
                    raise
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)

    async def cast(self, round_id: int, label: str, msg_id: str, give_up_at: float, drop: float | None = None
                   ) -> bool:
        """Send one vote until it is acknowledged or refused; `drop` (seconds) loses the signal once after sending."""
        self.stats.sent.add(msg_id)
        frame: dict[str, Any] = {"type": "vote", "round": round_id, "label": label, "id": msg_id}
        attempts = 0
        while time.time() < give_up_at:
            try:
                if not self.client.connected:
                    await self._reconnect(give_up_at)
                self.stats.resent += 1 if attempts else 0  # the same message id again, as the page resends
                attempts += 1
                started = time.perf_counter()
                reply = await self.client.request(frame, timeout=max(1.0, give_up_at - time.time()),
                                                  drop_after_send=drop is not None)
            except Disconnected:
                if drop is not None:
                    await asyncio.sleep(drop)
                    drop = None
                continue
            except TimeoutError:
                break
            if reply["type"] == "ack":
                self.stats.ack_ms.append((time.perf_counter() - started) * 1000)
                self.stats.acked.add(msg_id)
                self.stats.final[(round_id, self.client.voter_id or self.device_id)] = label
                return True
            self.stats.refuse(str(reply.get("code")))
            if reply.get("code") not in RETRYABLE:
                return False
            await asyncio.sleep(0.5)
        self.stats.refuse("gave_up")
        return False

    async def vote_round(self, round_id: int, taste: Mapping[str, float], seed: int, wait_s: float) -> None:
        """Wait for this round's poll to open, then vote as planned."""
        def open_for(s: State) -> bool:
            return s.get("round") == round_id and bool(s.get("voting_open"))

        try:
            seen = await self.client.wait_state(open_for, wait_s)
        except (TimeoutError, Disconnected):
            self.stats.refuse("never_saw_poll")
            return
        opened = time.time()
        deadline = float(seen["deadline"])
        window = max(0.5, deadline - opened)
        plan = plan_vote(seed, self.device_id, round_id, taste)
        give_up_at = deadline + 5.0
        await asyncio.sleep(plan.first_at * window)
        drop = plan.back_after * window if plan.drops else None
        ok = await self.cast(round_id, plan.first, f"{self.device_id}.r{round_id}.1", give_up_at, drop)
        if ok and plan.second is not None:
            await asyncio.sleep(max(0.0, opened + plan.second_at * window - time.time()))
            await self.cast(round_id, plan.second, f"{self.device_id}.r{round_id}.2", give_up_at)


class Crowd:
    """N phones on one hub: join all (a bounded number of handshakes at a time), vote each round, leave."""

    def __init__(self, url: str, phones: int, seed: int, *, host: str = "127.0.0.1", handshakes: int = 100) -> None:
        self.seed = seed
        self.stats = CrowdStats(phones=phones)
        self.phones = [Phone(url, f"autopilot-{seed}-{i:05d}", self.stats, source_address(i, host))
                       for i in range(phones)]
        self._gate = asyncio.Semaphore(handshakes)

    async def _join_one(self, phone: Phone) -> bool:
        async with self._gate:
            return await phone.join()

    async def join(self) -> int:
        """Connect every phone; returns how many are in."""
        results = await asyncio.gather(*(self._join_one(p) for p in self.phones))
        return sum(results)

    @property
    def connected(self) -> int:
        return sum(1 for p in self.phones if p.client.connected)

    async def vote_round(self, round_id: int, taste: Mapping[str, float], wait_s: float = 30.0) -> None:
        """Every phone votes in this round; returns when all are done (acknowledged, refused or given up)."""
        await asyncio.gather(*(p.vote_round(round_id, taste, self.seed, wait_s) for p in self.phones))

    async def leave(self) -> None:
        await asyncio.gather(*(p.client.close() for p in self.phones))
