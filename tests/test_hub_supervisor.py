"""The hub supervisor: a real `finale hub` child, killed and restarted; a hub left by a killed console adopted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from finale.hub_port import port_holder, process_args
from finale.store import Store
from finale.supervisor import HubSupervisor
from tests.drills.hub import orphan_hub as _orphan_hub
from tests.hub_helpers import free_port

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]


def test_supervisor_restarts_a_killed_hub_and_logs_to_a_file(store: Store, db_path: Path, tmp_path: Path) -> None:
    log = tmp_path / "hub.log"
    sup = HubSupervisor(db_path, "127.0.0.1", free_port(), "http://127.0.0.1:9999", log, min_backoff_s=0.2)
    sup.start()
    try:
        assert sup.wait_ready(20), log.read_text()
        first = sup.pid
        assert first is not None and sup.alive
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while (sup.pid in (None, first)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sup.pid not in (None, first) and sup.restarts == 1
        assert sup.wait_ready(20)
    finally:
        sup.stop()
    assert not sup.alive
    text = log.read_text()
    assert "exited with status -9; restarting" in text and "restarted hub" in text and "stopped hub" in text
    assert "hub listening on" in text


def test_supervisor_defaults_come_from_the_event(store: Store, db_path: Path) -> None:
    sup = HubSupervisor(db_path=db_path, event_file=None)
    assert (sup.host, sup.port) == ("127.0.0.1", 8765)
    assert sup.log_path == db_path.with_name("event.db.hub.log")
    assert sup.url == "http://127.0.0.1:8765" and not sup.alive


# -- a hub left running by a console that was killed: adopt it; anything else on the port: say so -------------------


def _wait(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _gone(pid: int) -> bool:
    return process_args(pid) is None


def test_a_restarted_console_adopts_the_hub_left_on_its_database_and_replaces_it_when_it_dies(
        store: Store, db_path: Path, tmp_path: Path) -> None:
    port = free_port()
    with _orphan_hub(db_path, port, tmp_path / "first.log") as orphan:
        log = tmp_path / "hub.log"
        sup = HubSupervisor(db_path, "127.0.0.1", port, f"http://127.0.0.1:{port}", log, min_backoff_s=0.2)
        sup.start()
        try:
            assert sup.adopted and sup.alive and sup.pid == orphan and sup.started
            assert sup.blocked_by is None and sup.wait_ready(10)
            os.kill(orphan, signal.SIGKILL)  # the adopted hub dies: the supervisor starts its own on the port
            assert _wait(lambda: sup.pid not in (None, orphan)), log.read_text()
            own = sup.pid
            assert own is not None and not sup.adopted and sup.wait_ready(20)
        finally:
            sup.stop()
        assert _wait(lambda: _gone(own)), "a normal stop ends the hub this supervisor started"
    text = log.read_text()
    assert f"adopted hub pid {orphan}" in text and f"adopted hub pid {orphan} has gone" in text
    assert "started hub pid" in text and "stopped hub" in text


def test_stopping_leaves_an_adopted_hub_running(store: Store, db_path: Path, tmp_path: Path) -> None:
    port = free_port()
    with _orphan_hub(db_path, port, tmp_path / "first.log") as orphan:
        sup = HubSupervisor(db_path, "127.0.0.1", port, f"http://127.0.0.1:{port}", tmp_path / "hub.log")
        sup.start()
        assert sup.adopted and sup.pid == orphan
        sup.stop()
        time.sleep(0.5)
        assert not _gone(orphan), "the console did not start it, so it does not stop it"
        assert "left adopted hub pid" in (tmp_path / "hub.log").read_text()


def test_another_program_on_the_port_is_named_and_the_hub_starts_once_it_leaves(
        store: Store, db_path: Path, tmp_path: Path) -> None:
    port = free_port()
    squatter = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait(lambda: port_holder(port, db_path).kind == "foreign")
        log = tmp_path / "hub.log"
        sup = HubSupervisor(db_path, "127.0.0.1", port, f"http://127.0.0.1:{port}", log, min_backoff_s=0.2)
        sup.start()
        try:
            assert not sup.alive and not sup.adopted and sup.pid is None
            assert sup.blocked_by is not None and f"port {port} is held by another program" in sup.blocked_by
            assert f"pid {squatter.pid}" in sup.blocked_by and "http.server" in sup.blocked_by
            assert sup.blocked_short == f"port {port} taken by pid {squatter.pid}" and not sup.wait_ready(1)
            squatter.kill()
            squatter.wait(10)
            assert _wait(lambda: sup.alive, 20), log.read_text()
            assert sup.blocked_by is None and sup.wait_ready(20) and not sup.adopted
        finally:
            sup.stop()
        assert "cannot start the hub: port" in log.read_text()
    finally:
        squatter.kill()
        squatter.wait(10)


def test_a_hub_on_another_database_is_not_adopted(store: Store, db_path: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with Store(other) as s:
        s.setup_event(store.event_config())
    port = free_port()
    with _orphan_hub(other, port, tmp_path / "other.log") as orphan:
        sup = HubSupervisor(db_path, "127.0.0.1", port, f"http://127.0.0.1:{port}", tmp_path / "hub.log")
        sup.start()
        try:
            assert not sup.alive and not sup.adopted
            assert sup.blocked_by == (f"port {port} is held by another finale hub (pid {orphan}, database {other})")
        finally:
            sup.stop()
        assert not _gone(orphan)
