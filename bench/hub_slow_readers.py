"""1,000 stage connections that never read, while the answers stream: the hub's stalls and the kernel memory, vs quiet.

    .venv/bin/python bench/hub_slow_readers.py [--stages 1000] [--states 40] [--repeats 3] [--tree DIR] [--out FILE]

Each repeat starts `finale hub` (a child, 127.0.0.1) on a round whose poll is
open and whose five answers are 6,000 characters each (a stage state of about
31 KB, the issue's case), connects --stages plain sockets that complete the
WebSocket upgrade and a stage hello, then never read (tests/raw_ws.py), and
measures three phases:
- quiet (the baseline, same run, same connections): 4 s, nothing changes;
- storm: --states answer updates at 10 per second (each one state broadcast
  to every stage), then 2 s;
- after the drop: until the hub has dropped the stages that never read (or 15 s).
Per phase (peaks, and the values at its end): the hub loop's longest stall (its own monitor through /healthz, and
GET /healthz response times every 20 ms from outside), the longest broadcast
slice, the kernel's TCP memory (/proc/net/sockstat, the whole machine: phones
and hub share this kernel on loopback), the bytes the hub's sockets hold unsent
and the bytes the stages' sockets hold unread (/proc/net/tcp), the hub's RSS,
and what /healthz says of slow readers. --tree DIR runs the hub from another
checkout (a before/after comparison). Medians over the repeats, storm over
quiet. Writes bench/results/hub_slow_readers.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from hub_churn import peak, start_hub
from hub_load import RESULTS, LagSampler, get_json, rss_kb, stop_server, voting_db

from finale.autopilot.launch import free_port
from finale.core.model import Answer, AnswerStatus
from finale.store import Store
from tests.raw_ws import silent_stage


def long_answers(db: Path, round_id: int, mark: int, only: str | None = None) -> None:
    """Every finalist's answer (or `only` one) at 6,000 characters, marked: a stage state of about 31 KB."""
    with Store(db) as store:
        for fid in store.round(round_id).labels:
            if only is None or fid == only:
                text = f"[{mark}] " + ("The answer streams on and on. " * 200)[:5990]
                store.save_answer(Answer(round_id, fid, text, AnswerStatus.STREAMING), log=False)


def tcp_queues(port: int) -> dict[str, int]:
    """Unsent bytes on the hub's side and unread bytes on the stages' side of every connection to `port`."""
    unsent = unread = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        local, remote, tx, rx = int(f[1].split(":")[1], 16), int(f[2].split(":")[1], 16), *f[4].split(":")
        if local == port:
            unsent += int(tx, 16)
        elif remote == port:
            unread += int(rx, 16)
    return {"hub_unsent_bytes": unsent, "stages_unread_bytes": unread}


def kernel_tcp_bytes() -> int:
    for line in Path("/proc/net/sockstat").read_text().splitlines():
        if line.startswith("TCP:"):
            fields = line.split()
            return int(fields[fields.index("mem") + 1]) * os.sysconf("SC_PAGE_SIZE")
    return 0


class Memory:
    """Peaks of the kernel's TCP memory, the hub's RSS and the queues, sampled every 0.25 s while running."""

    def __init__(self, port: int, pid: int) -> None:
        self.port, self.pid = port, pid
        self.peak: dict[str, int] = {}

    def sample(self) -> dict[str, int]:
        now = {"kernel_tcp_bytes": kernel_tcp_bytes(), "hub_rss_bytes": rss_kb(self.pid) * 1024,
               **tcp_queues(self.port)}
        for k, v in now.items():
            self.peak[k] = max(self.peak.get(k, 0), v)
        return now

    async def during(self, work: Any) -> dict[str, int]:
        self.peak = {}
        task = asyncio.ensure_future(work)
        while not task.done():
            self.sample()
            await asyncio.sleep(0.25)
        await task
        end = self.sample()
        return {**self.peak, **{f"end_{k}": v for k, v in end.items()}}


async def phase(name: str, base: str, memory: Memory, work: Any) -> dict[str, Any]:
    started = time.time()
    slice_before = get_json(f"{base}/healthz").get("longest_broadcast_slice_ms")
    with LagSampler(base) as probe:
        mem = await memory.during(work)
    health = get_json(f"{base}/healthz")
    return {"phase": name, **mem, "stall_ms": peak(health.get("loop"), started, time.time()),
            "stall_cpu_ms": peak((health.get("loop") or {}).get("cpu"), started, time.time()),
            "probe": probe.summary(), "broadcast_slice_ms": health.get("longest_broadcast_slice_ms"),
            "broadcast_slice_before_ms": slice_before, "slow_readers": health.get("slow_readers"),
            "stage_connections": health.get("stage"), "load_avg_1m": round(os.getloadavg()[0], 2)}


async def one_run(args: argparse.Namespace) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, round_id, _labels = await asyncio.to_thread(voting_db, folder)  # it runs its own loop
        long_answers(db, round_id, 0)
        with Store(db) as store:
            first = sorted(store.round(round_id).labels)[0]
        port = free_port()
        proc, _ = start_hub(folder, port, args.tree, db)
        base = f"http://127.0.0.1:{port}"
        stages = []
        try:
            for i in range(args.stages):
                stages.append(await silent_stage(port, f"bench-stage-{i:05d}"))
            memory = Memory(port, proc.pid)
            quiet = await phase("quiet", base, memory, asyncio.sleep(4))

            async def storm() -> None:
                for i in range(1, args.states + 1):
                    await asyncio.to_thread(long_answers, db, round_id, i, first)
                    await asyncio.sleep(0.1)
                await asyncio.sleep(2)

            stormy = await phase("storm", base, memory, storm())

            async def drop() -> None:
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and get_json(f"{base}/healthz").get("stage", 0) > 0:
                    await asyncio.sleep(0.5)

            dropped = await phase("after_drop", base, memory, drop())
            return [quiet, stormy, dropped]
        finally:
            for s in stages:
                s.abort()
            stop_server(proc)


def summarise(runs: list[list[dict[str, Any]]]) -> dict[str, Any]:
    keys = ("stall_ms", "stall_cpu_ms", "kernel_tcp_bytes", "hub_unsent_bytes", "stages_unread_bytes",
            "hub_rss_bytes", "broadcast_slice_ms", "end_kernel_tcp_bytes", "end_hub_unsent_bytes")
    out: dict[str, Any] = {}
    for i, name in enumerate(("quiet", "storm", "after_drop")):
        phases = [r[i] for r in runs]
        out[name] = {k: (statistics.median(v) if (v := [p[k] for p in phases if isinstance(p.get(k), int | float)])
                         else None) for k in keys}
        out[name]["probe_max_ms"] = statistics.median(p["probe"]["max_ms"] or 0 for p in phases)
        out[name]["dropped"] = [(p.get("slow_readers") or {}).get("dropped") for p in phases]
    q, s = out["quiet"], out["storm"]
    out["storm_over_quiet"] = {k: round(s[k] / q[k], 2) if s.get(k) and q.get(k) else None
                               for k in ("stall_ms", "kernel_tcp_bytes", "hub_rss_bytes", "probe_max_ms")}
    out["storm_minus_quiet_mb"] = {k: round((s[k] - q[k]) / 2**20, 1) if s.get(k) is not None and q.get(k) is not None
                                   else None for k in ("kernel_tcp_bytes", "hub_unsent_bytes", "stages_unread_bytes",
                                                       "hub_rss_bytes")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=1000)
    parser.add_argument("--states", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tree", type=Path, help="run the hub from this checkout (a before/after comparison)")
    parser.add_argument("--out", type=Path, default=RESULTS / "hub_slow_readers.json")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    load_before = [round(x, 2) for x in os.getloadavg()]
    runs = []
    for r in range(args.repeats):
        run = asyncio.run(one_run(args))
        runs.append(run)
        for p in run:
            print(f"#{r} {p['phase']}: stall {p['stall_ms']} ms (cpu {p['stall_cpu_ms']}), probe max "
                  f"{p['probe']['max_ms']} ms, slice {p['broadcast_slice_ms']} ms, kernel TCP "
                  f"{p['kernel_tcp_bytes'] / 2**20:.0f} MB, hub unsent {p['hub_unsent_bytes'] / 2**20:.1f} MB, stages "
                  f"unread {p['stages_unread_bytes'] / 2**20:.1f} MB, hub RSS {p['hub_rss_bytes'] / 2**20:.0f} MB, "
                  f"slow {p['slow_readers']}, load {p['load_avg_1m']}", flush=True)
    result = {"benchmark": "hub_slow_readers", "stages": args.stages, "states": args.states, "repeats": args.repeats,
              "tree": str(args.tree) if args.tree else None, **summarise(runs), "runs": runs,
              "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                          "load_avg_before": load_before, "load_avg_after": [round(x, 2) for x in os.getloadavg()]},
              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("quiet", "storm", "after_drop", "storm_over_quiet",
                                             "storm_minus_quiet_mb")}, indent=1))


if __name__ == "__main__":
    main()
