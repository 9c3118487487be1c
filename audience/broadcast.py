"""Sending one frame to many connections without stalling the event loop; a slow reader costs one frame at most.

The frame is encoded once; it is written to the connections in slices, and
between slices the loop runs other work (`await asyncio.sleep(0)`). Slice size
adapts so that a slice takes about `slice_s` (5 ms by default), keeping every
stall of the loop well under 10 ms however many phones are connected.

websockets' `broadcast` has no backpressure: a stage that stops reading got
every state written into its buffers (1,000 such stages, 40 states of 31 KB:
1.5 GB of kernel memory and a 338 ms broadcast slice). With an `Outbox`, a
connection that has not drained the previous frame (its transport still holds
unsent bytes) is not written to; it is owed the newest frame of that kind
instead, sent when it has drained (`catch_up`, called every poll interval):
coalesced, never a queue. One owed for longer than `slow_after_s` without
draining is dropped: closed 1013 with SLOW_REASON, counted in /healthz.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

from websockets.asyncio.connection import Connection, broadcast
from websockets.protocol import State

from audience.connection import discard_unsent

log = logging.getLogger("finale.hub")
SLOW_CODE = 1013  # try again later: the page reconnects (with backoff) and gets the newest state on hello
SLOW_REASON = "too slow to read the updates; reconnect for the newest"
KINDS = ("state", "tally")  # the order owed frames are sent in
DROPS_AT_ONCE = 64  # closes started per catch-up (each poll interval): 1,000 closes at once are one long stop


class Outbox:
    """The newest frame of each kind owed to each connection that has not drained the last one it was sent."""

    def __init__(self, slow_after_s: float = 5.0, close_grace_s: float = 2.0) -> None:
        self.slow_after_s = slow_after_s
        self.close_grace_s = close_grace_s
        self.owed: dict[Connection, dict[str, bytes]] = {}
        self.behind_since: dict[Connection, float] = {}
        self.coalesced = 0  # frames replaced by a newer one before they could be sent
        self.deferred = 0  # frames held back because the connection had not drained
        self.dropped = 0
        self._closing: set[asyncio.Task[None]] = set()

    def admit(self, ws: Connection, kind: str, data: bytes) -> bool:
        """True: write `data` now. False: it is owed instead (replacing an older owed frame of its kind)."""
        owed = self.owed.get(ws)
        if owed is None:
            if ws.transport.get_write_buffer_size() == 0:
                return True
            owed = self.owed[ws] = {}
            self.behind_since[ws] = time.monotonic()
        if kind in owed:
            self.coalesced += 1
        self.deferred += 1
        owed[kind] = data
        return False

    async def catch_up(self, slice_s: float = 0.005) -> None:
        """Send the owed frames to the connections that have drained; drop the ones behind for too long."""
        if not self.owed:
            return
        now = time.monotonic()
        ready: dict[tuple[str, bytes], list[Connection]] = {}
        drops = 0
        for ws, owed in list(self.owed.items()):
            if ws.protocol.state is not State.OPEN:
                self._forget(ws)
            elif ws.transport.get_write_buffer_size() == 0:
                self._forget(ws)
                for kind in KINDS:
                    if kind in owed:
                        ready.setdefault((kind, owed[kind]), []).append(ws)
            elif now - self.behind_since[ws] > self.slow_after_s and drops < DROPS_AT_ONCE:
                self._forget(ws)
                self._drop(ws)
                drops += 1
        if drops:
            self.dropped += drops
            log.warning("dropped %d slow connection(s): nothing read for %.0f s (%d dropped so far)", drops,
                        self.slow_after_s, self.dropped)
        for kind in KINDS:  # the state before the tally, as a connection that kept up would have had them
            for (k, data), targets in ready.items():
                if k == kind:
                    await broadcast_sliced(targets, data, slice_s=slice_s, kind=kind, outbox=self)

    def behind_bytes(self) -> int:
        """Bytes the hub itself holds unsent for the connections that are behind (at most a frame or so each)."""
        return sum(ws.transport.get_write_buffer_size() for ws in self.owed)

    def report(self) -> dict[str, Any]:
        return {"behind": len(self.owed), "behind_buffered_bytes": self.behind_bytes(), "coalesced": self.coalesced,
                "deferred": self.deferred, "dropped": self.dropped, "slow_after_s": self.slow_after_s}

    def _forget(self, ws: Connection) -> None:
        self.owed.pop(ws, None)
        self.behind_since.pop(ws, None)

    def _drop(self, ws: Connection) -> None:
        task = asyncio.get_running_loop().create_task(self._close(ws))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, ws: Connection) -> None:
        """Close 1013; a peer that does not read even the close frame within the grace is reset."""
        with contextlib.suppress(Exception):  # timed out, or the connection broke meanwhile
            await asyncio.wait_for(ws.close(SLOW_CODE, SLOW_REASON), self.close_grace_s)
        if ws.protocol.state is not State.CLOSED:
            discard_unsent(ws)
            ws.transport.abort()


async def broadcast_sliced(connections: Iterable[Connection], frame: str | bytes, slice_s: float = 0.005,
                           first_slice: int = 64, kind: str = "state", outbox: Outbox | None = None) -> float:
    """Send a text frame to every open connection (through `outbox` if given); returns the longest slice in seconds."""
    targets = list(connections)
    data = frame.encode() if isinstance(frame, str) else frame
    step = first_slice
    longest = 0.0
    i = 0
    while i < len(targets):
        started = time.perf_counter()
        chunk = targets[i:i + step]
        if outbox is not None:
            chunk = [ws for ws in chunk if ws.protocol.state is State.OPEN and outbox.admit(ws, kind, data)]
        broadcast(chunk, data, text=True)
        elapsed = time.perf_counter() - started
        longest = max(longest, elapsed)
        i += step
        if elapsed < slice_s / 2:
            step *= 2
        elif elapsed > slice_s:
            step = max(8, step // 2)
        if i < len(targets):
            await asyncio.sleep(0)
    return longest
