"""Runs the audience hub (`finale hub`) as a child process and restarts it if it dies.

The console (`finale run`, `finale demo`) owns one `HubSupervisor`:

    hub = HubSupervisor(db_path)            # host, port, public URL from the event's [hub] section
    hub.start()                             # returns at once; the hub comes up in the background
    hub.wait_ready(10)                      # optional: True once /healthz answers
    hub.alive, hub.pid, hub.restarts, hub.url
    hub.stop()                              # SIGTERM, then SIGKILL after a grace period

The hub's output goes to a log file (never to the console's screen): by
default `<database>.hub.log` beside the database, or `hub.log_file` from the
event file. A child that dies is restarted after a backoff that doubles from
0.5 s up to 30 s, and resets once a child has stayed up for 30 s. Phones keep
their page and reconnect by themselves; votes live in the store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from finale.store import Store


class HubSupervisor:
    """Start, watch, restart and stop one `finale hub` child process."""

    def __init__(self, db_path: str | Path, host: str | None = None, port: int | None = None,
                 public_url: str | None = None, log_path: str | Path | None = None, *,
                 event_file: str | Path | None = None, min_backoff_s: float = 0.5, max_backoff_s: float = 30.0,
                 stable_after_s: float = 30.0) -> None:
        self.db_path = Path(db_path)
        self.event_file = Path(event_file) if event_file is not None else None  # the store holds the event
        with Store(self.db_path) as store:
            config = store.event_config()
        self.host = host or config.hub.host
        self.port = port if port is not None else config.hub.port
        self.public_url = public_url or config.event.public_url
        default_log = config.hub.log_file or self.db_path.with_name(self.db_path.name + ".hub.log")
        self.log_path = Path(log_path) if log_path is not None else Path(default_log)
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.stable_after_s = stable_after_s
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where this hub answers (pages, /healthz), as reached from this machine."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def alive(self) -> bool:
        """True while a hub child process is running."""
        proc = self._proc
        return proc is not None and proc.poll() is None

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "finale.cli", "hub", "--db", str(self.db_path), "--host", self.host,
                "--port", str(self.port), "--public-url", self.public_url]

    def _note(self, line: str) -> None:
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} supervisor: {line}\n")

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            return subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)

    def start(self) -> None:
        """Start the hub and the watcher thread; returns immediately."""
        if self._thread is not None:
            return
        self._stopping.clear()
        with self._lock:
            self._proc = self._spawn()
        self._note(f"started hub pid {self._proc.pid} on {self.host}:{self.port}")
        self._thread = threading.Thread(target=self._watch, name="hub-supervisor", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        backoff = self.min_backoff_s
        while not self._stopping.is_set():
            proc = self._proc
            assert proc is not None
            started = time.monotonic()
            code = proc.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= self.stable_after_s:
                backoff = self.min_backoff_s
            self._note(f"hub pid {proc.pid} exited with status {code}; restarting in {backoff:.1f}s")
            if self._stopping.wait(backoff):
                return
            backoff = min(self.max_backoff_s, backoff * 2)
            with self._lock:
                if self._stopping.is_set():
                    return
                self._proc = self._spawn()
                self.restarts += 1
            self._note(f"restarted hub as pid {self._proc.pid} (restart {self.restarts})")

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Block until /healthz answers (True) or the timeout passes (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as resp:
                    if json.loads(resp.read()).get("ok"):
                        return True
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        return False

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop watching and end the hub: SIGTERM (clean close for phones), SIGKILL after `grace_s`."""
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(grace_s)
            self._note(f"stopped hub pid {proc.pid}")
        if self._thread is not None:
            self._thread.join(grace_s)
            self._thread = None
