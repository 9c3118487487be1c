"""The baseline for bench/hub_load.py: a bare websockets echo server with the hub's own connection settings.

    python bench/echo_server.py PORT

Same library, same `serve` settings as audience/server.py (no compression,
the hub's frame size and keepalive from audience.options.HubOptions, max_queue 8,
close timeout 2 s); each
frame is sent straight back. `/healthz` answers like the hub's, so the event
loop's responsiveness is measured the same way on both.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from audience.options import HubOptions


async def echo(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


def healthz(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/ws":
        return None
    if request.path == "/healthz":
        return connection.respond(HTTPStatus.OK, '{"ok": true}\n')
    return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")


async def main(port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    hub = HubOptions()  # bench/hub_load.py starts each phase between this keepalive's waves, on both servers
    async with serve(echo, "127.0.0.1", port, process_request=healthz, compression=None, max_size=hub.max_size,
                     max_queue=8, ping_interval=hub.ping_interval, ping_timeout=hub.ping_timeout, close_timeout=2):
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
