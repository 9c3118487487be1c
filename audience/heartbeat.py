"""The hub's heartbeat: the event loop notes the time every beat, so the hub knows when it was not running.

A hub that was stopped (SIGSTOP, a frozen VM, a swap storm) reads the votes
that waited in the kernel all at once when it runs again, after the deadline.
The core (`finale.core.poll.stalled_across`) counts such a vote by the phone's
own cast time, but only across a gap the hub can vouch for: this heartbeat says
what the last beat before a vote was read is.

- While the loop runs, the last beat is at most one beat old, so a client that
  backdates its cast time gains nothing.
- A gap longer than `stall_s` is kept as a stall (since, until). A frame read
  before the loop's next beat after it (it has caught up with what waited in the
  kernel by then, however long that takes) whose phone says it was cast before
  `until` had waited through it, so its heartbeat is the stall's start. After
  that, a claimed cast time in the stall is not believed.
- A hub started by its supervisor in place of one that stopped answering or died
  starts with that outage as its stall (`down_since` to its own start), held for
  the grace (phones must reconnect first): a phone may claim a cast time in the
  outage for that long, and the core still needs a close inside the gap.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, replace

log = logging.getLogger("finale.hub")

BEAT_S = 0.1  # how often the loop notes the time
STALL_S = 1.0  # a gap between beats longer than this is a stall (the loop was not running)


@dataclass(frozen=True)
class Stall:
    """A time the hub was not running (`since` its last beat `until` its first beat after), vouched for until
    `settled`: the loop's next beat after it (infinite until that beat), or the grace after a restart."""

    since: float
    until: float
    settled: float


class Heartbeat:
    """The loop's beat and its last stall; `run` is one of the hub's tasks."""

    def __init__(self, down_since: float | None = None, grace_s: float = 0.0, beat_s: float = BEAT_S,
                 stall_s: float = STALL_S) -> None:
        now = time.time()
        self.beat_s, self.stall_s = beat_s, stall_s
        self.last = now
        self.stall: Stall | None = None
        if down_since is not None and down_since < now:  # the outage this hub was started to end
            self.stall = Stall(down_since, now, now + grace_s)

    def before(self, read_at: float, sent_at: float) -> float:
        """The last beat before a frame read at `read_at`: a stall's start for a frame that waited through it."""
        stall = self.stall
        if stall is not None and sent_at < stall.until and stall.since <= read_at <= stall.settled:
            return stall.since
        return min(self.last, read_at)

    def beat(self, now: float) -> Stall | None:
        """Note one beat; the stall it ends, if the gap since the last one was long.

        A gap that starts while an earlier stall is still vouched for (a restart's outage within its
        grace, say: a new hub busy for a second under load before its phones have reconnected) extends
        that stall rather than replacing it, so a vote that waited through both still has the first's start.
        """
        ended = None
        if now - self.last > self.stall_s:
            ended = Stall(self.last, now, math.inf)
            held = self.stall if self.stall is not None and self.last <= self.stall.settled else None
            self.stall = ended if held is None else \
                Stall(held.since, now, held.settled if held.settled > now else math.inf)
        elif self.stall is not None and self.stall.settled == math.inf:
            self.stall = replace(self.stall, settled=now)  # caught up: what waited in the kernel has been read
        self.last = now
        return ended

    async def run(self) -> None:
        """Beat every `beat_s` for as long as the hub runs; log each stall."""
        while True:
            await asyncio.sleep(self.beat_s)
            ended = self.beat(time.time())
            if ended is not None:
                log.warning("the hub was not running for %.1f s (its event loop stalled); votes cast in that time "
                            "count by the phone's cast time within the grace", ended.until - ended.since)
