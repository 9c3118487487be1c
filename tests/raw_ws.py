"""A bare RFC 6455 client on a plain socket: it reads only when asked, so it can stop reading for good.

Why not the websockets client: its transport reads everything the hub sends
into its own buffers whether the code reads or not, so it cannot play a stage
that never reads (tests/test_hub_slow_readers.py, bench/hub_slow_readers.py);
and on Python 3.11 each of its closed connections is a reference cycle in the
test process, which would hide the hub's own garbage (tests/test_hub_gc.py,
bench/hub_churn.py). A plain socket leaves neither.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from typing import Any

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def frame(opcode: int, payload: bytes) -> bytes:
    """A final, masked client frame; the mask key is random per frame, as RFC 6455 asks."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = os.urandom(4)
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes((key * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
    return head + key + masked


def loopback(i: int) -> str:
    """A loopback address of its own for client `i` (127.0.0.2 on, skipping each /24's .0 and .255)."""
    n = 2 + i + 2 * ((i + 1) // 254)  # two skipped per 256
    return socket.inet_ntoa(struct.pack("!I", 0x7F000000 + n % 0xFFFFFF))


def upgrade_request(host: str, path: str = "/ws") -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode()


def split_frame(buf: bytearray) -> tuple[int, bytes] | None:
    """Take one whole (unmasked, server) frame off the front of `buf`, or None if it is not all there yet."""
    if len(buf) < 2:
        return None
    opcode, n, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, at = struct.unpack_from("!H", buf, 2)[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, at = struct.unpack_from("!Q", buf, 2)[0], 10
    if len(buf) < at + n:
        return None
    payload = bytes(buf[at:at + n])
    del buf[:at + n]
    return opcode, payload


class RawClient:
    """One connection: `open` (upgrade), `send`, `recv` only when called, `close` or `abort`."""

    def __init__(self, port: int, host: str = "127.0.0.1", source: str | None = None) -> None:
        self.host, self.port, self.source = host, port, source
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.buf = bytearray()

    async def open(self, timeout: float = 10.0) -> RawClient:
        loop = asyncio.get_running_loop()
        if self.source is not None:
            self.sock.bind((self.source, 0))
        async with asyncio.timeout(timeout):
            await loop.sock_connect(self.sock, (self.host, self.port))
            await loop.sock_sendall(self.sock, upgrade_request(f"{self.host}:{self.port}"))
            while b"\r\n\r\n" not in self.buf:
                chunk = await loop.sock_recv(self.sock, 4096)
                if not chunk:
                    raise ConnectionError("closed during the upgrade")
                self.buf += chunk
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
        self.buf = bytearray(rest)
        return self

    async def send(self, message: dict[str, Any]) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, frame(TEXT, json.dumps(message).encode()))

    async def recv(self, timeout: float = 10.0) -> tuple[int, bytes]:
        """The next frame (opcode, payload); pings are answered. ConnectionError at the end of the stream."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while True:
                got = split_frame(self.buf)
                if got is not None:
                    if got[0] == PING:
                        await loop.sock_sendall(self.sock, frame(PONG, got[1]))
                        continue
                    return got
                chunk = await loop.sock_recv(self.sock, 65536)
                if not chunk:
                    raise ConnectionError("the hub closed the connection")
                self.buf += chunk

    async def recv_json(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next text message as JSON; ConnectionError on a close frame or the end of the stream."""
        opcode, payload = await self.recv(timeout)
        if opcode == CLOSE:
            raise ConnectionError(f"closed {closing(payload)}")
        return dict(json.loads(payload))

    async def close(self) -> None:
        """A client close frame, then the socket (without waiting for the hub's reply)."""
        try:
            await asyncio.get_running_loop().sock_sendall(self.sock, frame(CLOSE, struct.pack("!H", 1000)))
        except OSError:
            pass
        self.sock.close()

    def abort(self) -> None:
        """Gone without a word: a reset, as a phone that loses the network."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def closing(payload: bytes) -> tuple[int | None, str]:
    """A close frame's code and reason."""
    if len(payload) < 2:
        return None, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode(errors="replace")


async def http_get(port: int, path: str, host: str = "127.0.0.1") -> bytes:
    """A plain HTTP GET on a plain socket (no asyncio transport); returns the status line and headers."""
    loop = asyncio.get_running_loop()
    with socket.socket() as sock:
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, port))
        await loop.sock_sendall(sock, f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = await loop.sock_recv(sock, 65536)
            if not chunk:
                break
            got += chunk
    return got.partition(b"\r\n\r\n")[0]


async def silent_stage(port: int, device: str, source: str | None = None) -> RawClient:
    """A stage that completes the upgrade and says hello, then never reads again."""
    client = await RawClient(port, source=source).open()
    await client.send({"type": "hello", "role": "stage", "device_id": device})
    return client
