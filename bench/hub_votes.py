"""Phones voting through the hub (batched writer) vs one commit per vote, same votes, same run.

    .venv/bin/python bench/hub_votes.py [--phones 1000] [--repeats 3]

Hub side: `finale hub` runs as its own process (as at the venue); this process
opens `--phones` real WebSocket connections, says hello on each, then every
phone votes at once. Measured: wall time until every vote is acknowledged
(acks come only after the commit), ack latency p50/p99, and the hub's own
/healthz counters (batches, slowest commit, longest broadcast slice).
Baseline: the same number of votes written with `Store.record_votes([vote])`,
one transaction per vote, which is what the hub would do without its writer.
Writes bench/results/hub_votes.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from finale.autopilot.phones import source_address
from finale.config import load_event
from finale.demo import DEMO_EVENT
from finale.store import Store, VoteIn
from tests.hub_helpers import HubProcess, director_for, free_port, voting_round, wait_healthy

RESULTS = Path(__file__).parent / "results"


async def _phones_vote(url: str, phones: int, round_id: int, labels: list[str]) -> tuple[float, list[float]]:
    async with AsyncExitStack() as stack:
        conns: list[ClientConnection] = []
        for i in range(phones):
            source = source_address(i, "127.0.0.1")  # one phone per address, as the hub's limits expect
            ws = await stack.enter_async_context(connect(url, max_size=2**20, local_addr=source))
            await ws.send(json.dumps({"type": "hello", "role": "audience", "device_id": f"bench-{i:06d}"}))
            conns.append(ws)
        for ws in conns:
            while json.loads(await ws.recv())["type"] != "state":
                pass

        async def one(i: int, ws: ClientConnection) -> float:
            sent = time.perf_counter()
            await ws.send(json.dumps({"type": "vote", "round": round_id, "label": labels[i % len(labels)],
                                      "id": f"v{i}"}))
            while True:
                msg = json.loads(await ws.recv())
                if msg["type"] == "ack":
                    return time.perf_counter() - sent
                if msg["type"] == "error":
                    raise RuntimeError(msg)

        started = time.perf_counter()
        latencies = await asyncio.gather(*(one(i, ws) for i, ws in enumerate(conns)))
        return time.perf_counter() - started, list(latencies)


def run_hub(folder: Path, phones: int) -> dict[str, float]:
    db = folder / "hub.db"
    with Store(db) as store:
        store.setup_event(load_event(DEMO_EVENT))
        director = director_for(store)
        rnd = asyncio.run(voting_round(director, window_s=600))
    hub = HubProcess(db, free_port(), folder / "hub.log")
    hub.start()
    try:
        wall, lat = asyncio.run(_phones_vote(f"ws://127.0.0.1:{hub.port}/ws", phones, rnd.id,
                                             sorted(rnd.labels.values())))
        health = wait_healthy(hub.base, 10)
    finally:
        hub.stop()
    with Store(db) as store:
        assert sum(store.vote_labels(rnd.id).values()) == phones
    lat.sort()
    return {"wall_s": wall, "votes_per_s": phones / wall, "ack_p50_ms": statistics.median(lat) * 1000,
            "ack_p99_ms": lat[int(len(lat) * 0.99) - 1] * 1000, "batches": health["batches"],
            "slowest_commit_ms": health["slowest_commit_ms"],
            "longest_broadcast_slice_ms": health["longest_broadcast_slice_ms"]}


def run_baseline(folder: Path, phones: int) -> dict[str, float]:
    with Store(folder / "base.db") as store:
        store.setup_event(load_event(DEMO_EVENT))
        rnd = store.create_round("q", None, 1, {"a": "A", "b": "B"}, "bench")
        started = time.perf_counter()
        for i in range(phones):
            store.record_votes([VoteIn(rnd.id, f"bench-{i:06d}", "AB"[i % 2], f"v{i}", time.time())])
        wall = time.perf_counter() - started
    return {"wall_s": wall, "votes_per_s": phones / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    hub_runs, base_runs = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            base_runs.append(run_baseline(Path(tmp), args.phones))
            hub_runs.append(run_hub(Path(tmp), args.phones))

    def med(runs: list[dict[str, float]], key: str) -> float:
        return round(statistics.median(r[key] for r in runs), 3)

    result = {
        "bench": "hub_votes", "phones": args.phones, "repeats": args.repeats, "python": platform.python_version(),
        "hub": {k: med(hub_runs, k) for k in hub_runs[0]},
        "baseline_one_commit_per_vote": {k: med(base_runs, k) for k in base_runs[0]},
    }
    result["speedup_vs_baseline"] = round(result["hub"]["votes_per_s"] /
                                          result["baseline_one_commit_per_vote"]["votes_per_s"], 2)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "hub_votes.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
