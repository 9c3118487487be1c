"""The supervisor's eye on a running hub: a hub that stops answering /healthz is replaced, a busy one is not.

A hub that is alive but not running (SIGSTOP, a frozen VM, a deadlocked loop)
keeps its port and its phones while answering nothing; watching its process id
alone would never notice. `HealthWatch` asks /healthz every `interval_s` (each
try waits `timeout_s`); `misses` answers missed in a row (default 5, about 5 to
10 s of silence) make it call `on_stalled`, which kills the hub so the
supervisor starts another. One missed answer (a hub busy for a second, a slow
commit) is only counted and shown. An answer that says `ok: false` (failing
writes) is an answer: that hub runs, and stays.

Each answer's `heartbeat` (the hub's loop clock, audience/heartbeat.py) is kept:
the hub started in its place gets it as `--down-since`, so votes cast while no
hub ran still count within the grace (finale.core.poll.stalled_across).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

HEALTH_INTERVAL_S = 1.0
HEALTH_TIMEOUT_S = 1.0
HEALTH_MISSES = 5
STARTUP_S = 30.0  # a hub that never answered gets this long to come up before its silence counts


def ask_health(url: str, timeout_s: float = HEALTH_TIMEOUT_S) -> dict[str, Any] | None:
    """The hub's /healthz body, or None when nothing answered in time (an HTTP error status is an answer)."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=timeout_s) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:  # it answered, with an error: it is running
        try:
            body = json.loads(exc.read())
        except ValueError:
            body = {}
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else {}


class HealthWatch:
    """Asks one hub's /healthz on a thread of its own; calls `on_stalled(pid, why)` after `misses` silences."""

    def __init__(self, url: str, pid: Callable[[], int | None], on_stalled: Callable[[int, str], None], *,
                 interval_s: float = HEALTH_INTERVAL_S, timeout_s: float = HEALTH_TIMEOUT_S,
                 misses: int = HEALTH_MISSES, startup_s: float = STARTUP_S) -> None:
        self.url, self._pid, self._on_stalled = url, pid, on_stalled
        self.interval_s, self.timeout_s, self.misses_allowed, self.startup_s = interval_s, timeout_s, misses, startup_s
        self.missed = 0
        self.last_heartbeat: float | None = None  # the hub's own clock at its last answer
        self.last_body: dict[str, Any] | None = None
        self.stalled: str | None = None  # why the last hub was replaced, for the header and the log
        self._watched: int | None = None
        self._since = time.monotonic()
        self._first_miss = 0.0
        self._answered = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def note(self) -> str | None:
        """A few words for the console's header while answers are being missed."""
        if self.missed:
            return f"not answering /healthz: {self.missed} of {self.misses_allowed} checks missed"
        return None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="hub-health", daemon=True)
            self._thread.start()

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        if self._thread is not None and wait:
            self._thread.join(self.timeout_s + self.interval_s + 1)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()

    def check(self) -> None:
        """One look: a new hub starts afresh; a silence is counted; enough of them replace the hub."""
        pid = self._pid()
        if pid != self._watched:
            self._watched, self._since, self._answered, self.missed = pid, time.monotonic(), False, 0
        if pid is None:
            return
        body = ask_health(self.url, self.timeout_s)
        if body is not None:
            self._answered, self.missed, self.last_body = True, 0, body
            beat = body.get("heartbeat")
            if isinstance(beat, int | float) and not isinstance(beat, bool):
                self.last_heartbeat = float(beat)
            return
        if not self._answered and time.monotonic() - self._since < self.startup_s:
            return  # still starting up
        self.missed += 1
        if self.missed == 1:
            self._first_miss = time.monotonic()
        if self.missed >= self.misses_allowed:
            silent = time.monotonic() - self._first_miss + self.timeout_s
            self.stalled = (f"hub pid {pid} did not answer /healthz {self.missed} times in a row "
                            f"(silent for {silent:.0f} s, {self.timeout_s:g} s each)")
            self.missed = 0
            self._watched = None  # whatever comes next is watched afresh
            self._on_stalled(pid, self.stalled)
