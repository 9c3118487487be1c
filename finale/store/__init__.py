"""The one source of truth: a SQLite file per event, shared by the console and the hub.

Every state change is written together with its `events` row in one
transaction, so the audit log and the tables the screens read never disagree,
and a process killed mid-write leaves either both or neither. The console and
the hub each open their own `Store`; each notices the other's commits through
`ChangeWatcher` (`PRAGMA data_version`).

This package is the only place in the project that speaks SQL
(tests/test_architecture.py checks it); its sections are one module each.
"""

from sqlite3 import Error as DatabaseError  # what a failing database raises (disk full, I/O): callers catch this

from finale.store.audit import EventRow
from finale.store.base import StoreError
from finale.store.drain import DrainRaced, stream_position
from finale.store.export import iter_rows
from finale.store.interface import (
    AudienceStore,
    ChangeSource,
    PageWriter,
    QuestionStore,
    ShowBasics,
    ShowReader,
    SnapshotReader,
    VoteStore,
)
from finale.store.schema import MIGRATIONS, SCHEMA_VERSION
from finale.store.setup import token_owner
from finale.store.store import Store
from finale.store.votes import VoteIn
from finale.store.watcher import ChangeWatcher

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AudienceStore",
    "ChangeSource",
    "ChangeWatcher",
    "DatabaseError",
    "DrainRaced",
    "EventRow",
    "PageWriter",
    "QuestionStore",
    "ShowBasics",
    "ShowReader",
    "SnapshotReader",
    "Store",
    "StoreError",
    "VoteIn",
    "VoteStore",
    "iter_rows",
    "stream_position",
    "token_owner",
]
