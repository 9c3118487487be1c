"""Who holds the hub's TCP port: nobody, a `finale hub` serving our database, or some other program.

A console killed without a clean quit (tmux closed, SIGHUP, kill -9) leaves its
hub child running on purpose: phones stay connected while the console restarts.
The restarted console's supervisor asks `port_holder` before it starts a hub:
a hub serving the same database file is adopted (shown as up, supervised by
watching its process id), anything else on the port is named in the header and
the log instead of a hub that silently fails to bind.

The listening socket is found in /proc/net/tcp{,6} and traced to its process
through /proc/<pid>/fd; the process's command line says whether it is
`finale hub --db <file>` and which file. Where /proc cannot say (another user's
process, another OS), a port that accepts connections is reported as held by
another program.

A path is not an identity: an organiser who deletes `show.db*` and starts again
gets a new file at the same path while the old hub still serves the deleted
one. So a hub on our path is adopted only when its /healthz `database` says it
serves this very file (`check_identity`: the event id made at setup, the
device and inode); otherwise it is `stale`, named by what it serves.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

LISTEN = "0A"


@dataclass(frozen=True)
class PortHolder:
    """What listens on the port: `kind` is free, same (a hub on our database), stale (a hub on our path
    serving another database: `serves` says which) or foreign."""

    kind: str
    port: int
    pid: int | None = None
    command: str = ""
    db: str | None = None
    serves: str | None = None

    def short(self) -> str:
        """A few words for the console's header."""
        if self.kind == "stale":
            return f"port {self.port}: hub pid {self.pid} on another database"
        return f"port {self.port} taken" + (f" by pid {self.pid}" if self.pid is not None else "")

    def describe(self) -> str:
        """One line for the header, the toast and the hub log."""
        if self.kind == "free":
            return f"port {self.port} is free"
        if self.kind == "same":
            return f"port {self.port}: finale hub pid {self.pid} on this database"
        if self.kind == "stale":
            return f"port {self.port} is held by a finale hub (pid {self.pid}) that serves {self.serves}"
        if self.db is not None:
            return f"port {self.port} is held by another finale hub (pid {self.pid}, database {self.db})"
        if self.pid is not None:
            return f"port {self.port} is held by another program (pid {self.pid}: {self.command})"
        return f"port {self.port} is held by another program"


def _listening_inodes(port: int) -> set[str] | None:
    """Socket inodes listening on `port` (any address), or None without a readable /proc/net."""
    inodes: set[str] = set()
    readable = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes if readable else None


def _pid_owning(inodes: set[str]) -> int | None:
    """The process holding one of these sockets, if this user may see it."""
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            for fd in os.scandir(f"/proc/{entry.name}/fd"):
                if os.readlink(fd.path) in wanted:
                    return int(entry.name)
        except OSError:  # gone, or another user's process
            continue
    return None


def process_args(pid: int) -> list[str] | None:
    """A process's command line, or None once it has gone (or is a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return None
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return None
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def hub_database(pid: int, args: list[str]) -> Path | None:
    """The database a `finale hub --db FILE` process serves (resolved from its working folder), else None."""
    if "hub" not in args or not any(Path(a).name in ("finale", "finale.cli") for a in args):
        return None
    db: str | None = None
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            db = args[i + 1]
        elif arg.startswith("--db="):
            db = arg.removeprefix("--db=")
    if db is None:
        return None
    path = Path(db)
    if not path.is_absolute():
        try:
            path = Path(os.readlink(f"/proc/{pid}/cwd")) / path
        except OSError:
            return None
    return path


def same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path` now, or None when there is none: what identifies an open file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def served_text(database: dict[str, Any]) -> str:
    """What a hub's /healthz `database` names: event name, path, and "deleted" when the path no longer is it."""
    event = database.get("event")
    where = f"{database.get('path')}" + (" (deleted)" if database.get("deleted") else "")
    return (f"event {event!r} from " if event else "") + where


def check_identity(holder: PortHolder, health: dict[str, Any] | None, db_path: Path,
                   event_id: str | None) -> PortHolder:
    """A `same` holder stays `same` only if its /healthz says it serves this very database, else it is `stale`.

    This very database: the same event id (made at setup) and the same device and inode as the file
    at `db_path` now, and not deleted. A hub that does not say (no answer, an older hub) is stale too.
    """
    if holder.kind != "same":
        return holder
    database = health.get("database") if isinstance(health, dict) else None
    if not isinstance(database, dict):
        why = "no database it can name (it does not answer /healthz)" if health is None else \
            "a database it does not name (/healthz has no identity)"
        return replace(holder, kind="stale", serves=why)
    ours = file_id(db_path)
    if database.get("event_id") == event_id and not database.get("deleted") and ours is not None \
            and (database.get("dev"), database.get("ino")) == ours:
        return holder
    return replace(holder, kind="stale", serves=f"another database: {served_text(database)}")


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def port_holder(port: int, db_path: Path, connect_host: str = "127.0.0.1") -> PortHolder:
    """Who listens on `port`, judged against our database `db_path`."""
    inodes = _listening_inodes(port)
    if inodes is None:  # no /proc: only "free" or "someone"
        return PortHolder("foreign", port) if _accepts(connect_host, port) else PortHolder("free", port)
    if not inodes:
        return PortHolder("free", port)
    pid = _pid_owning(inodes)
    if pid is None:
        return PortHolder("foreign", port)
    args = process_args(pid) or []
    command = " ".join(args)[:80]
    served = hub_database(pid, args)
    if served is None:
        return PortHolder("foreign", port, pid, command)
    if same_file(served, db_path):
        return PortHolder("same", port, pid, command, str(served))
    return PortHolder("foreign", port, pid, command, str(served))
