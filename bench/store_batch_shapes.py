"""What each part of one vote batch's SQL costs: the store's statements, with and without its parts.

    .venv/bin/python bench/store_batch_shapes.py [--voters 10000] [--batch 100] [--repeats 2]

Why: the hub's write thread is the difference between the hub and the hub that stores nothing
(bench/hub_load.py --hub-variant free-writer), so the question for a redesign of the vote path is
what in a batch costs what. Each shape runs the statements of `Store.decide_votes` on its own file
(WAL, synchronous=FULL, the `votes` table and index of the schema, the audit row per batch):
batches of --batch random voters out of --voters, twice over (phase 0 inserts every voter, phase 1
changes every vote), beside a thread that stands in for the busy event loop (it takes the GIL
back whenever sqlite3 lets go of it). Figures are the write thread's CPU per vote, in us.
- `store`: the store up to schema 6: the rule's two look-ups (the voters' counted votes; the voters per
  origin) and the upsert;
- `no_lookups`: the upsert alone, as if the look-ups were answered from memory;
- `no_lookups_no_origin_index`: that, and no `votes_origin` index to keep up: the store since schema 7,
  whose look-ups the writer's ledger answers (finale/store/vote_ledger.py).
Not the store's code (that is bench/store.py): the same statements, so each part can be left out.
Writes bench/results/store_batch_shapes.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import secrets
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
SHAPES = ("store", "no_lookups", "no_lookups_no_origin_index")
UPSERT = ("INSERT INTO votes (round_id, device_id, label, client_msg_id, cast_at, origin, issued_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(round_id, device_id) DO UPDATE SET label=excluded.label, "
          "client_msg_id=excluded.client_msg_id, cast_at=excluded.cast_at, origin=excluded.origin, "
          "issued_at=excluded.issued_at")


def _busy_loop(stop: threading.Event) -> None:
    """Python work with short sleeps, as the hub's loop does between its socket calls."""
    x = 0
    while not stop.is_set():
        for _ in range(2000):
            x += 1
        time.sleep(0.0002)


def _database(folder: Path, shape: str) -> sqlite3.Connection:
    conn = sqlite3.connect(folder / f"{shape}.db", isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE votes (round_id INTEGER NOT NULL, device_id TEXT NOT NULL, label TEXT NOT NULL, "
                 "client_msg_id TEXT, cast_at REAL NOT NULL, origin TEXT, issued_at REAL, "
                 "PRIMARY KEY (round_id, device_id))")
    if shape != "no_lookups_no_origin_index":
        conn.execute("CREATE INDEX votes_origin ON votes(round_id, origin)")
    conn.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL, actor TEXT, kind TEXT, "
                 "round_id INTEGER, payload TEXT)")
    return conn


def _batch(conn: sqlite3.Connection, shape: str, rows: list[tuple[object, ...]]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    if shape == "store":
        devices, origins = [r[1] for r in rows], [r[5] for r in rows]
        marks = ",".join("?" * len(rows))
        list(conn.execute("SELECT device_id, client_msg_id, label, origin FROM votes WHERE round_id=? AND "
                          f"device_id IN ({marks})", [1, *devices]))
        list(conn.execute(f"SELECT origin, COUNT(*) FROM votes WHERE round_id=? AND origin IN ({marks}) "
                          "GROUP BY origin", [1, *origins]))
    conn.executemany(UPSERT, rows)
    conn.execute("INSERT INTO events (at, actor, kind, round_id, payload) VALUES (?, ?, ?, ?, ?)",
                 (time.time(), "hub", "votes.recorded", 1, json.dumps({"votes": [r[1:5] for r in rows]})))
    conn.execute("COMMIT")


def run_shape(shape: str, voters: int, batch: int) -> list[float]:
    """The write thread's CPU per vote (us) in phase 0 (every voter new) and phase 1 (every vote changed)."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = _database(Path(tmp), shape)
        ids = ["v" + secrets.token_hex(12) for _ in range(voters)]
        origins = ["o" + secrets.token_hex(8) for _ in range(voters)]
        order = list(range(voters))
        random.Random(1).shuffle(order)
        per_vote: list[float] = []

        def write() -> None:
            for phase in range(2):
                started = time.thread_time()
                for i in range(0, voters, batch):
                    _batch(conn, shape, [(1, ids[j], "ABCDE"[(j + phase) % 5], f"m{phase}-{j}", time.time(),
                                          origins[j], 1.0) for j in order[i:i + batch]])
                per_vote.append(round((time.thread_time() - started) * 1e6 / voters, 2))

        stop = threading.Event()
        busy = threading.Thread(target=_busy_loop, args=(stop,))
        busy.start()
        writer = threading.Thread(target=write)
        writer.start()
        writer.join()
        stop.set()
        busy.join()
        conn.close()
        return per_vote


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    runs: dict[str, list[list[float]]] = {shape: [] for shape in SHAPES}
    for _ in range(args.repeats):
        for shape in SHAPES:  # interleaved, so a slow minute of the machine falls on every shape
            runs[shape].append(run_shape(shape, args.voters, args.batch))
    result = {
        "benchmark": "store_batch_shapes", "voters": args.voters, "batch": args.batch, "repeats": args.repeats,
        "us_per_vote": runs,
        "median_us_per_vote": {shape: {"inserts": statistics.median(r[0] for r in rs),
                                       "changes": statistics.median(r[1] for r in rs)} for shape, rs in runs.items()},
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                    "platform": platform.platform()},
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "store_batch_shapes.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["median_us_per_vote"], indent=1))


if __name__ == "__main__":
    main()
