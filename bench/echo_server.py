"""The baseline for bench/hub_load.py: a bare websockets echo server with the hub's own connection settings.

    python bench/echo_server.py PORT

Same library, same `serve` settings as audience/server.py (no compression,
the hub's frame size and keepalive from audience.options.HubOptions, max_queue 8,
close timeout 2 s); each
frame is sent straight back. `/healthz` answers like the hub's, so the event
loop's responsiveness is measured the same way on both. It keeps Python's default
garbage collector (a bare server), and its /healthz says what collecting cost,
with the hub's own hook (audience.gcpolicy.PauseLog), so bench/hub_load.py can
tell a burst's collections from the rest: 0.002-0.005 ms a message in the
2026-12-04 evening runs (bench/README.md).
"""

from __future__ import annotations

import asyncio
import gc
import json
import signal
import sys
from functools import partial
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from audience.gcpolicy import PauseLog
from audience.options import HubOptions


async def echo(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


def healthz(pauses: PauseLog, connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/ws":
        return None
    if request.path == "/healthz":
        gc_figures = {"collections": pauses.by_generation, "longest_pause_ms": round(pauses.longest_ms, 1),
                      "collecting_cpu_ms": [round(ms, 1) for ms in pauses.cpu_ms_by_generation]}
        return connection.respond(HTTPStatus.OK, json.dumps({"ok": True, "gc": gc_figures}) + "\n")
    return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")


async def main(port: int) -> None:
    pauses = PauseLog()  # this process's collections, for /healthz
    gc.callbacks.append(pauses)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    hub = HubOptions()  # bench/hub_load.py starts each phase between this keepalive's waves, on both servers
    async with serve(echo, "127.0.0.1", port, process_request=partial(healthz, pauses), compression=None,
                     max_size=hub.max_size, max_queue=8, ping_interval=hub.ping_interval,
                     ping_timeout=hub.ping_timeout, close_timeout=2):
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
