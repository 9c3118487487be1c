"""The hub's WebSocket connection: a bounded kernel send buffer, and nothing left for the garbage collector.

Why, for each:
- A phone or stage that stops reading lets the kernel queue what the hub sends
  up to its autotuned send buffer (4 MB here): 1,000 stages that never read
  held 1.5 GB of kernel memory. `SO_SNDBUF` fixes the queue at `send_buffer`
  (the kernel doubles it for its bookkeeping); the hub's own buffer per
  connection is bounded by audience.broadcast.Outbox.
- On Python 3.11 every closed asyncio socket transport is a reference cycle
  (`_read_ready_cb` is a bound method of the transport itself; CPython fixed it
  in 3.12, gh-100348), and a connection that ends without a closing handshake
  keeps its parser's EOFError, whose traceback holds the parser's frame, which
  holds the protocol. Reference counting cannot free cycles, so 41,700 churned
  connections left 117 MB for a full collection to find, in one 1.1 s stop at
  the close of the poll. Breaking both once the connection is lost lets
  reference counting free every closed connection at once (tests/test_hub_gc.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable

from websockets.asyncio.connection import Connection
from websockets.asyncio.server import ServerConnection
from websockets.frames import DATA_OPCODES, Frame, Opcode
from websockets.protocol import Event, State


class HubConnection(ServerConnection):
    """A ServerConnection that caps its kernel send buffer, breaks its own reference cycles when closed, and
    lets the hub answer a text frame as soon as it is read (`inline`).

    `inline` (set by the hub's handler) is offered each complete text frame while the connection is
    open; when it returns True the frame is answered and never reaches websockets' message queue, so
    no task wakes for it: half of a bare echo server's CPU per message is that wake-up and the send
    coroutine (bench/hub_load.py). When it returns False the frame goes to the queue, which the
    handler task reads in order; `queued` counts the messages put there, so the hub can tell that
    none is waiting before it answers a later one inline.
    """

    send_buffer = 0  # bytes for SO_SNDBUF; 0 keeps the kernel's autotuning (see `connection_class`)
    inline: Callable[[str], bool] | None = None
    queued = 0  # complete data messages handed to websockets' queue (the handler task reads them)

    def process_event(self, event: Event) -> None:
        if isinstance(event, Frame) and event.opcode in DATA_OPCODES:
            if event.fin and event.opcode is Opcode.TEXT and self.inline is not None \
                    and self.protocol.state is State.OPEN:
                try:
                    text = str(event.data, "utf-8")
                except UnicodeDecodeError:  # websockets' own decoding closes the connection (1007)
                    pass
                else:
                    if self.inline(text):
                        return
            if event.fin:
                self.queued += 1
        super().process_event(event)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self.send_buffer > 0:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        # the transport finishes its own teardown (closes the socket) after this returns
        self.loop.call_soon(release, self)


def discard_unsent(connection: Connection) -> None:
    """Closing will throw away what the kernel still queues for this peer (a reset, not minutes of retries)."""
    sock = connection.transport.get_extra_info("socket") if connection.transport is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def release(connection: ServerConnection) -> None:
    """Break the reference cycles a lost connection keeps (see the module docstring)."""
    transport = connection.transport
    if transport is not None and transport.is_closing() and getattr(transport, "_read_ready_cb", None) is not None:
        transport._read_ready_cb = None  # type: ignore[attr-defined]  # what CPython 3.12 does on close
    for exc in (connection.protocol.parser_exc, connection.connection_exc):
        if exc is not None:
            exc.__traceback__ = None


def connection_class(send_buffer: int) -> type[HubConnection]:
    """The connection class `serve(create_connection=...)` builds, with this kernel send buffer."""
    return type("HubConnection", (HubConnection,), {"send_buffer": send_buffer})
