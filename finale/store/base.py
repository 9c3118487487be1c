"""The connection and the transaction every part of the store writes through.

One `sqlite3` connection per `Store` (WAL, FULL sync, foreign keys on), opened
once, migrated once. Writes go through `transaction()`, a re-entrant
`BEGIN IMMEDIATE ... COMMIT`, so a change and its audit row land together.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import sqlite_utils

from finale.store.schema import MIGRATIONS, SCHEMA_VERSION, TABLES, NotAnEventDatabase, probe_existing


class StoreError(ValueError):
    """A write the store refuses (unknown round, finalist or panelist; bad values).

    `code` is the short reason a page can act on (the hub sends it in its error frame).
    """

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite touches it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


class StoreBase:
    """Persistence for one event; safe to open from several processes at once (WAL)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _create_private(self.path)
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:  # not SQLite at all: say so instead of a traceback
            conn.close()
            raise StoreError(f"{self.path} is not an event database ({exc}); give --db a new file name "
                             "or an existing finale database") from None
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        self._migrate()

    @classmethod
    def open_existing(cls, path: str | Path) -> Self:
        """An existing event database with an event set up; for commands that must not start a new one.

        A missing file, a file that is not SQLite or not finale's, a database with no event and a
        newer schema are each refused with a StoreError naming the file, before anything is
        created or written (the file is probed read-only first).
        """
        path = Path(path)
        try:
            probe_existing(path)
        except NotAnEventDatabase as exc:
            raise StoreError(f"{path}: {exc}") from None
        return cls(path)

    @property
    def conn(self) -> sqlite3.Connection:
        """The raw connection, for the store's own modules (nothing outside finale/store uses it)."""
        return self.db.conn

    def close(self) -> None:
        """Close the connection; the store is unusable afterwards."""
        self.conn.close()

    def __enter__(self) -> StoreBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: database schema {version} is newer than this finale ({SCHEMA_VERSION}); upgrade finale"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version={target}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; nested calls join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self._depth = 0
                self._forget_cached()
                self.conn.execute("ROLLBACK")
                raise
            self._depth = 0
            try:
                self.conn.execute("COMMIT")
            except BaseException:  # a full disk: what the transaction changed is not in the file
                self._forget_cached()
                raise

    def _forget_cached(self) -> None:
        """What a part of the store keeps in memory of the tables is dropped: a write it did not follow.

        Called when a transaction rolls back or fails to commit, and by a write that bypasses the
        part's own path (the rehearsal wipe); the vote ledger overrides it (finale.store.vote_ledger).
        """

    @contextmanager
    def read(self) -> Iterator[None]:
        """Several reads that see one consistent state: a deferred BEGIN pins a WAL snapshot until the end.

        Give a reader its own Store: writes on this connection wait until the read is over.
        Inside a transaction already, the reads simply join it.
        """
        with self._lock:
            if self.conn.in_transaction:
                yield
                return
            self.conn.execute("BEGIN")
            try:
                yield
            finally:
                self.conn.execute("COMMIT")

    def count(self, table: str) -> int:
        """How many rows a table holds (for previews such as `finale reset`)."""
        if table not in TABLES:
            raise StoreError(f"no table {table!r}; expected one of {', '.join(TABLES)}")
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def data_version(self) -> int:
        """Changes whenever another connection commits (see ChangeWatcher)."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def integrity_check(self) -> str:
        """SQLite's own integrity check: "ok" or what is broken (for `finale check`)."""
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])
