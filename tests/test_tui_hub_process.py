"""The console's hub child as real processes: a crash leaves it serving, a restart adopts it, a quit stops ours.

Runs the real `finale run` in tmux on a copy of the demo event with a free port. Killing the tmux
server is the crash (SIGHUP; the hub child lives on in its own session, on purpose: phones stay
connected). The restarted console shows the orphan as `hub: up (adopted)`, starts its own hub when
the orphan dies, and stops that one on a normal quit. A port held by another program is named in
the header instead of a hub that silently fails to bind.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from finale.demo import DEMO_EVENT
from finale.hub_port import hub_database, process_args, same_file
from tests.hub_helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120),
              pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]


def _wait(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _event_on_port(tmp_path: Path, port: int) -> Path:
    """The demo event (and its rehearsal script) with the hub on `port`."""
    folder = tmp_path / "event"
    shutil.copytree(DEMO_EVENT.parent, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    event = folder / DEMO_EVENT.name
    text = re.sub(r"^port = \d+$", f"port = {port}", event.read_text(), flags=re.M)
    event.write_text(text.replace("127.0.0.1:8765", f"127.0.0.1:{port}"))
    return event


def _hub_pids(db: Path) -> list[int]:
    """Every running `finale hub` serving this database file."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            args = process_args(int(entry))
            served = hub_database(int(entry), args) if args else None
            if served is not None and same_file(served, db):
                pids.append(int(entry))
    return pids


class Terminal:
    """One tmux server with one 120x40 window per console run."""

    def __init__(self, name: str) -> None:
        self.tmux = ["tmux", "-L", name, "-f", "/dev/null"]

    def start(self, session: str, command: str) -> None:
        subprocess.run([*self.tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "40"], check=True)
        subprocess.run([*self.tmux, "set-option", "-t", session, "window-size", "manual"], check=True)
        subprocess.run([*self.tmux, "send-keys", "-t", session, command, "Enter"], check=True)

    def screen(self, session: str) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                              check=False).stdout

    def keys(self, session: str, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", session, *keys], check=True)

    def kill(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, check=False)


@pytest.mark.serial
def test_a_restarted_console_adopts_its_orphan_hub_and_a_quit_stops_the_hub_it_started(tmp_path: Path) -> None:
    port = free_port()
    event, db = _event_on_port(tmp_path, port), tmp_path / "show.db"
    run = f"cd {ROOT} && exec {sys.executable} -m finale.cli run {event} --db {db} --as mc"
    first, second = Terminal(f"finale-hub-a-{os.getpid()}"), Terminal(f"finale-hub-b-{os.getpid()}")
    try:
        first.start("show", run)
        _wait("our hub up", lambda: "hub: up · 0 phones" in first.screen("show"))
        [orphan] = _hub_pids(db)
        first.kill()  # the console's terminal goes away (SIGHUP): its hub stays for the phones
        time.sleep(1.0)
        assert _hub_pids(db) == [orphan]

        second.start("show", run)
        _wait("the orphan adopted", lambda: "hub: up (adopted)" in second.screen("show"))
        assert _hub_pids(db) == [orphan]  # no second hub fighting for the port
        os.kill(orphan, signal.SIGKILL)
        _wait("our own hub up", lambda: "hub: up · 0 phones" in second.screen("show")
              and "adopted" not in second.screen("show").splitlines()[0], timeout=30)
        [own] = _hub_pids(db)
        assert own != orphan

        second.keys("show", "C-q")  # no round is live, but quitting stops the hub this console started: asks
        _wait("the quit question", lambda: "Quit the console?" in second.screen("show"))
        second.keys("show", "y")
        _wait("the console to quit", lambda: "Question deck" not in second.screen("show"))
        _wait("the hub it started to stop", lambda: _hub_pids(db) == [], timeout=10)
        _wait("the stop on the record", lambda: f"stopped hub pid {own}" in Path(f"{db}.hub.log").read_text(),
              timeout=10)  # the console notes it as it leaves: the terminal must not be killed before
    finally:
        first.kill()
        second.kill()
        for pid in _hub_pids(db):
            os.kill(pid, signal.SIGKILL)
    log = Path(f"{db}.hub.log").read_text()
    assert f"adopted hub pid {orphan}" in log and f"stopped hub pid {own}" in log


def test_a_port_held_by_another_program_is_named_in_the_header(tmp_path: Path) -> None:
    port = free_port()
    event, db = _event_on_port(tmp_path, port), tmp_path / "show.db"
    squatter = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    term = Terminal(f"finale-hub-c-{os.getpid()}")
    try:
        time.sleep(0.5)
        term.start("show", f"cd {ROOT} && exec {sys.executable} -m finale.cli run {event} --db {db} --as mc")
        _wait("the blocked hub in the header",
              lambda: f"hub: blocked (port {port} taken by pid {squatter.pid})" in term.screen("show"))
        _wait("the toast saying what holds it and what to do", lambda: "hub blocked" in term.screen("show"), 5)
        assert _hub_pids(db) == []
        squatter.kill()
        squatter.wait(10)
        _wait("our hub once the port is free", lambda: "hub: up · 0 phones" in term.screen("show"), timeout=30)
    finally:
        term.kill()
        squatter.kill()
        squatter.wait(10)
        for pid in _hub_pids(db):
            os.kill(pid, signal.SIGKILL)


def _console_pids(db: Path) -> list[int]:
    """Running `finale run` consoles on this database."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            args = process_args(int(entry)) or []
            if "run" in args and str(db) in args and any(a.endswith("finale.cli") for a in args):
                pids.append(int(entry))
    return pids


def test_a_console_whose_terminal_hangs_up_without_sighup_closes_and_leaves_its_hub(tmp_path: Path) -> None:
    """Under `make` the hangup never reaches the console; it must notice the dead terminal by itself."""
    port = free_port()
    event, db = _event_on_port(tmp_path, port), tmp_path / "show.db"
    # `trap '' HUP` is inherited: the console ignores SIGHUP, as when a parent swallows it.
    run = f"cd {ROOT} && trap '' HUP && exec {sys.executable} -m finale.cli run {event} --db {db} --as mc"
    term = Terminal(f"finale-hub-d-{os.getpid()}")
    try:
        term.start("show", run)
        _wait("our hub up", lambda: "hub: up · 0 phones" in term.screen("show"))
        [hub] = _hub_pids(db)
        [console] = _console_pids(db)
        term.kill()
        _wait("the console to close", lambda: not Path(f"/proc/{console}").exists()
              or "zombie" in Path(f"/proc/{console}/status").read_text().lower(), timeout=10)
        assert _hub_pids(db) == [hub]  # phones stay connected; a restarted console adopts it
    finally:
        term.kill()
        for pid in _console_pids(db):
            os.kill(pid, signal.SIGKILL)
        for pid in _hub_pids(db):
            os.kill(pid, signal.SIGKILL)
    assert f"console lost its terminal; left hub pid {hub} running" in Path(f"{db}.hub.log").read_text()
