"""Token buckets and connection counts that keep one device or one address from drowning the hub.

Limits are per key (a device id, a remote address) and cost O(1) per check.
A venue's phones often share one NAT address, so the per-address limits are
generous and configurable; the per-device ones are tight.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class TokenBucket:
    """`rate` events per second per key, bursts of up to `burst`; idle keys are forgotten."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a token bucket needs rate > 0 and burst >= 1; got rate={rate}, burst={burst}")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, key: str, cost: float = 1.0) -> bool:
        """Take `cost` tokens for `key`; False (and nothing taken) when there are not enough."""
        now = self.clock()
        b = self._buckets.get(key)
        if b is None:
            if len(self._buckets) >= self.max_keys:
                self.prune()
            b = self._buckets[key] = _Bucket(self.burst, now)
        else:
            tokens = b.tokens + (now - b.at) * self.rate
            b.tokens = tokens if tokens < self.burst else self.burst
            b.at = now
        if b.tokens >= cost:
            b.tokens -= cost
            return True
        return False

    def remaining(self, key: str) -> float:
        """Tokens `key` has now (a full bucket for a key never seen)."""
        b = self._buckets.get(key)
        if b is None:
            return self.burst
        return min(self.burst, b.tokens + (self.clock() - b.at) * self.rate)

    def prune(self) -> None:
        """Drop keys whose bucket has refilled (they would be recreated full anyway)."""
        now = self.clock()
        full_after = self.burst / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < full_after}

    def __len__(self) -> int:
        return len(self._buckets)


class ConnectionCounter:
    """Open connections per address, with a cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: dict[str, int] = {}
        self._total = 0  # kept as they open and close: /healthz asks it, with tens of thousands of addresses

    def full(self, address: str) -> bool:
        return self._open.get(address, 0) >= self.cap

    def add(self, address: str) -> None:
        self._open[address] = self._open.get(address, 0) + 1
        self._total += 1

    def remove(self, address: str) -> None:
        left = self._open.get(address, 0) - 1
        if left >= 0:
            self._total -= 1
        if left > 0:
            self._open[address] = left
        else:
            self._open.pop(address, None)

    def total(self) -> int:
        """Open connections, all addresses together."""
        return self._total
