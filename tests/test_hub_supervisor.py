"""The hub supervisor: a real `finale hub` child, killed and restarted."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from finale.store import Store
from finale.supervisor import HubSupervisor
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
