"""Sending one frame to many connections without stalling the event loop.

The frame is encoded once; it is written to the connections in slices, and
between slices the loop runs other work (`await asyncio.sleep(0)`). Slice size
adapts so that a slice takes about `slice_s` (5 ms by default), keeping every
stall of the loop well under 10 ms however many phones are connected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from websockets.asyncio.connection import Connection, broadcast


async def broadcast_sliced(connections: Iterable[Connection], frame: str, slice_s: float = 0.005,
                           first_slice: int = 64) -> float:
    """Send a text frame to every open connection; returns the longest slice in seconds."""
    targets = list(connections)
    data = frame.encode()
    step = first_slice
    longest = 0.0
    i = 0
    while i < len(targets):
        started = time.perf_counter()
        broadcast(targets[i:i + step], data, text=True)
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
