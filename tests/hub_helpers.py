"""Helpers for the hub tests: a round driven into voting by the real Director, and the hub in or out of process."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from audience.server import Hub, HubOptions
from finale.core.model import Round
from finale.core.switches import ShowSwitches
from finale.demo import DEMO_EVENT
from finale.director import Director, build_endpoints
from finale.store import Store
from tests import children
from tests.drills.phone import loopback_for

XSS = "<img src=x onerror=alert(1)>"


def set_switches(store: Store, **changes: Any) -> ShowSwitches:
    """Put the show's switches in a given state directly (a test set-up; the console goes through the Director)."""
    return store.save_switches(replace(store.switches(), **changes), "test", "test.switches")


def director_for(store: Store) -> Director:
    """The real Director with the rehearsal endpoints at speed 0 (instant answers)."""
    return Director(store, build_endpoints(store.event_config(), DEMO_EVENT.parent, time_scale=0))


async def answered_round(director: Director, question: str = "capital", seed: int = 11) -> Round:
    """A round asked and judged (ready for the panel and the poll)."""
    rnd = director.new_round(question, seed=seed)
    await director.ask(rnd.id)
    await director.judge(rnd.id)
    return director.store.round(rnd.id)


async def voting_round(director: Director, window_s: float = 60.0, question: str = "capital",
                       seed: int = 11) -> Round:
    """A round with its poll open for `window_s` seconds."""
    rnd = await answered_round(director, question, seed)
    return director.open_poll(rnd.id, window_s)


def plant_answer(store: Store, round_id: int, finalist_id: str, text: str) -> None:
    """Replace one stored answer's text (as a finalist's model could have written it)."""
    with store.transaction():
        store.conn.execute("UPDATE answers SET text=? WHERE round_id=? AND finalist_id=?",
                           (text, round_id, finalist_id))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def running_hub(db_path: Path, **overrides: Any) -> AsyncIterator[Hub]:
    """The real hub in this event loop on a free port of 127.0.0.1."""
    options = HubOptions(host="127.0.0.1", port=0, public_url="http://127.0.0.1:8765", **overrides)
    hub = Hub(db_path, options)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


def ws_url(hub: Hub) -> str:
    return f"ws://127.0.0.1:{hub.port}/ws"


async def recv_json(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout)))


async def recv_type(ws: ClientConnection, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next message of one type, skipping others (state broadcasts can interleave)."""
    deadline = time.monotonic() + timeout
    while True:
        msg = await recv_json(ws, max(0.01, deadline - time.monotonic()))
        if msg["type"] == kind:
            return msg


def wallet(hub: Hub) -> dict[str, str]:
    """The voter credentials this hub issued to the test's phones, by device name (as each page keeps its own)."""
    kept: dict[str, str] = hub.__dict__.setdefault("_test_wallet", {})
    return kept


def voter(hub: Hub, device: str) -> str:
    """The voter id the hub issued to a test phone: the key its votes are stored under."""
    return wallet(hub)[device].split(".")[1]


def device_names(hub: Hub) -> dict[str, str]:
    """Voter id -> the test phone's device name, to read the votes table in the test's own words."""
    return {cred.split(".")[1]: device for device, cred in wallet(hub).items()}


@asynccontextmanager
async def client(hub: Hub, role: str = "audience", device: str = "device-0001",
                 token: str | None = None, address: str | None = None
                 ) -> AsyncIterator[tuple[ClientConnection, dict[str, Any]]]:
    """A real websockets client that said hello; yields it and the first state.

    An audience phone keeps the voter credential the hub issued it and sends it again on its next
    hello, as the page does (see `wallet`); it connects from its own loopback address unless `address` says.
    """
    source = address or (loopback_for(device) if role == "audience" else None)
    async with connect(ws_url(hub), **({"local_addr": (source, 0)} if source else {})) as ws:
        hello: dict[str, Any] = {"type": "hello", "role": role, "device_id": device}
        if token is not None:
            hello["token"] = token
        if role == "audience" and device in wallet(hub):
            hello["credential"] = wallet(hub)[device]
        await ws.send(json.dumps(hello))
        first = await recv_type(ws, "state")
        if first.get("credential"):
            wallet(hub)[device] = first["credential"]
        yield ws, first


class HubProcess:
    """`finale hub` as a child process, for the browser tests that kill and restart it."""

    def __init__(self, db_path: Path, port: int, log_path: Path) -> None:
        self.db_path = db_path
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "finale.cli", "hub", "--db", str(self.db_path), "--host", "127.0.0.1",
             "--port", str(self.port), "--public-url", self.base],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        log.close()
        wait_healthy(self.base, timeout, self.proc)

    def kill(self) -> None:
        """SIGKILL: the hub dies without closing anything, like a crash."""
        children.kill(self.proc)

    def stop(self) -> None:
        children.stop(self.proc)


def wait_healthy(base: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> dict[str, Any]:
    """Poll /healthz until it answers; fail early if the process died."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"hub exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:
                return dict(json.loads(resp.read()))
        except OSError as exc:
            last = exc
            time.sleep(0.1)
    raise TimeoutError(f"hub at {base} not healthy after {timeout}s: {last}")


def http_status(url: str) -> int:
    """The HTTP status of a GET (404 and 429 are answers, not errors)."""
    import urllib.error

    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


async def vote_once(url: str, device: str, round_id: int, label: str, *, address: str = "127.0.0.1",
                    forwarded_for: str | None = None) -> dict[str, Any]:
    """A phone connecting from `address` (by default 127.0.0.1, where a load balancer would be), with an
    X-Forwarded-For header if given: says hello, votes once and returns the hub's answer (ack or error)."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else None
    async with connect(url, local_addr=(address, 0), additional_headers=headers) as ws:
        await ws.send(json.dumps({"type": "hello", "role": "audience", "device_id": device}))
        await recv_type(ws, "state", timeout=10)
        await ws.send(json.dumps({"type": "vote", "round": round_id, "label": label, "id": f"{device}-vote"}))
        while True:
            reply = await recv_json(ws, 10)
            if reply["type"] in ("ack", "error"):
                return reply
