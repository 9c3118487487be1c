"""10,000 phones on one hub with SQLite, one hub node on Redis, two nodes on Redis; and Redis's own ceiling.

    .venv/bin/python bench/hub_scale.py [--phones 10000] [--repeats 3] [--workers 10] [--burst-s 2] [--hold-s 5]
                                        [--paths sqlite,redis1,redis2] [--keep DIR]

Each repeat runs the three paths one after the other on this machine, each from a fresh demo
database with its poll open (bench/hub_load.voting_db):
- sqlite: `finale hub --db` (the one-hub path: the batched SQLite writer in the hub process);
- redis1: a private redis-server (AOF everysec, tests/redis_server.py), `finale drain` and one
  `finale hub --db --redis` (the primary);
- redis2: the same with a second node, `finale hub --redis` without the database; the phones
  processes alternate between the nodes (worker w joins node w % 2, 1,000 phones a worker).
The phones are bench/hub_load.py's load generator (bench/hub_load_phones.py, light RFC 6455
phones, each on its own 127.x.y.z): ramp, hold, then a burst (one vote per phone spread over
--burst-s) and a flood (every phone changes its vote at once). Measured per phase: acks, p50/p99
ack latency, votes/s, and CPU per vote from /proc/PID/stat from the first vote's slot to the last
answer: the hub processes together, redis-server, the drainer; Redis commands per vote (INFO
stats); Redis memory per 10,000 votes of a round's counted votes, tally and origins (MEMORY
USAGE), and the votes stream apart: the entries it holds after the burst (the drain's backlog:
it trims what SQLite has) and their bytes per entry. After the drain every acknowledged
vote must be in the SQLite audit log (lost = acknowledged but not there; a vote refused
`unavailable` is counted as refused: the load generator does not resend it, a real phone would).

On each Redis path, in the same run and on the same redis-server, redis-benchmark measures the
ceiling for the same operations: FCALL finale_vote (every call a new voter: __rand_int__ in the
voter, message and origin), and XADD and HSET of the same fields as baselines, with the server's
own CPU per call. Medians over the repeats, ratios against the SQLite path. The load average is
recorded with each run. Writes bench/results/hub_scale.json.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub_load import Workers, _r, cpu_s, get_json, stop_server, stored_ids, voting_db, wait_up

from finale.autopilot.health import percentile
from finale.autopilot.launch import free_port
from tests.redis_server import RedisServer

RESULTS = Path(__file__).parent / "results"
PATHS = ("sqlite", "redis1", "redis2")
FINALE = [sys.executable, "-m", "finale.cli"]
BENCH_KEYS = "finale:{bench}"  # redis-benchmark's keys: a hash tag of their own, the event's keys left alone


@dataclass
class Setup:
    """The processes of one path: the hubs (name -> process, port), and on Redis the server and drainer."""

    folder: Path
    round_id: int
    labels: list[str]
    hubs: dict[str, tuple[subprocess.Popen[bytes], int]] = field(default_factory=dict)
    redis: RedisServer | None = None
    drain: subprocess.Popen[bytes] | None = None

    def pids(self) -> dict[str, list[int]]:
        out = {"hubs": [p.pid for p, _ in self.hubs.values()]}
        if self.redis is not None and self.redis.proc is not None and self.drain is not None:
            out |= {"redis": [self.redis.proc.pid], "drain": [self.drain.pid]}
        return out

    def redis_cli(self, *args: str) -> str:
        assert self.redis is not None
        return subprocess.run(["redis-cli", "-p", str(self.redis.port), *args], capture_output=True, text=True,
                              check=True, timeout=60).stdout

    def info(self, section: str) -> dict[str, str]:
        lines = self.redis_cli("INFO", section).splitlines()
        return dict(line.split(":", 1) for line in lines if ":" in line and not line.startswith("#"))

    def usage(self, key: str) -> int:
        return int(self.redis_cli("MEMORY", "USAGE", key, "SAMPLES", "0").strip() or 0)

    def keys_memory(self, prefix: str, round_id: int) -> int:
        """Bytes Redis holds for one round's counted votes, tally and origins (what stays for the round).

        The votes stream is measured apart (`stream_memory`): the drain trims it as SQLite takes it, so
        what it holds at any moment is the backlog, not a figure per vote.
        """
        return sum(self.usage(f"{prefix}:r{round_id}:{part}") for part in ("votes", "tally", "origins"))

    def stream_memory(self, prefix: str) -> dict[str, int]:
        """The votes stream now: entries held (the drain's backlog plus its last drained entry) and their bytes."""
        entries = int(self.redis_cli("XLEN", f"{prefix}:votes").strip() or 0)
        return {"entries": entries, "bytes": self.usage(f"{prefix}:votes")}

    def event_prefix(self) -> str:
        from finale.store import Store

        with Store.open_existing(self.folder / "hub.db") as store:
            return f"finale:{{{store.event_id()}}}"

    def stop(self) -> None:
        for proc, _port in self.hubs.values():
            stop_server(proc)
        if self.drain is not None:
            stop_server(self.drain)
        if self.redis is not None:
            self.redis.stop()


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def start_path(path: str, folder: Path) -> Setup:
    db, round_id, labels = voting_db(folder)
    setup = Setup(folder, round_id, labels)
    redis_args: list[str] = []
    if path != "sqlite":
        (folder / "redis").mkdir()
        setup.redis = RedisServer(folder / "redis")
        setup.redis.start()
        setup.drain = spawn([*FINALE, "drain", "--db", str(db), "--redis", setup.redis.url], folder / "drain.log")
        redis_args = ["--redis", setup.redis.url]
    for i in range(2 if path == "redis2" else 1):
        port = free_port()
        db_args = ["--db", str(db)] if i == 0 else []
        proc = spawn([*FINALE, "hub", *db_args, *redis_args, "--host", "127.0.0.1", "--port", str(port),
                      "--public-url", f"http://127.0.0.1:{port}"], folder / f"hub{i}.log")
        setup.hubs[f"hub{i}"] = (proc, port)
        wait_up(f"http://127.0.0.1:{port}", proc, 60)
    return setup


def cpu_of(pids: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_s(p) for p in group) for name, group in pids.items()}


def vote_phase(workers: Workers, setup: Setup, spread_s: float, tag: str, shift: int) -> dict[str, Any]:
    """One vote per phone (bench/hub_load_phones.py `votes`); CPU from the first vote's slot to the last answer."""
    start_at = time.time() + 1.0
    args = {"round_id": setup.round_id, "labels": setup.labels, "start_at": start_at, "spread_s": spread_s,
            "tag": tag, "shift": shift}
    for pipe in workers.pipes:
        pipe.send(("votes", args))
    time.sleep(max(0.0, start_at - time.time()))
    before = cpu_of(setup.pids())
    redis_before = setup.info("stats") if setup.redis else {}
    parts = [pipe.recv() for pipe in workers.pipes]
    cpu = {k: v - before[k] for k, v in cpu_of(setup.pids()).items()}
    latency = [x for p in parts for x in p["latency_ms"]]
    acked = sum(len(p["acked"]) for p in parts)
    first, last = min(p["first_send"] for p in parts), max(p["last_ack"] for p in parts)
    errors: dict[str, int] = {}  # a refused vote (`unavailable`) is not acknowledged: a real phone resends it
    for p in parts:
        for k, v in p["errors"].items():
            errors[k] = errors.get(k, 0) + v
    out: dict[str, Any] = {
        "sent": sum(len(p["sent"]) for p in parts), "acked": acked, "errors": errors,
        "refused": sum(errors.values()), "acked_ids": [i for p in parts for i in p["acked"]],
        "p50_ms": _r(percentile(latency, 50)), "p99_ms": _r(percentile(latency, 99)),
        "max_ms": _r(max(latency) if latency else None),
        "per_s": round(acked / (last - first)) if last > first else None,
        "cpu_ms_per_vote": {k: _r(v * 1000 / max(1, acked), 4) for k, v in cpu.items()}}
    out["cpu_ms_per_vote"]["hubs_and_redis"] = _r((cpu["hubs"] + cpu.get("redis", 0.0)) * 1000 / max(1, acked), 4)
    if setup.redis is not None:
        commands = int(setup.info("stats")["total_commands_processed"]) - int(redis_before["total_commands_processed"])
        out["redis_commands_per_vote"] = _r(commands / max(1, acked), 2)
    return out


def wait_drained(setup: Setup, timeout: float = 120.0) -> float:
    """Seconds until the drainer's mark in SQLite is the last entry of the votes stream."""
    from finale.store import Store

    started = time.monotonic()
    stream = f"{setup.event_prefix()}:votes"
    with Store.open_existing(setup.folder / "hub.db") as store:
        newest = setup.redis_cli("XREVRANGE", stream, "+", "-", "COUNT", "1").split()
        while newest and store.drained_id(stream) != newest[0]:
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"the drainer did not reach {newest[0]} in {timeout} s")
            time.sleep(0.1)
    return time.monotonic() - started


def benchmark(setup: Setup, n: int) -> dict[str, Any]:
    """redis-benchmark on the same server: FCALL finale_vote (a new voter each call), XADD and HSET baselines."""
    assert setup.redis is not None and setup.redis.proc is not None
    k = BENCH_KEYS
    setup.redis_cli("HSET", f"{k}:show", "round", "1", "version", "bench")
    vote = ["FCALL", "finale_vote", "5", f"{k}:show", f"{k}:r1:votes", f"{k}:r1:tally", f"{k}:r1:origins",
            f"{k}:votes", "1", "bench", "v__rand_int__", "A", "m__rand_int__", "1796170000.25", "o__rand_int__",
            "1796169000.5", "2", ""]
    xadd = ["XADD", f"{k}:xadd", "*", "round", "1", "voter", "v__rand_int__", "label", "A", "msg", "m__rand_int__",
            "cast_at", "1796170000.25", "origin", "o__rand_int__", "issued_at", "1796169000.5", "arrival", ""]
    hset = ["HSET", f"{k}:hset", "v__rand_int__", "m__rand_int__\tA\to__rand_int__"]
    out: dict[str, Any] = {"requests": n, "pipeline": 16, "clients": 50}
    for name, command in (("fcall_finale_vote", vote), ("xadd", xadd), ("hset", hset)):
        cpu = cpu_s(setup.redis.proc.pid)
        run = subprocess.run(["redis-benchmark", "-p", str(setup.redis.port), "-n", str(n), "-P", "16", "-c", "50",
                              "-r", "100000000", "--csv", *command], capture_output=True, text=True, timeout=600)
        rows = list(csv.DictReader(io.StringIO(run.stdout)))
        if run.returncode != 0 or not rows:
            raise RuntimeError(f"redis-benchmark {name} failed: {run.stdout}{run.stderr}")
        out[name] = {"per_s": round(float(rows[0]["rps"])), "p50_ms": float(rows[0]["p50_latency_ms"]),
                     "p99_ms": float(rows[0]["p99_latency_ms"]),
                     "redis_cpu_ms_per_call": _r((cpu_s(setup.redis.proc.pid) - cpu) * 1000 / n, 5)}
    voters = int(setup.redis_cli("HLEN", f"{k}:r1:votes"))
    vote_out = out["fcall_finale_vote"]
    vote_out["new_voters"] = voters  # __rand_int__ of 10^8: nearly every call a new voter
    vote_out["memory_per_10k_votes"] = setup.keys_memory(k, 1) * 10_000 // max(1, voters)
    stream = setup.stream_memory(k)  # nothing drains the benchmark's stream: what each entry costs Redis until it is
    vote_out["stream_bytes_per_entry"] = stream["bytes"] // max(1, stream["entries"])
    return out


def run_one(path: str, phones: int, n_workers: int, burst_s: float, hold_s: float, bench_n: int,
            keep: Path | None) -> dict[str, Any]:
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(dir=keep) as tmp:
        folder = Path(tmp)
        setup = start_path(path, folder)
        result: dict[str, Any] = {"path": path, "phones": phones, "nodes": len(setup.hubs)}
        try:
            urls = [f"ws://127.0.0.1:{port}/ws" for _p, port in setup.hubs.values()]
            workers = Workers(urls, phones, n_workers)
            ramp = workers.ask("ramp")
            result["connected"] = sum(r["connected"] for r in ramp)
            result["ramp_s"] = _r(max(r["ramp_s"] for r in ramp))
            time.sleep(hold_s)
            result["held"] = sum(workers.ask("held"))
            burst = vote_phase(workers, setup, burst_s, "burst", 0)
            if setup.redis:  # one vote per phone: the counted-votes hash, tally and origins; the stream apart
                held = setup.keys_memory(setup.event_prefix(), setup.round_id)
                result["redis_memory_per_10k_votes"] = held * 10_000 // max(1, burst["acked"])
                result["redis_used_memory_mb"] = _r(int(setup.info("memory")["used_memory"]) / 1e6)
                result["redis_stream_after_burst"] = setup.stream_memory(setup.event_prefix())  # the drain's backlog
            flood = vote_phase(workers, setup, 0.0, "flood", 1)
            if setup.redis:  # every phone changed its vote: the hashes still hold one per phone
                grown = setup.keys_memory(setup.event_prefix(), setup.round_id) - held
                result["redis_memory_per_10k_changed_votes"] = grown * 10_000 // max(1, flood["acked"])
            workers.close()
            if setup.redis is not None:
                drain_cpu = cpu_s(setup.drain.pid) if setup.drain else 0.0
                result["drain_after_last_ack_s"] = _r(wait_drained(setup))
                result["redis_benchmark"] = benchmark(setup, bench_n)
                result["drain_cpu_after_acks_s"] = _r(cpu_s(setup.drain.pid) - drain_cpu if setup.drain else 0, 3)
            result["hub_health"] = {name: get_json(f"http://127.0.0.1:{port}/healthz").get("scale")
                                    for name, (_p, port) in setup.hubs.items()}
        finally:
            setup.stop()
        logged = stored_ids(folder, setup.round_id)
        for phase in (burst, flood):  # lost: acknowledged, yet not in the SQLite audit log after the drain
            phase["lost"] = len(set(phase.pop("acked_ids")) - logged)
        result |= {"burst": burst, "flood": flood, "load_avg_1m": [load_before, round(os.getloadavg()[0], 2)]}
        return result


def median(runs: list[dict[str, Any]], *keys: str) -> float | None:
    values = []
    for run in runs:
        v: Any = run
        for key in keys:
            v = v.get(key) if isinstance(v, dict) else None
        if isinstance(v, int | float):
            values.append(v)
    return _r(statistics.median(values), 4) if values else None


FIGURES = {
    "held": ("held",), "burst_acked": ("burst", "acked"), "burst_refused": ("burst", "refused"),
    "burst_lost": ("burst", "lost"),
    "burst_p50_ms": ("burst", "p50_ms"), "burst_p99_ms": ("burst", "p99_ms"), "burst_per_s": ("burst", "per_s"),
    "burst_hub_cpu_ms_per_vote": ("burst", "cpu_ms_per_vote", "hubs"),
    "burst_redis_cpu_ms_per_vote": ("burst", "cpu_ms_per_vote", "redis"),
    "burst_hubs_and_redis_cpu_ms_per_vote": ("burst", "cpu_ms_per_vote", "hubs_and_redis"),
    "burst_drain_cpu_ms_per_vote": ("burst", "cpu_ms_per_vote", "drain"),
    "burst_redis_commands_per_vote": ("burst", "redis_commands_per_vote"),
    "flood_acked": ("flood", "acked"), "flood_refused": ("flood", "refused"), "flood_lost": ("flood", "lost"),
    "flood_p50_ms": ("flood", "p50_ms"),
    "flood_p99_ms": ("flood", "p99_ms"), "flood_per_s": ("flood", "per_s"),
    "flood_hub_cpu_ms_per_vote": ("flood", "cpu_ms_per_vote", "hubs"),
    "flood_redis_cpu_ms_per_vote": ("flood", "cpu_ms_per_vote", "redis"),
    "flood_hubs_and_redis_cpu_ms_per_vote": ("flood", "cpu_ms_per_vote", "hubs_and_redis"),
    "redis_memory_per_10k_votes": ("redis_memory_per_10k_votes",),
    "redis_memory_per_10k_changed_votes": ("redis_memory_per_10k_changed_votes",),
    "redis_used_memory_mb": ("redis_used_memory_mb",),
    "redis_stream_entries_after_burst": ("redis_stream_after_burst", "entries"),
    "redis_stream_bytes_after_burst": ("redis_stream_after_burst", "bytes"),
    "drain_after_last_ack_s": ("drain_after_last_ack_s",),
    "ceiling_fcall_per_s": ("redis_benchmark", "fcall_finale_vote", "per_s"),
    "ceiling_fcall_redis_cpu_ms": ("redis_benchmark", "fcall_finale_vote", "redis_cpu_ms_per_call"),
    "ceiling_fcall_memory_per_10k_votes": ("redis_benchmark", "fcall_finale_vote", "memory_per_10k_votes"),
    "stream_bytes_per_entry": ("redis_benchmark", "fcall_finale_vote", "stream_bytes_per_entry"),
    "ceiling_xadd_per_s": ("redis_benchmark", "xadd", "per_s"),
    "ceiling_hset_per_s": ("redis_benchmark", "hset", "per_s"),
}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in PATHS:
        mine = [r for r in runs if r["path"] == path]
        if mine:
            out[path] = {name: median(mine, *keys) for name, keys in FIGURES.items()}
            out[path]["load_avg_1m"] = [r["load_avg_1m"] for r in mine]
    base = out.get("sqlite", {})
    for path in ("redis1", "redis2"):
        if path in out and base:
            mine = out[path]
            out[f"ratios_{path}_over_sqlite"] = {
                name: _r(mine[name] / base[name], 3) if mine.get(name) and base.get(name) else None
                for name in ("burst_hub_cpu_ms_per_vote", "flood_hub_cpu_ms_per_vote", "burst_p99_ms",
                             "flood_per_s")}
            mine["flood_per_s_over_ceiling"] = _r((mine["flood_per_s"] or 0) / (mine["ceiling_fcall_per_s"] or 1), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=10, help="phones processes (alternating over the nodes)")
    parser.add_argument("--burst-s", type=float, default=2.0)
    parser.add_argument("--hold-s", type=float, default=5.0)
    parser.add_argument("--benchmark-n", type=int, default=200_000, help="redis-benchmark requests per command")
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--keep", type=Path, help="keep each run's folder (logs, database, AOF) under DIR")
    parser.add_argument("--out", type=Path, default=RESULTS / "hub_scale.json")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    paths = [p for p in args.paths.split(",") if p]
    if unknown := set(paths) - set(PATHS):
        sys.exit(f"--paths: unknown {sorted(unknown)}; expected some of {','.join(PATHS)}")
    runs = []
    for repeat in range(args.repeats):
        for path in paths:
            run = run_one(path, args.phones, args.workers, args.burst_s, args.hold_s, args.benchmark_n, args.keep)
            run["repeat"] = repeat
            runs.append(run)
            b, f = run["burst"], run["flood"]
            ceiling = run.get("redis_benchmark", {}).get("fcall_finale_vote", {}).get("per_s", "-")
            print(f"{path} #{repeat}: held {run['held']}/{args.phones}; burst acked {b['acked']} "
                  f"refused {b['refused']} lost {b['lost']} "
                  f"p50 {b['p50_ms']} p99 {b['p99_ms']} ms cpu/vote {b['cpu_ms_per_vote']}; flood {f['per_s']}/s "
                  f"p99 {f['p99_ms']} ms cpu/vote {f['cpu_ms_per_vote']}; FCALL ceiling {ceiling}/s; "
                  f"load {run['load_avg_1m']}", flush=True)
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    result = {"benchmark": "hub_scale", "phones": args.phones, "repeats": args.repeats, "workers": args.workers,
              "burst_s": args.burst_s, "hold_s": args.hold_s, **summarise(runs), "runs": runs,
              "machine": {"python": platform.python_version(), "platform": platform.platform(),
                          "cpus": os.cpu_count(), "redis": redis_version},
              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k in PATHS or k.startswith("ratios")}, indent=1))


if __name__ == "__main__":
    main()
