"""What the store must hold after a drill: every acknowledged vote exactly once, tables that agree with the
audit log, `PRAGMA integrity_check` ok; and a dump of every table to tell whether anything was written."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finale.core.model import Phase
from finale.store import Store
from tests.drills.phone import PhoneLog

Dump = dict[str, list[tuple[Any, ...]]]


@dataclass
class VoteCheck:
    """How the store compares with what phones were told."""

    acknowledged: int
    stored: int  # acknowledged votes found in the store (the audit log, and the table for each device's last)
    rows: int  # rows in the votes table (one per device)
    duplicates: int
    lost: int
    unsent: int
    table_matches_log: bool

    @property
    def ok(self) -> bool:
        return self.duplicates == 0 and self.lost == 0 and self.unsent == 0 and self.table_matches_log


def check_votes(store: Store, round_id: int, sent: set[str], acked: set[str],
                last_acked: dict[str, str]) -> VoteCheck:
    """Every acknowledged vote is in the audit log exactly once; each device's row is its last acknowledged vote.

    `sent` and `acked` are message ids (unique per device); `last_acked` maps a voter (the id of the credential
    the hub issued the phone) to the label of its last acknowledged vote, which its row in the table must hold.
    """
    logged: Counter[str] = Counter()
    latest: dict[str, tuple[str, float]] = {}
    for ev in store.events(kind="votes.recorded", round_id=round_id):
        for device, label, msg_id, at in ev.payload["votes"]:
            logged[msg_id] += 1
            latest[device] = (label, at)  # the last one logged counts: arrival order, as the table keeps it
    rows = {v["device_id"]: v for v in store.votes(round_id)}
    table = {d: (v["label"], v["cast_at"]) for d, v in rows.items()}
    lost = sum(1 for m in acked if logged[m] == 0)
    lost += sum(1 for d, label in last_acked.items() if d not in rows or rows[d]["label"] != label)
    return VoteCheck(acknowledged=len(acked), stored=len(acked) - lost, rows=len(rows),
                     duplicates=sum(n - 1 for n in logged.values() if n > 1),
                     lost=lost, unsent=sum(1 for m in logged if m not in sent), table_matches_log=table == latest)


def check_phone_votes(store: Store, round_id: int, logs: list[PhoneLog]) -> VoteCheck:
    """`check_votes` for what the test phones logged."""
    return check_votes(store, round_id, {m for p in logs for m in p.sent}, {m for p in logs for m in p.acked},
                       {p.voter or p.device: p.sent[p.acked[-1]] for p in logs if p.acked})


def check_round_log(store: Store) -> list[str]:
    """Where the rounds, answers and judgments tables disagree with the audit log, and integrity problems."""
    problems: list[str] = []
    if (ic := store.integrity_check()) != "ok":
        problems.append(f"integrity_check: {ic}")
    for rnd in store.rounds():
        phases = [e.payload["phase"] for e in store.events(round_id=rnd.id) if "phase" in e.payload]
        logged_phase = phases[-1] if phases else Phase.DRAFT.value
        if logged_phase != rnd.phase.value:
            problems.append(f"round {rnd.id}: table says {rnd.phase}, log says {logged_phase}")
        answers: dict[str, str] = {}
        judged: dict[str, str] = {}
        for e in store.events(kind="answer.saved", round_id=rnd.id):
            if not e.payload["reference"]:
                answers[e.payload["finalist_id"]] = e.payload["status"]
        for e in store.events(kind="judgment.saved", round_id=rnd.id):
            judged[e.payload["finalist_id"]] = e.payload["status"]
        for fid, a in store.answers(rnd.id).items():
            if a.finished and answers.get(fid) != a.status.value:
                problems.append(f"round {rnd.id}: answer of {fid} is {a.status} but the log says {answers.get(fid)}")
        table_j = {fid: j.status.value for fid, j in store.judgments(rnd.id).items()}
        if table_j != judged:
            problems.append(f"round {rnd.id}: judgments {table_j} but the log says {judged}")
    return problems


def dump_tables(db_path: Path) -> Dump:
    """Every table's rows, sorted: two dumps are equal when nothing was written in between."""
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {n: sorted(conn.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        conn.close()
