"""Noticing other processes' commits cheaply, without reading any table."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class ChangeWatcher:
    """Cheap check for other processes' commits: `PRAGMA data_version` on a dedicated connection."""

    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(Path(path), isolation_level=None, check_same_thread=False)
        self._last = self._version()

    def _version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def changed(self) -> bool:
        """True once after each commit made by any other connection."""
        now = self._version()
        if now != self._last:
            self._last = now
            return True
        return False

    def close(self) -> None:
        self._conn.close()
