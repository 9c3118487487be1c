"""The event database's schema, one migration per version (PRAGMA user_version).

A new version appends a migration here; `StoreBase` applies the missing ones in
order when it opens a file, and refuses a file newer than this code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

SCHEMA_VERSION: Final = 7

# Every table of the current schema (what `Store.count` may be asked about).
TABLES: Final = (
    "meta", "finalists", "panelists", "questions", "prompt_settings", "rounds", "answers", "judgments",
    "panel_scores", "votes", "overrides", "show_state", "events", "credentials", "seals", "jury_verdicts",
    "head_to_head", "audience_questions", "question_upvotes",
)

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
    # 2: a paused poll keeps its pause on the round (core.poll); the loose show_state switches
    # (paused, frozen, reveal, revealed) become one typed `switches` value (core.switches).
    2: """
    ALTER TABLE rounds ADD COLUMN vote_paused_at REAL;
    INSERT OR REPLACE INTO show_state (key, value) SELECT 'switches', json_object(
        'paused', json(COALESCE((SELECT CASE WHEN value IN ('false', 'null') THEN 'false' ELSE 'true' END
                                 FROM show_state WHERE key = 'paused'), 'false')),
        'frozen', json(COALESCE((SELECT value FROM show_state WHERE key = 'frozen'), 'false')),
        'reveal_step', COALESCE((SELECT CAST(value AS INTEGER) FROM show_state WHERE key = 'reveal'), 0),
        'winner_revealed', json(COALESCE((SELECT value FROM show_state WHERE key = 'revealed'), 'false')));
    DELETE FROM show_state WHERE key IN ('paused', 'frozen', 'reveal', 'revealed');
    """,
    # 3: voters are issued by the hub (core.ballot): each vote keeps its origin (a keyed hash of the
    # address, never the address) and its credential's issue time; issued credentials are recorded for
    # the integrity view; a discount override keeps which votes it removes (core.discount) in `scope`;
    # the event's voter secret (SQLite's CSPRNG) signs credentials; it is never logged or exported.
    3: """
    ALTER TABLE votes ADD COLUMN origin TEXT;
    ALTER TABLE votes ADD COLUMN issued_at REAL;
    CREATE INDEX votes_origin ON votes(round_id, origin);
    CREATE TABLE credentials (voter_id TEXT PRIMARY KEY, issued_at REAL NOT NULL, origin TEXT NOT NULL);
    CREATE INDEX credentials_issued ON credentials(issued_at);
    ALTER TABLE overrides ADD COLUMN scope TEXT;
    INSERT OR IGNORE INTO meta (key, value) VALUES ('voter_secret', lower(hex(randomblob(32))));
    """,
    # 4: the sealed manifest (finale.seal) and every change to it, each with its hash and its audit event's seq;
    # the seal key (SQLite's CSPRNG) keys the deck's commitments (core.manifest); never logged or exported.
    4: """
    CREATE TABLE seals (
        id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, manifest TEXT NOT NULL, kind TEXT NOT NULL,
        actor TEXT NOT NULL, created_at REAL NOT NULL, seq INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO meta (key, value) VALUES ('seal_key', lower(hex(randomblob(32))));
    """,
    # 5: a jury kept as data: each judge model's verdict on an answer is its own row (the judgment holds
    # the aggregate, core.scoring.aggregate_jury, with its flags and per-criterion spread); the head-to-head
    # with the reference answer, both orders (core.headtohead), one row per answer.
    5: """
    ALTER TABLE judgments ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE judgments ADD COLUMN spread TEXT NOT NULL DEFAULT '{}';
    CREATE TABLE jury_verdicts (
        round_id INTEGER NOT NULL REFERENCES rounds(id), finalist_id TEXT NOT NULL, judge TEXT NOT NULL,
        position INTEGER NOT NULL, status TEXT NOT NULL, scores TEXT NOT NULL, rationale TEXT NOT NULL,
        reason TEXT, raw TEXT NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (round_id, finalist_id, judge)
    );
    CREATE TABLE head_to_head (
        round_id INTEGER NOT NULL REFERENCES rounds(id), finalist_id TEXT NOT NULL, judge TEXT NOT NULL,
        finalist_first TEXT, reference_first TEXT, outcome TEXT, order_sensitive INTEGER NOT NULL,
        reason TEXT, raw TEXT NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (round_id, finalist_id)
    );
    """,
    # 6: questions from the floor (core.questions), kept apart from the deck's `questions`: each with the voter
    # credential that sent it, its moderation status, star and rejection reason (the console's only), and the round
    # it was asked as; one upvote per voter per question; a round asked from one keeps its id (the audience's).
    6: """
    CREATE TABLE audience_questions (
        id INTEGER PRIMARY KEY, voter_id TEXT NOT NULL, text TEXT NOT NULL, status TEXT NOT NULL,
        starred INTEGER NOT NULL DEFAULT 0, reason TEXT, round_id INTEGER REFERENCES rounds(id),
        submitted_at REAL NOT NULL, updated_at REAL NOT NULL
    );
    CREATE INDEX audience_questions_voter ON audience_questions(voter_id, submitted_at);
    CREATE INDEX audience_questions_status ON audience_questions(status);
    CREATE TABLE question_upvotes (
        question_id INTEGER NOT NULL REFERENCES audience_questions(id), voter_id TEXT NOT NULL, at REAL NOT NULL,
        PRIMARY KEY (question_id, voter_id)
    );
    ALTER TABLE rounds ADD COLUMN audience_question_id INTEGER;
    """,
    # 7: the vote rule's per-origin counts come from the writer's ledger of counted votes (finale.store.vote_ledger),
    # not from the table: the index that answered them cost each vote a leaf page of its own (bench/README.md).
    7: """
    DROP INDEX IF EXISTS votes_origin;
    """,
})


class NotAnEventDatabase(Exception):
    """Why a file is not an event database this finale can open (the store turns it into a StoreError)."""


def probe_existing(path: Path) -> None:
    """Check, read-only, that `path` holds a finale event database of a schema this code knows, with an event.

    Nothing is created or written: the file is opened with `mode=ro`, so pointing at the wrong
    file never puts a schema into it.
    """
    written = "expected a database written by finale (`finale run`, `finale demo` or `finale judges --event`)"
    if not path.exists():
        raise NotAnEventDatabase(f"no such file; {written}")
    if not path.is_file():
        raise NotAnEventDatabase("not a file; expected an event database file")
    try:
        probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise NotAnEventDatabase(f"cannot be opened ({exc}); expected a readable event database") from None
    try:
        version = int(probe.execute("PRAGMA user_version").fetchone()[0])
        if not version:
            raise NotAnEventDatabase(f"not a finale event database (no finale tables in it); {written}")
        if version > SCHEMA_VERSION:
            raise NotAnEventDatabase(f"database schema {version} is newer than this finale ({SCHEMA_VERSION}); "
                                     "upgrade finale")
        if probe.execute("SELECT 1 FROM meta WHERE key='event_config'").fetchone() is None:
            raise NotAnEventDatabase("no event set up in this database; expected one set up by "
                                     "`finale run EVENT_FILE` or `finale judges --event EVENT_FILE`")
    except sqlite3.DatabaseError as exc:
        raise NotAnEventDatabase(f"not a finale event database ({exc}); {written}") from None
    finally:
        probe.close()
