"""The event database's schema, one migration per version (PRAGMA user_version).

A new version appends a migration here; `StoreBase` applies the missing ones in
order when it opens a file, and refuses a file newer than this code.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

SCHEMA_VERSION: Final = 1

MIGRATIONS: Final[Mapping[int, str]] = MappingProxyType({
    1: """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE finalists (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, position INTEGER NOT NULL, token TEXT NOT NULL UNIQUE
    );
    CREATE TABLE panelists (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, position INTEGER NOT NULL, token TEXT NOT NULL UNIQUE
    );
    CREATE TABLE questions (
        id TEXT PRIMARY KEY, prompt TEXT NOT NULL, expected TEXT, "check" TEXT, position INTEGER NOT NULL
    );
    CREATE TABLE prompt_settings (
        finalist_id TEXT NOT NULL REFERENCES finalists(id), version INTEGER NOT NULL,
        system_prompt TEXT NOT NULL, temperature REAL NOT NULL, max_tokens INTEGER NOT NULL,
        actor TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (finalist_id, version)
    );
    CREATE TABLE rounds (
        id INTEGER PRIMARY KEY, question_id TEXT, prompt TEXT NOT NULL, phase TEXT NOT NULL,
        seed INTEGER NOT NULL, labels TEXT NOT NULL, settings_versions TEXT NOT NULL,
        vote_opened_at REAL, vote_deadline REAL, revealed INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL, updated_at REAL NOT NULL
    );
    CREATE TABLE answers (
        round_id INTEGER NOT NULL REFERENCES rounds(id), finalist_id TEXT NOT NULL,
        is_reference INTEGER NOT NULL DEFAULT 0, text TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
        ttft_ms REAL, total_ms REAL, tokens INTEGER NOT NULL DEFAULT 0, attempt INTEGER NOT NULL DEFAULT 1,
        updated_at REAL NOT NULL, PRIMARY KEY (round_id, finalist_id)
    );
    CREATE TABLE judgments (
        round_id INTEGER NOT NULL REFERENCES rounds(id), finalist_id TEXT NOT NULL, status TEXT NOT NULL,
        scores TEXT NOT NULL, rationale TEXT NOT NULL, reason TEXT, raw TEXT NOT NULL, judge TEXT NOT NULL,
        updated_at REAL NOT NULL, PRIMARY KEY (round_id, finalist_id)
    );
    CREATE TABLE panel_scores (
        round_id INTEGER NOT NULL REFERENCES rounds(id), finalist_id TEXT NOT NULL,
        panelist_id TEXT NOT NULL REFERENCES panelists(id), scores TEXT NOT NULL, actor TEXT NOT NULL,
        updated_at REAL NOT NULL, PRIMARY KEY (round_id, finalist_id, panelist_id)
    );
    CREATE TABLE votes (
        round_id INTEGER NOT NULL REFERENCES rounds(id), device_id TEXT NOT NULL, label TEXT NOT NULL,
        client_msg_id TEXT, cast_at REAL NOT NULL, PRIMARY KEY (round_id, device_id)
    );
    CREATE TABLE overrides (
        id INTEGER PRIMARY KEY, round_id INTEGER NOT NULL REFERENCES rounds(id), finalist_id TEXT NOT NULL,
        component TEXT NOT NULL, action TEXT NOT NULL, value REAL, original REAL, reason TEXT NOT NULL,
        actor TEXT NOT NULL, created_at REAL NOT NULL, reverted_at REAL, reverted_by TEXT, revert_reason TEXT
    );
    CREATE TABLE show_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL,
        round_id INTEGER, payload TEXT NOT NULL
    );
    CREATE INDEX events_kind ON events(kind);
    CREATE INDEX events_round ON events(round_id);
    """,
})
