"""How long the hub's event loop stalls, measured from inside: a monitor task and per-second peaks.

Why: a stall is what a phone feels (an ack, a state, the reveal arrive late),
and what a GET /healthz from outside can only sample. The monitor sleeps
`tick_s` and notes how much later than asked it woke up: that overshoot is the
longest the loop ran something else without yielding (a garbage collection, a
broadcast slice, a slow callback). Peaks are kept per wall-clock second for the
last `keep_s` seconds, so /healthz can say when a stall happened (the bench
lines them up with its phases: churn, the close, the reveal).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

TICK_S = 0.005
KEEP_S = 180


class PeakHistory:
    """The largest value noted in each wall-clock second of the last `keep_s`, and the largest ever."""

    def __init__(self, keep_s: int = KEEP_S) -> None:
        self.seconds: deque[list[float]] = deque(maxlen=keep_s)  # [second, peak]
        self.longest = 0.0
        self.longest_at: float | None = None
        self.count = 0
        self.over_100ms = 0

    def note(self, value_ms: float, at: float | None = None) -> None:
        at = time.time() if at is None else at
        second = float(int(at))
        self.count += 1
        if value_ms > 100.0:
            self.over_100ms += 1
        if value_ms > self.longest:
            self.longest, self.longest_at = value_ms, at
        if self.seconds and self.seconds[-1][0] == second:
            self.seconds[-1][1] = max(self.seconds[-1][1], value_ms)
        else:
            self.seconds.append([second, value_ms])

    def peak_since(self, since: float) -> float:
        """The largest value noted in the seconds from `since` on (whole seconds: up to 1 s early)."""
        return max((peak for second, peak in self.seconds.copy() if second >= int(since)), default=0.0)

    def report(self, min_ms: float = 2.0) -> dict[str, Any]:
        """For /healthz: the longest, how many over 100 ms, and the seconds whose peak reached `min_ms`.

        Iterates a copy: a gc callback (audience.gcpolicy.PauseLog) may note a pause in the middle.
        """
        seconds = self.seconds.copy()
        return {"longest_ms": round(self.longest, 2), "longest_at": self.longest_at, "over_100ms": self.over_100ms,
                "count": self.count,
                "by_second": [[int(s), round(p, 1)] for s, p in seconds if p >= min_ms]}


class LoopLag:
    """The hub's loop-lag monitor; `run` is one of the hub's tasks, `stalls` its history.

    `busy` keeps, for the same ticks, the loop thread's own CPU time in the
    interval (capped by the stall): on a shared machine a stall with little CPU
    is the process waiting for a core or for the GIL, not the hub's own work.
    """

    def __init__(self, tick_s: float = TICK_S, keep_s: int = KEEP_S) -> None:
        self.tick_s = tick_s
        self.stalls = PeakHistory(keep_s)
        self.busy = PeakHistory(keep_s)

    async def run(self) -> None:
        """Sleep a tick, note the overshoot (and the CPU used meanwhile), forever (cancelled with the hub)."""
        clock, cpu, wall = time.perf_counter, time.thread_time, time.time
        asked, cpu_before = clock(), cpu()
        while True:
            await asyncio.sleep(self.tick_s)
            woke, cpu_now, at = clock(), cpu(), wall()  # one reading of each clock per tick (200 a second)
            lag = max(0.0, (woke - asked - self.tick_s) * 1000)
            self.stalls.note(lag, at)
            self.busy.note(min(lag, (cpu_now - cpu_before) * 1000), at)
            asked, cpu_before = woke, cpu_now

    def report(self) -> dict[str, Any]:
        return {**self.stalls.report(), "cpu": self.busy.report(min_ms=5.0)}
