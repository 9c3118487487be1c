"""Runs the audience hub (`finale hub`) as a child process and restarts it if it dies.

The console (`finale run`, `finale demo`) owns one `HubSupervisor`:

    hub = HubSupervisor(db_path)            # host, port, public URL from the event's [hub] section
    hub.start()                             # returns at once; the hub comes up in the background
    hub.wait_ready(10)                      # optional: True once /healthz answers
    hub.alive, hub.pid, hub.restarts, hub.url
    hub.stop()                              # SIGTERM, then SIGKILL after a grace period

The hub's output goes to a log file (never to the console's screen): by
default `<database>.hub.log` beside the database, or `hub.log_file` from the
event file. The hub itself rotates it at a size cap (`finale hub --log-file`,
audience/hublog.py); the child's stdout and stderr point at it too, for what
is printed before logging starts. A child that dies is restarted after a backoff that doubles from
0.5 s up to 30 s, and resets once a child has stayed up for 30 s. Phones keep
their page and reconnect by themselves; votes live in the store.

A console killed without a clean quit leaves its hub running (phones stay
connected). Before starting a hub the supervisor asks who holds the port
(finale.hub_port): a `finale hub` serving the same database is adopted
(`hub.adopted`; watched by its process id, replaced by our own child when it
dies, left running when the console quits); any other program is named in
`hub.blocked_by` and the port is asked again every 2 s.

The same database means the same file, not the same path: the hub's /healthz
names the event id, device and inode it serves (finale.hub_port.check_identity).
A hub on our path serving another database (the organiser deleted `show.db*`
and started again) is named in the log and stopped (SIGTERM, SIGKILL after 5 s),
and ours starts in its place; one we may not signal is reported as blocking.

A hub that is alive but stops answering /healthz (SIGSTOP, a wedged loop) is
killed and replaced after 5 missed checks a second apart (finale.hub_health);
one missed answer is only shown. The new hub is told the old one's last
heartbeat (`--down-since`), so votes cast meanwhile count within the grace.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from finale.hub_health import HEALTH_INTERVAL_S, HEALTH_MISSES, HealthWatch, ask_health
from finale.hub_port import PortHolder, check_identity, hub_database, port_holder, process_args, same_file
from finale.store import Store

RECHECK_S = 2.0  # how often a blocked port is asked again
ADOPTED_POLL_S = 0.5  # how often an adopted hub's process is looked at
STALE_STOP_S = 5.0  # a stale hub gets this long after SIGTERM before SIGKILL
IDENTITY_WAIT_S = 10.0  # how long a hub on our path may take to answer /healthz before it is judged stale


class HubSupervisor:
    """Start, watch, restart and stop one `finale hub` child process."""

    def __init__(self, db_path: str | Path, host: str | None = None, port: int | None = None,
                 public_url: str | None = None, log_path: str | Path | None = None, *,
                 event_file: str | Path | None = None, min_backoff_s: float = 0.5, max_backoff_s: float = 30.0,
                 stable_after_s: float = 30.0, health_interval_s: float = HEALTH_INTERVAL_S,
                 health_misses: int = HEALTH_MISSES) -> None:
        self.db_path = Path(db_path)
        self.event_file = Path(event_file) if event_file is not None else None  # the store holds the event
        with Store(self.db_path) as store:
            config = store.event_config()
            self.event_id = store.event_id()
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
        self._adopted: int | None = None  # pid of a hub on our database that this supervisor did not start
        self.blocked_by: str | None = None  # why no hub of ours can run: another program holds the port
        self._holder: PortHolder | None = None
        self._spawned = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.health = HealthWatch(self.url, lambda: self.pid, self._stalled, interval_s=health_interval_s,
                                  timeout_s=min(1.0, health_interval_s), misses=health_misses)
        self._stalled_at: float | None = None

    @property
    def url(self) -> str:
        """Where this hub answers (pages, /healthz), as reached from this machine."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def alive(self) -> bool:
        """True while our hub runs: the child we started, or an adopted hub on the same database."""
        return self.pid is not None

    @property
    def pid(self) -> int | None:
        """The running hub's process id (our child's or the adopted one's)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            return proc.pid
        adopted = self._adopted
        return adopted if adopted is not None and self._adopted_alive(adopted) else None

    @property
    def adopted(self) -> bool:
        """True while the hub is one this supervisor found running (a console before us started it)."""
        return self._adopted is not None and self._proc is None

    @property
    def started(self) -> bool:
        """True once `start` has looked at the port (until `stop`)."""
        return self._thread is not None

    @property
    def blocked_short(self) -> str | None:
        """`blocked_by` short enough for the console's header."""
        return self._holder.short() if self.blocked_by is not None and self._holder is not None else None

    @property
    def health_note(self) -> str | None:
        """For the header: answers being missed now, or a restart of a hub that stopped answering (for a minute)."""
        if self.health.note is not None:
            return self.health.note
        if self._stalled_at is not None and time.monotonic() - self._stalled_at < 60:
            return "restarted: it stopped answering /healthz"
        return None

    def _stalled(self, pid: int, why: str) -> None:
        """The health watch gave up on hub `pid`: kill it (SIGKILL: a stopped process takes nothing else)."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._stalled_at = time.monotonic()
            self._note(f"{why}; killing it, another starts in its place")
            try:
                if self._proc is not None and self._proc.pid == pid:
                    self._proc.kill()
                elif self._adopted == pid:
                    os.kill(pid, signal.SIGKILL)
            except OSError as exc:
                self._note(f"could not kill hub pid {pid}: {exc}")

    def _adopted_alive(self, pid: int) -> bool:
        args = process_args(pid)
        served = hub_database(pid, args) if args is not None else None
        return served is not None and same_file(served, self.db_path)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "finale.cli", "hub", "--db", str(self.db_path), "--host", self.host,
                "--port", str(self.port), "--public-url", self.public_url, "--log-file", str(self.log_path)]

    def _note(self, line: str) -> None:
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} supervisor: {line}\n")

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            beat = self.health.last_heartbeat  # the hub before this one: votes cast since count within the grace
            down = ["--down-since", repr(beat)] if beat is not None else []
            return subprocess.Popen(self.command() + down, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                    start_new_session=True)

    def start(self) -> None:
        """Start (or adopt) the hub and the watcher thread; returns once the port has been looked at."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._place_hub()
        self._thread = threading.Thread(target=self._watch, name="hub-supervisor", daemon=True)
        self._thread.start()
        self.health.start()

    def _place_hub(self) -> None:
        """Ask who holds the port: start our child if nobody, adopt a hub on our database, else wait.

        A hub on our path that serves another database is stopped first, when we may signal it."""
        holder = self._holder_now()
        if holder.kind == "stale" and self._stop_stale(holder):
            holder = self._holder_now()
        with self._lock:
            if self._stopping.is_set():
                return
            if holder.kind == "free":
                self._proc = self._spawn()
                self.blocked_by = None
                if self._spawned:
                    self.restarts += 1
                    self._note(f"restarted hub as pid {self._proc.pid} (restart {self.restarts})")
                else:
                    self._note(f"started hub pid {self._proc.pid} on {self.host}:{self.port}")
                self._spawned += 1
            elif holder.kind == "same":
                self._adopted = holder.pid
                self.blocked_by = None
                self._note(f"adopted hub pid {holder.pid} already serving this database on port {self.port} "
                           "(left by an earlier console); a new one starts if it exits")
            elif holder.describe() != self.blocked_by:
                self._holder = holder
                self.blocked_by = holder.describe()
                self._note(f"cannot start the hub: {self.blocked_by}; asking again every {RECHECK_S:.0f}s")

    def _holder_now(self) -> PortHolder:
        """Who holds the port, a hub on our path judged by the database its /healthz names."""
        holder = port_holder(self.port, self.db_path, self.url.split("//", 1)[1].rsplit(":", 1)[0])
        if holder.kind != "same":
            return holder
        # A hub that is starting, or busy, gets as long to say what it serves as the health watch gives a
        # running one before replacing it: silent that long, it is stale whatever it serves.
        deadline = time.monotonic() + IDENTITY_WAIT_S
        health = ask_health(self.url, 2.0)
        while health is None and time.monotonic() < deadline and not self._stopping.is_set():
            time.sleep(0.2)
            health = ask_health(self.url, 2.0)
        return check_identity(holder, health, self.db_path, self.event_id)

    def _stop_stale(self, holder: PortHolder) -> bool:
        """Stop a hub on our path that serves another database: True once it has gone."""
        assert holder.pid is not None
        self._note(f"not adopting: {holder.describe()}; stopping it so this database's hub can start")
        try:
            os.kill(holder.pid, signal.SIGTERM)
            deadline = time.monotonic() + STALE_STOP_S
            while process_args(holder.pid) is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            if process_args(holder.pid) is not None:
                os.kill(holder.pid, signal.SIGKILL)
                time.sleep(0.2)
        except ProcessLookupError:
            pass
        except PermissionError as exc:
            self._note(f"cannot stop hub pid {holder.pid} ({exc.strerror}); it blocks the port")
            return False
        return process_args(holder.pid) is None

    def _watch(self) -> None:
        backoff = self.min_backoff_s
        while not self._stopping.is_set():
            proc, adopted = self._proc, self._adopted
            if proc is not None:
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
                    self._proc = None
            elif adopted is not None:
                if self._adopted_alive(adopted):
                    self._stopping.wait(ADOPTED_POLL_S)
                    continue
                self._note(f"adopted hub pid {adopted} has gone; starting our own")
                with self._lock:
                    self._adopted = None
            elif self._stopping.wait(RECHECK_S):
                return
            self._place_hub()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Block until our hub (own or adopted) answers /healthz (True) or the timeout passes (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                time.sleep(0.1)
                continue
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as resp:
                    if json.loads(resp.read()).get("ok"):
                        return True
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        return False

    def detach(self) -> None:
        """Stop watching but leave our hub running (the console lost its terminal; phones stay connected)."""
        self._stopping.set()
        self.health.stop(wait=False)
        with self._lock:
            pid = self._proc.pid if self._proc is not None else self._adopted
        if pid is not None:
            self._note(f"console lost its terminal; left hub pid {pid} running for a restarted console to adopt")

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop watching and end our child hub: SIGTERM (clean close for phones), SIGKILL after `grace_s`.

        An adopted hub is left running: this supervisor did not start it."""
        self._stopping.set()
        self.health.stop()
        with self._lock:
            proc = self._proc
            if self._adopted is not None and proc is None:
                self._note(f"console closed; left adopted hub pid {self._adopted} running")
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
