"""The hub as the console runs it (a child of the real HubSupervisor), and the event databases drills start from."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from finale.config import EventConfig, load_event
from finale.demo import DEMO_EVENT
from finale.store import Store
from finale.supervisor import HubSupervisor


@contextmanager
def supervised_hub(db_path: Path, port: int, log_path: Path) -> Iterator[HubSupervisor]:
    """`finale hub` started and watched by the real supervisor (fast restarts for drills)."""
    sup = HubSupervisor(db_path, "127.0.0.1", port, f"http://127.0.0.1:{port}", log_path, min_backoff_s=0.1,
                        max_backoff_s=0.5)
    sup.start()
    try:
        if not sup.wait_ready(60):
            raise RuntimeError(f"hub did not come up: {log_path.read_text()[-2000:]}")
        yield sup
    finally:
        sup.stop()


def ws_url(sup: HubSupervisor) -> str:
    """The supervised hub's WebSocket address."""
    return sup.url.replace("http://", "ws://") + "/ws"


async def wait_restarted(sup: HubSupervisor, old_pid: int, timeout: float = 60.0) -> None:
    """Until the supervisor has a new hub child and it answers /healthz."""
    deadline = time.monotonic() + timeout
    while sup.pid in (None, old_pid):
        if time.monotonic() > deadline:
            raise TimeoutError("the supervisor did not restart the hub")
        await asyncio.sleep(0.02)
    if not await asyncio.to_thread(sup.wait_ready, timeout):
        raise TimeoutError("the restarted hub never answered /healthz")


def hub_health(base: str) -> dict[str, Any]:
    """The hub's /healthz (writer figures: slowest commit, largest batch)."""
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as resp:
        return dict(json.loads(resp.read()))


def console_stand_in(db_path: Path, port: int, log_path: Path) -> None:
    """What `finale run` does with the hub: one HubSupervisor; prints `ready <ok> <hub pid>`, waits for a signal."""
    sup = HubSupervisor(db_path, "127.0.0.1", port, f"http://127.0.0.1:{port}", log_path, min_backoff_s=0.2,
                        max_backoff_s=1.0)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})  # sigwait takes them, not death
    sup.start()
    print("ready", sup.wait_ready(60), sup.pid, flush=True)
    try:
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
    finally:
        sup.stop()


@contextmanager
def orphan_hub(db_path: Path, port: int, log: Path) -> Iterator[int]:
    """A real console stand-in (supervisor + hub child) killed with SIGKILL: its hub lives on, as after a crash.

    Yields the orphan hub's pid; SIGKILLs it at the end if it is still there."""
    from finale.hub_port import process_args

    root = Path(__file__).resolve().parents[2]
    console = subprocess.Popen([sys.executable, "-m", "tests.drills", "console", str(db_path), str(port),
                                str(log)], stdout=subprocess.PIPE, text=True, cwd=root,
                               env={**os.environ, "PYTHONPATH": str(root)})
    assert console.stdout is not None
    words = console.stdout.readline().split()
    console.stdout.close()
    assert words[:2] == ["ready", "True"], (words, log.read_text() if log.exists() else "")
    orphan = int(words[2])
    console.kill()
    console.wait(10)
    try:
        assert process_args(orphan) is not None, "the hub child outlives its killed console"
        yield orphan
    finally:
        if process_args(orphan) is not None:
            os.kill(orphan, signal.SIGKILL)


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll `check` every 50 ms: True once it holds, False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def with_hub_limits(config: EventConfig, **limits: Any) -> EventConfig:
    """The event with its [hub] section changed (generous rate limits for fuzzing, a bind address...)."""
    return config.model_copy(update={"hub": config.hub.model_copy(update=limits)})


def new_event_db(db_path: Path, config: EventConfig | None = None) -> Path:
    """A fresh database holding the event (the demo event unless told otherwise)."""
    with Store(db_path) as store:
        store.setup_event(config or load_event(DEMO_EVENT))
    return db_path


def judged_db(db_path: Path, config: EventConfig | None = None) -> tuple[int, list[str]]:
    """A fresh event database whose first round is asked and judged, its poll not open yet; its id and labels."""
    from tests.hub_helpers import answered_round, director_for

    new_event_db(db_path, config)
    with Store(db_path) as store, ThreadPoolExecutor(1) as pool:  # its own thread: the caller may run a loop
        rnd = pool.submit(asyncio.run, answered_round(director_for(store))).result()
    return rnd.id, sorted(rnd.labels.values())


def voting_db(db_path: Path, window_s: float = 3600.0, config: EventConfig | None = None) -> tuple[int, list[str]]:
    """A fresh event database whose first round is asked, judged and open for votes; its id and labels."""
    from tests.hub_helpers import director_for, voting_round

    new_event_db(db_path, config)
    with Store(db_path) as store, ThreadPoolExecutor(1) as pool:  # its own thread: the caller may run a loop
        rnd = pool.submit(asyncio.run, voting_round(director_for(store), window_s)).result()
    return rnd.id, sorted(rnd.labels.values())
