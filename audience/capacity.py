"""How many phones the hub can hold: its open-files limit, raised to the hard limit at start.

Why: every connection is an open file. Under the common soft limit of 1,024,
192 of 1,200 phones timed out while accept() failures filled the log. The
soft limit is raised to the hard one (a process may do that without
privileges); what stays out of reach is said in the log with the way to raise it.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass
from pathlib import Path

RESERVE_FILES = 64  # the database connections (3 x db, wal, shm), the log, the listening sockets, the event loop
ENOUGH_PHONES = 2000  # below this many, the log line is a warning with the way to raise the hard limit


@dataclass(frozen=True)
class OpenFiles:
    """The open-files limit before and after raising it, and the hard limit."""

    before: int
    soft: int
    hard: int

    @property
    def phones(self) -> int:
        """Connections the hub can hold (phones, judges, stage) with the reserve kept for itself."""
        return max(0, self.soft - RESERVE_FILES)

    def line(self) -> str:
        """What the log says at start."""
        raised = f"raised from {self.before} to {self.soft}" if self.soft != self.before else f"{self.soft}"
        text = (f"open-files limit {raised} (hard limit {self.hard}): room for about {self.phones} phones "
                f"({RESERVE_FILES} files kept for the database, the log and the listening sockets)")
        if self.phones < ENOUGH_PHONES:
            text += ("; to hold more, raise the hard limit before starting the hub (ulimit -Hn as root, "
                     "LimitNOFILE= in a systemd unit, or /etc/security/limits.conf)")
        return text


def _kernel_cap() -> int:
    """The most files one process may open (fs.nr_open); an unlimited hard limit is capped to it."""
    try:
        return int(Path("/proc/sys/fs/nr_open").read_text())
    except (OSError, ValueError):
        return 1 << 20


def current() -> OpenFiles:
    """The limit as it is now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if resource.RLIM_INFINITY in (soft, hard):  # /proc is read only then: /healthz asks this, often
        cap = _kernel_cap()
        soft = cap if soft == resource.RLIM_INFINITY else soft
        hard = cap if hard == resource.RLIM_INFINITY else hard
    return OpenFiles(soft, soft, hard)


def raise_open_files() -> OpenFiles:
    """Raise the soft open-files limit to the hard limit (as far as the kernel allows); before and after."""
    before = current()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    target = min(before.hard, _kernel_cap())
    if before.soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return before
    return OpenFiles(before.soft, current().soft, before.hard)
