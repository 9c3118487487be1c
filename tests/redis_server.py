"""A private, real `redis-server` (Debian's package) on a free loopback port, in a throwaway folder.

No fakeredis: every claim about several hub processes is checked against the real server,
its Lua functions, its streams and its append-only file. `kill()` is a kill -9 of the
server; `start()` again restarts it on the same port and folder (the AOF replays).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests import children

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server process with AOF `everysec` (the event's default durability)."""

    def __init__(self, folder: Path, appendfsync: str = "everysec", appendonly: str = "yes",
                 extra: tuple[str, ...] = ()) -> None:
        self.folder = folder
        self.port = _free_port()
        self.appendfsync = appendfsync
        self.appendonly = appendonly
        self.extra = extra  # more redis-server arguments (e.g. --replicaof HOST PORT)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart) the server and wait until it answers PING."""
        if not Path(REDIS_SERVER).exists():
            pytest.fail(f"{REDIS_SERVER} is missing: run `make browsers` (installs Debian's redis-server)")
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", self.appendonly, "--appendfsync", self.appendfsync, "--save", "", "--daemonize", "no",
             "--logfile", str(self.folder / "redis.log"), "--protected-mode", "yes", *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith((b"+PONG", b"-LOADING", b"-MASTERDOWN")):  # up (a replica may sync)
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}; see {self.folder / 'redis.log'}")

    def kill(self) -> None:
        """kill -9: no shutdown, no final fsync."""
        children.kill(self.proc)

    def stop(self) -> None:
        children.stop(self.proc)


def _served(folder: Path, appendfsync: str) -> Iterator[RedisServer]:
    folder.mkdir()
    server = RedisServer(folder, appendfsync)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server for one test (AOF everysec, the event's default), stopped after it."""
    yield from _served(tmp_path / "redis", "everysec")


@pytest.fixture
def redis_always(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server with AOF `always`: it fsyncs before it replies, so a kill -9 loses nothing acknowledged.

    With `everysec` Redis postpones its AOF write while a background fsync is still running (up to 2 s)
    and replies meanwhile, so on a slow disk a kill -9 can lose acknowledged writes (a CI run lost 26).
    """
    yield from _served(tmp_path / "redis", "always")


async def entries_added(redis: Redis, stream: str) -> int:
    """How many entries were ever appended to a stream (XINFO STREAM), however many the drain trimmed since."""
    info = await redis.xinfo_stream(stream)
    return int(info["entries-added"])
