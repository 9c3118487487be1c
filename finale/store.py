"""The one source of truth: a SQLite file per event, shared by the console and the hub.

Every state change is written together with its `events` row in one
transaction, so the audit log and the tables the screens read never disagree,
and a process killed mid-write leaves either both or neither. The console and
the hub each open their own `Store`; each notices the other's commits through
`ChangeWatcher` (`PRAGMA data_version`).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlite_utils

from finale.config import EventConfig
from finale.core.model import (
    Answer,
    AnswerStatus,
    Component,
    Event,
    Judgment,
    JudgmentStatus,
    Override,
    OverrideAction,
    PanelScore,
    Phase,
    PromptSettings,
    Round,
)
from finale.core.scoring import RoundRecord, validate_override
from finale.core.tuning import validate_settings

SCHEMA_VERSION = 1

MIGRATIONS: dict[int, str] = {
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
}


class StoreError(ValueError):
    """A write the store refuses (unknown round, finalist or panelist; bad values)."""


@dataclass(frozen=True)
class EventRow:
    """One line of the audit log."""

    seq: int
    at: float
    actor: str
    kind: str
    round_id: int | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class VoteIn:
    """A vote as the hub receives it, before it is stored."""

    round_id: int
    device_id: str
    label: str
    client_msg_id: str | None
    cast_at: float


def token_owner(tokens: dict[str, str], token: str) -> str | None:
    """Whose private-link token this is, comparing against every token so timing tells nothing."""
    owner = None
    for ident, tok in tokens.items():
        if secrets.compare_digest(tok.encode(), token.encode()):
            owner = ident
    return owner


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite touches it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


class Store:
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

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------

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
                self.conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self.conn.execute("COMMIT")

    def data_version(self) -> int:
        """Changes whenever another connection commits (see ChangeWatcher)."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def integrity_check(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    # -- audit log ----------------------------------------------------------

    def log(self, actor: str, kind: str, payload: dict[str, Any], round_id: int | None = None,
            at: float | None = None) -> int:
        """Append one event; call inside the transaction that makes the change."""
        cur = self.conn.execute(
            "INSERT INTO events (at, actor, kind, round_id, payload) VALUES (?, ?, ?, ?, ?)",
            (at if at is not None else time.time(), actor, kind, round_id,
             json.dumps(payload, sort_keys=True, ensure_ascii=False)),
        )
        return int(cur.lastrowid or 0)

    def events(self, since: int = 0, kind: str | None = None, round_id: int | None = None,
               limit: int | None = None) -> list[EventRow]:
        where = ["seq > ?"]
        params: list[Any] = [since]
        if kind is not None:
            where.append("kind LIKE ?")
            params.append(kind.replace("*", "%"))
        if round_id is not None:
            where.append("round_id = ?")
            params.append(round_id)
        sql = f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [
            EventRow(r["seq"], r["at"], r["actor"], r["kind"], r["round_id"], json.loads(r["payload"]))
            for r in self.db.query(sql, params)
        ]

    # -- event setup --------------------------------------------------------

    def setup_event(self, config: EventConfig, actor: str = "organiser") -> None:
        """Write the event's setup once; re-running keeps tokens, settings and rounds."""
        existing = self._meta("event_config")
        new_json = config.model_dump_json()
        with self.transaction():
            if existing is not None and existing == new_json:
                return
            self._set_meta("event_config", new_json)
            for pos, f in enumerate(config.finalists):
                self.conn.execute(
                    "INSERT INTO finalists (id, name, position, token) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET name=excluded.name, position=excluded.position",
                    (f.id, f.name, pos, secrets.token_urlsafe(16)),
                )
                if self.conn.execute("SELECT 1 FROM prompt_settings WHERE finalist_id=?", (f.id,)).fetchone() is None:
                    self.conn.execute(
                        "INSERT INTO prompt_settings VALUES (?, 1, ?, ?, ?, ?, ?)",
                        (f.id, f.system_prompt, config.generation.temperature, config.generation.max_tokens,
                         actor, time.time()),
                    )
            for pos, p in enumerate(config.panelists):
                self.conn.execute(
                    "INSERT INTO panelists (id, name, position, token) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET name=excluded.name, position=excluded.position",
                    (p.id, p.name, pos, secrets.token_urlsafe(16)),
                )
            self.conn.execute("DELETE FROM questions")
            for pos, q in enumerate(config.questions):
                self.conn.execute("INSERT INTO questions VALUES (?, ?, ?, ?, ?)",
                                  (q.id, q.prompt, q.expected, q.check, pos))
            self.log(actor, "event.setup", {"name": config.event.name,
                                            "finalists": [f.id for f in config.finalists],
                                            "panelists": [p.id for p in config.panelists],
                                            "questions": [q.id for q in config.questions]})

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                          (key, value))

    def event_config(self) -> EventConfig:
        raw = self._meta("event_config")
        if raw is None:
            raise StoreError(f"{self.path}: no event set up in this database")
        return EventConfig.model_validate_json(raw)

    def event(self) -> Event:
        """The core event, with each finalist's current prompt settings."""
        ev = self.event_config().to_core()
        return replace(ev, finalists=tuple(replace(f, settings=self.settings(f.id)) for f in ev.finalists))

    def tokens(self, table: str) -> dict[str, str]:
        """Private link tokens per panelist or finalist id (never logged, never exported)."""
        if table not in ("panelists", "finalists"):
            raise StoreError(f"no tokens for {table!r}")
        return {r["id"]: r["token"] for r in self.db.query(f"SELECT id, token FROM {table} ORDER BY position")}

    def who_has_token(self, table: str, token: str) -> str | None:
        """The panelist or finalist id a private-link token belongs to, or None."""
        return token_owner(self.tokens(table), token)

    # -- prompt settings ----------------------------------------------------

    def settings(self, finalist_id: str, version: int | None = None) -> PromptSettings:
        sql = "SELECT * FROM prompt_settings WHERE finalist_id=?"
        params: list[Any] = [finalist_id]
        if version is not None:
            sql += " AND version=?"
            params.append(version)
        sql += " ORDER BY version DESC LIMIT 1"
        rows = list(self.db.query(sql, params))
        if not rows:
            raise StoreError(f"no prompt settings for finalist {finalist_id!r}")
        r = rows[0]
        return PromptSettings(r["system_prompt"], r["temperature"], r["max_tokens"], r["version"])

    def settings_history(self, finalist_id: str) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT version, system_prompt, temperature, max_tokens, actor, created_at FROM prompt_settings "
            "WHERE finalist_id=? ORDER BY version", [finalist_id]))

    def settings_lock(self) -> str | None:
        """Why finalists' settings cannot change now (a round is being asked or later), or None."""
        current = self.current_round()
        if current is not None and current.phase not in (Phase.DRAFT, Phase.FINAL, Phase.VOID):
            return f"settings are locked while round {current.id} is {current.phase}"
        return None

    def save_settings(self, finalist_id: str, system_prompt: object, temperature: object, max_tokens: object,
                      actor: str) -> PromptSettings:
        """A new settings version; refused while the current round is being asked or later."""
        proposed = validate_settings(system_prompt, temperature, max_tokens)
        with self.transaction():
            locked = self.settings_lock()
            if locked is not None:
                raise StoreError(locked)
            version = self.settings(finalist_id).version + 1
            self.conn.execute("INSERT INTO prompt_settings VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (finalist_id, version, proposed.system_prompt, proposed.temperature,
                               proposed.max_tokens, actor, time.time()))
            self.log(actor, "settings.changed", {"finalist_id": finalist_id, "version": version,
                                                 "temperature": proposed.temperature,
                                                 "max_tokens": proposed.max_tokens,
                                                 "system_prompt": proposed.system_prompt})
        return PromptSettings(proposed.system_prompt, proposed.temperature, proposed.max_tokens, version)

    # -- rounds -------------------------------------------------------------

    @staticmethod
    def _round(r: dict[str, Any]) -> Round:
        return Round(
            id=r["id"], prompt=r["prompt"], phase=Phase(r["phase"]), question_id=r["question_id"],
            seed=r["seed"], labels=json.loads(r["labels"]), settings_versions=json.loads(r["settings_versions"]),
            vote_opened_at=r["vote_opened_at"], vote_deadline=r["vote_deadline"], revealed=bool(r["revealed"]),
        )

    def create_round(self, prompt: str, question_id: str | None, seed: int, labels: dict[str, str],
                     actor: str) -> Round:
        """A new draft round; settings versions are frozen when it is asked."""
        now = time.time()
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO rounds (question_id, prompt, phase, seed, labels, settings_versions, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, '{}', ?, ?)",
                (question_id, prompt, Phase.DRAFT.value, seed, json.dumps(labels), now, now),
            )
            round_id = int(cur.lastrowid or 0)
            self._set_show("current_round", round_id)
            self.log(actor, "round.created", {"question_id": question_id, "prompt": prompt, "seed": seed},
                     round_id)
        return self.round(round_id)

    def round(self, round_id: int) -> Round:
        rows = list(self.db.query("SELECT * FROM rounds WHERE id=?", [round_id]))
        if not rows:
            raise StoreError(f"no round {round_id}")
        return self._round(rows[0])

    def rounds(self) -> list[Round]:
        return [self._round(r) for r in self.db.query("SELECT * FROM rounds ORDER BY id")]

    def current_round(self) -> Round | None:
        value = self.show_state().get("current_round")
        return self.round(int(value)) if value is not None else None

    def update_round(self, rnd: Round, actor: str, kind: str, payload: dict[str, Any] | None = None) -> Round:
        """Persist a round the core has already moved (phase, poll times, reveal) with its event."""
        with self.transaction():
            self.conn.execute(
                "UPDATE rounds SET phase=?, labels=?, settings_versions=?, vote_opened_at=?, vote_deadline=?, "
                "revealed=?, updated_at=? WHERE id=?",
                (rnd.phase.value, json.dumps(rnd.labels), json.dumps(rnd.settings_versions), rnd.vote_opened_at,
                 rnd.vote_deadline, int(rnd.revealed), time.time(), rnd.id),
            )
            self.log(actor, kind, {"phase": rnd.phase.value, **(payload or {})}, rnd.id)
        return rnd

    # -- answers and judgments ----------------------------------------------

    def save_answer(self, answer: Answer, actor: str = "console", is_reference: bool = False,
                    log: bool = True) -> None:
        """Store an answer's latest state; the final state is logged, streaming updates are not."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO answers (round_id, finalist_id, is_reference, text, status, error, ttft_ms, total_ms, "
                "tokens, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(round_id, finalist_id) DO "
                "UPDATE SET text=excluded.text, status=excluded.status, error=excluded.error, "
                "ttft_ms=excluded.ttft_ms, total_ms=excluded.total_ms, tokens=excluded.tokens, "
                "updated_at=excluded.updated_at, attempt=CASE WHEN excluded.status='pending' "
                "THEN answers.attempt + 1 ELSE answers.attempt END",
                (answer.round_id, answer.finalist_id, int(is_reference), answer.text, answer.status.value,
                 answer.error, answer.ttft_ms, answer.total_ms, answer.tokens, time.time()),
            )
            if log:
                self.log(actor, "answer.saved", {
                    "finalist_id": answer.finalist_id, "status": answer.status.value, "error": answer.error,
                    "ttft_ms": answer.ttft_ms, "total_ms": answer.total_ms, "tokens": answer.tokens,
                    "chars": len(answer.text), "reference": is_reference}, answer.round_id)

    def answers(self, round_id: int, include_reference: bool = False) -> dict[str, Answer]:
        sql = "SELECT * FROM answers WHERE round_id=?" + ("" if include_reference else " AND is_reference=0")
        return {
            r["finalist_id"]: Answer(r["round_id"], r["finalist_id"], r["text"], AnswerStatus(r["status"]),
                                     r["error"], r["ttft_ms"], r["total_ms"], r["tokens"])
            for r in self.db.query(sql, [round_id])
        }

    def save_judgment(self, judgment: Judgment, judge: str, actor: str = "judge") -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO judgments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(round_id, finalist_id) DO "
                "UPDATE SET status=excluded.status, scores=excluded.scores, rationale=excluded.rationale, "
                "reason=excluded.reason, raw=excluded.raw, judge=excluded.judge, updated_at=excluded.updated_at",
                (judgment.round_id, judgment.finalist_id, judgment.status.value, json.dumps(judgment.scores),
                 judgment.rationale, judgment.reason, judgment.raw, judge, time.time()),
            )
            self.log(actor, "judgment.saved", {"finalist_id": judgment.finalist_id, "status": judgment.status.value,
                                               "scores": judgment.scores, "reason": judgment.reason,
                                               "judge": judge}, judgment.round_id)

    def judgments(self, round_id: int) -> dict[str, Judgment]:
        return {
            r["finalist_id"]: Judgment(r["round_id"], r["finalist_id"], JudgmentStatus(r["status"]),
                                       json.loads(r["scores"]), r["rationale"], r["reason"], r["raw"])
            for r in self.db.query("SELECT * FROM judgments WHERE round_id=?", [round_id])
        }

    # -- panel --------------------------------------------------------------

    def save_panel_score(self, score: PanelScore, actor: str) -> None:
        """A panelist's scores for one answer; revising replaces them. Written at once."""
        criteria = set(self.event_config().to_core().criterion_ids)
        if set(score.scores) != criteria:
            raise StoreError(f"panel scores need exactly the criteria {sorted(criteria)}; got {sorted(score.scores)}")
        for crit, value in score.scores.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 10:
                raise StoreError(f"score for {crit} must be a number from 0 to 10; got {value!r}")
        with self.transaction():
            rnd = self.round(score.round_id)
            if rnd.phase in (Phase.FINAL, Phase.VOID):
                raise StoreError(f"round {rnd.id} is {rnd.phase}; panel scores are locked")
            if score.finalist_id not in rnd.labels:
                raise StoreError(f"finalist {score.finalist_id!r} is not in round {rnd.id}")
            self.conn.execute(
                "INSERT INTO panel_scores VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(round_id, finalist_id, panelist_id) "
                "DO UPDATE SET scores=excluded.scores, actor=excluded.actor, updated_at=excluded.updated_at",
                (score.round_id, score.finalist_id, score.panelist_id, json.dumps(score.scores), actor, time.time()),
            )
            self.log(actor, "panel.scored", {"finalist_id": score.finalist_id, "panelist_id": score.panelist_id,
                                             "scores": score.scores}, score.round_id)

    def panel_scores(self, round_id: int) -> list[PanelScore]:
        return [
            PanelScore(r["round_id"], r["finalist_id"], r["panelist_id"], json.loads(r["scores"]))
            for r in self.db.query("SELECT * FROM panel_scores WHERE round_id=? ORDER BY panelist_id, finalist_id",
                                   [round_id])
        ]

    # -- votes --------------------------------------------------------------

    def record_votes(self, votes: Sequence[VoteIn], actor: str = "hub") -> int:
        """Upsert a batch of votes in one transaction with one audit event; the later cast wins.

        A vote resent after a lost ack (same round, device, client message id and label as the vote
        already counted, or as one earlier in the batch) is a replay: it is acknowledged but neither
        stored nor logged again, so every vote is in the table and the audit log exactly once.
        """
        if not votes:
            return 0
        with self.transaction():
            votes = self._new_votes(votes)
            if not votes:
                return 0
            self.conn.executemany(
                "INSERT INTO votes VALUES (?, ?, ?, ?, ?) ON CONFLICT(round_id, device_id) DO UPDATE SET "
                "label=excluded.label, client_msg_id=excluded.client_msg_id, cast_at=excluded.cast_at "
                "WHERE excluded.cast_at >= votes.cast_at",
                [(v.round_id, v.device_id, v.label, v.client_msg_id, v.cast_at) for v in votes],
            )
            by_round: dict[int, list[list[Any]]] = {}
            for v in votes:
                by_round.setdefault(v.round_id, []).append([v.device_id, v.label, v.client_msg_id, v.cast_at])
            for round_id, rows in by_round.items():
                self.log(actor, "votes.recorded", {"votes": rows}, round_id)
        return len(votes)

    def _new_votes(self, votes: Sequence[VoteIn]) -> list[VoteIn]:
        """The batch without replays of the counted vote (call inside the transaction)."""
        counted: dict[tuple[int, str], tuple[str | None, str]] = {}
        by_round: dict[int, list[str]] = {}
        for v in votes:
            if v.client_msg_id is not None:
                by_round.setdefault(v.round_id, []).append(v.device_id)
        for round_id, devices in by_round.items():
            for i in range(0, len(devices), 500):
                chunk = devices[i:i + 500]
                rows = self.conn.execute(
                    f"SELECT device_id, client_msg_id, label FROM votes WHERE round_id=? AND device_id IN "
                    f"({','.join('?' * len(chunk))})", [round_id, *chunk])
                counted.update({(round_id, d): (m, lab) for d, m, lab in rows})
        fresh: list[VoteIn] = []
        for v in votes:
            key = (v.round_id, v.device_id)
            if v.client_msg_id is not None and counted.get(key) == (v.client_msg_id, v.label):
                continue
            fresh.append(v)
            counted[key] = (v.client_msg_id, v.label)
        return fresh

    def counted_vote(self, round_id: int, device_id: str) -> tuple[str | None, str] | None:
        """(client message id, label) of a device's counted vote in a round, or None.

        Lets the hub acknowledge a resend of a vote it stored before the close even
        when the resend itself arrives after the close (its ack was lost on the way).
        """
        row = self.conn.execute("SELECT client_msg_id, label FROM votes WHERE round_id=? AND device_id=?",
                                (round_id, device_id)).fetchone()
        return None if row is None else (row[0], str(row[1]))

    def device_vote(self, round_id: int, device_id: str) -> str | None:
        """The label a device's counted vote is for in a round, or None (for the hub's reconnects)."""
        row = self.conn.execute("SELECT label FROM votes WHERE round_id=? AND device_id=?",
                                (round_id, device_id)).fetchone()
        return None if row is None else str(row[0])

    def vote_labels(self, round_id: int) -> dict[str, int]:
        """Votes per anonymous label."""
        return {r["label"]: r["n"] for r in self.db.query(
            "SELECT label, COUNT(*) AS n FROM votes WHERE round_id=? GROUP BY label", [round_id])}

    def vote_counts(self, round_id: int) -> dict[str, int]:
        """Votes per finalist id, through the round's label mapping."""
        rnd = self.round(round_id)
        by_label = self.vote_labels(round_id)
        return {fid: by_label.get(label, 0) for fid, label in rnd.labels.items()}

    def votes(self, round_id: int) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM votes WHERE round_id=? ORDER BY cast_at", [round_id]))

    # -- overrides ----------------------------------------------------------

    def add_override(self, round_id: int, finalist_id: str, component: Component, action: OverrideAction,
                     reason: str, actor: str, value: float | None = None, original: float | None = None) -> Override:
        """Record a human override; the original value is kept beside it."""
        proposal = validate_override(Override(0, round_id, finalist_id, component, action, reason, actor, value))
        with self.transaction():
            rnd = self.round(round_id)
            if finalist_id not in rnd.labels:
                raise StoreError(f"finalist {finalist_id!r} is not in round {round_id}")
            if rnd.phase in (Phase.FINAL, Phase.VOID):
                raise StoreError(f"round {round_id} is {rnd.phase}; overrides are locked")
            cur = self.conn.execute(
                "INSERT INTO overrides (round_id, finalist_id, component, action, value, original, reason, actor, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (round_id, finalist_id, component.value, action.value, value, original, reason.strip(),
                 actor.strip(), time.time()),
            )
            oid = int(cur.lastrowid or 0)
            self.log(actor, "override.added", {"override_id": oid, "finalist_id": finalist_id,
                                               "component": component.value, "action": action.value,
                                               "value": value, "original": original, "reason": reason.strip()},
                     round_id)
        return Override(oid, round_id, finalist_id, component, action, proposal.reason.strip(),
                        proposal.actor.strip(), value)

    def revert_override(self, override_id: int, actor: str, reason: str = "") -> None:
        with self.transaction():
            row = self.conn.execute("SELECT round_id, reverted_at FROM overrides WHERE id=?",
                                    (override_id,)).fetchone()
            if row is None:
                raise StoreError(f"no override {override_id}")
            if row[1] is not None:
                raise StoreError(f"override {override_id} is already reverted")
            if self.round(row[0]).phase in (Phase.FINAL, Phase.VOID):
                raise StoreError(f"round {row[0]} is closed for changes; override {override_id} stays")
            self.conn.execute("UPDATE overrides SET reverted_at=?, reverted_by=?, revert_reason=? WHERE id=?",
                              (time.time(), actor, reason, override_id))
            self.log(actor, "override.reverted", {"override_id": override_id, "reason": reason}, row[0])

    def overrides(self, round_id: int | None = None, include_reverted: bool = True) -> list[Override]:
        sql = "SELECT * FROM overrides WHERE 1=1"
        params: list[Any] = []
        if round_id is not None:
            sql += " AND round_id=?"
            params.append(round_id)
        if not include_reverted:
            sql += " AND reverted_at IS NULL"
        return [
            Override(r["id"], r["round_id"], r["finalist_id"], Component(r["component"]),
                     OverrideAction(r["action"]), r["reason"], r["actor"], r["value"], r["reverted_at"] is not None)
            for r in self.db.query(sql + " ORDER BY id", params)
        ]

    # -- show state ---------------------------------------------------------

    def _set_show(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT INTO show_state VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                          (key, json.dumps(value)))

    def set_show_state(self, key: str, value: Any, actor: str) -> None:
        """Show-wide switches (paused, frozen, revealed...), logged like everything else."""
        with self.transaction():
            self._set_show(key, value)
            self.log(actor, f"show.{key}", {"value": value})

    def show_state(self) -> dict[str, Any]:
        return {r["key"]: json.loads(r["value"]) for r in self.db.query("SELECT * FROM show_state")}

    # -- reading for scoring ------------------------------------------------

    def round_record(self, round_id: int) -> RoundRecord:
        return RoundRecord(
            round=self.round(round_id), answers=self.answers(round_id), judgments=self.judgments(round_id),
            panel_scores=self.panel_scores(round_id), votes=self.vote_counts(round_id),
            overrides=self.overrides(round_id),
        )

    def records(self) -> list[RoundRecord]:
        return [self.round_record(r.id) for r in self.rounds()]

    # -- rehearsal reset ----------------------------------------------------

    def wipe_show(self, actor: str) -> dict[str, int]:
        """Delete every round and what hangs off it, with their events, in one logged transaction.

        The event setup stays: finalists, panelists and their tokens, questions, prompt settings.
        Returns the rows deleted per table (the payload of the `rehearsal.reset` event).
        """
        with self.transaction():
            counts = {t: self.conn.execute(f"DELETE FROM {t}").rowcount for t in
                      ("votes", "panel_scores", "judgments", "answers", "overrides", "rounds", "show_state")}
            counts["events"] = self.conn.execute(
                "DELETE FROM events WHERE round_id IS NOT NULL OR kind LIKE 'show.%'").rowcount
            self.log(actor, "rehearsal.reset", counts)
        return counts


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


def iter_rows(store: Store, table: str) -> Iterable[dict[str, Any]]:
    """Rows of a table, for export; private tokens are never included."""
    columns = [c.name for c in store.db[table].columns if c.name != "token"]  # type: ignore[union-attr]
    quoted = ", ".join(f'"{c}"' for c in columns)
    return store.db.query(f"SELECT {quoted} FROM {table}")
