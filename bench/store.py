"""Vote writes through the store vs raw sqlite3 executemany, same rows, same run.

    .venv/bin/python bench/store.py [--votes 10000] [--batch 500] [--repeats 5]

Both sides use the same file settings (WAL, synchronous=FULL) and write the
same rows into the same `votes` schema; the store also writes its audit event
in the same transaction, which is the cost being measured. A/B runs alternate.
Writes bench/results/store.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from hub_load import voting_db  # bench/: a demo round with its poll open

from finale.store import Store, VoteIn

RESULTS = Path(__file__).parent / "results"


def _rows(n: int, round_id: int, labels: list[str]) -> list[VoteIn]:
    return [VoteIn(round_id, f"device-{i:06d}", labels[i % len(labels)], f"msg-{i}", 1000.0 + i * 1e-3)
            for i in range(n)]


def run_store(folder: Path, votes: int, batch: int) -> float:
    db, round_id, labels = voting_db(folder)  # the store asks the vote rule again at commit: a round whose poll is open
    store = Store(db)
    rows = _rows(votes, round_id, labels)
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        store.record_votes(rows[i:i + batch])
    elapsed = time.perf_counter() - start
    assert sum(store.vote_labels(round_id).values()) == votes
    store.close()
    return votes / elapsed


def run_raw(folder: Path, votes: int, batch: int) -> float:
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE votes (round_id INTEGER NOT NULL, device_id TEXT NOT NULL, label TEXT NOT NULL, "
                 "client_msg_id TEXT, cast_at REAL NOT NULL, PRIMARY KEY (round_id, device_id))")
    rows = [(v.round_id, v.device_id, v.label, v.client_msg_id, v.cast_at)
            for v in _rows(votes, 1, ["A", "B", "C", "D", "E"])]
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO votes VALUES (?, ?, ?, ?, ?)", rows[i:i + batch])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return votes / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500, help="votes per transaction (the hub's flush batch)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    store_rates, raw_rates = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            raw_rates.append(run_raw(Path(tmp), args.votes, args.batch))
            store_rates.append(run_store(Path(tmp), args.votes, args.batch))
    store_median, raw_median = statistics.median(store_rates), statistics.median(raw_rates)
    result = {
        "benchmark": "store",
        "votes": args.votes, "batch": args.batch, "repeats": args.repeats,
        "store_votes_per_s": store_rates, "raw_votes_per_s": raw_rates,
        "store_median_votes_per_s": round(store_median), "raw_median_votes_per_s": round(raw_median),
        "ratio": round(store_median / raw_median, 3), "target_ratio": 0.5,
        "passed": store_median / raw_median >= 0.5,
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": __import__("os").cpu_count()},
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "store.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("store_median_votes_per_s", "raw_median_votes_per_s", "ratio",
                                              "passed")}))


if __name__ == "__main__":
    main()
