"""What the hub cannot store, said loudly: /healthz turns not ok with the reason, the log gets one line per interval.

Why: with the disk full the hub refused every vote (rightly: phones resend) but
logged nothing and /healthz said ok, so the console showed `hub: up` while the
audience's votes were going nowhere. Every write path (the vote writer, panel
scores, finalists' settings) reports here: a failure makes `problems()` name
what cannot be stored and why until a write of that kind succeeds again; the
log says so when it starts, then at most once per interval with the count
refused meanwhile, and once when writes succeed again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from finale.core.text import one_line

FAILURE_LOG_INTERVAL_S = 10.0
log = logging.getLogger("finale.hub")


@dataclass
class _Failing:
    reason: str
    since: float
    logged_at: float
    refused: int = 0  # refused since the last log line said how many
    total: int = 0


def failure_reason(what: str, exc: BaseException) -> str:
    """`votes cannot be stored: database or disk is full`: what, and the error in one inert line."""
    detail = one_line(str(exc)).strip() or type(exc).__name__
    return f"{what} cannot be stored: {detail[:200]}"


class WriteHealth:
    """Failing writes by kind ("votes", "panel scores", "finalists' settings"), for /healthz and the log."""

    def __init__(self, log_interval_s: float = FAILURE_LOG_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.log_interval_s = log_interval_s
        self.clock = clock
        self._failing: dict[str, _Failing] = {}

    def failed(self, what: str, exc: BaseException, refused: int = 1) -> None:
        """A write of `what` failed (`refused` items turned away); logged now or with the next interval's line."""
        now = self.clock()
        reason = failure_reason(what, exc)
        f = self._failing.get(what)
        if f is None:
            f = self._failing[what] = _Failing(reason, now, now, 0, refused)
            log.error("%s; refused and asked to resend (%d so far); said once per %.0f s until it recovers",
                      reason, refused, self.log_interval_s)
            return
        f.reason = reason
        f.refused += refused
        f.total += refused
        if now - f.logged_at >= self.log_interval_s:
            log.error("%s; %d refused in the last %.0f s, %d since it started %.0f s ago", reason, f.refused,
                      now - f.logged_at, f.total, now - f.since)
            f.logged_at, f.refused = now, 0

    def stored(self, what: str) -> None:
        """A write of `what` succeeded: it is no longer a problem (logged once if it was)."""
        f = self._failing.pop(what, None)
        if f is not None:
            log.warning("%s are stored again after %.0f s (%d refused meanwhile, each to be resent)", what,
                        self.clock() - f.since, f.total)

    def problems(self) -> list[str]:
        """What cannot be stored now, each with its reason; empty when every write works."""
        return [f.reason for f in self._failing.values()]

    def report(self) -> dict[str, Any]:
        """The failures for /healthz: reason, for how long, and how many were refused."""
        now = self.clock()
        return {what: {"reason": f.reason, "for_s": round(now - f.since, 1), "refused": f.total}
                for what, f in self._failing.items()}
