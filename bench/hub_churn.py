"""The hub's longest event-loop stall at the close of a poll after connection churn, vs the same run's quiet polls.

    .venv/bin/python bench/hub_churn.py [--cycles 3] [--churn-s 10] [--observe-s 4] [--live 1000] [--at-once 20]
                                        [--tree DIR] [--logs DIR] [--out FILE]

One `finale hub` process (a child, 127.0.0.1) with --live audience phones held
throughout (bench/hub_load_phones.py, one process). Then --cycles pairs of
polls, alternating: a quiet poll (open, --churn-s of nothing, close) and a
churn poll (open, --churn-s of connect-hello-vote-disconnect, --at-once at a
time, each from its own loopback address, ending in turn with a close frame,
a reset, no hello at all, or a plain GET /healthz; tests/raw_ws.py clients),
each followed by --observe-s after the close. Measured per poll, from the hub
itself through /healthz: the loop's longest stall (audience/looplag.py, its
per-second peaks lined up with the phases) and the longest garbage-collection
pause (the gc callbacks of audience/gcpolicy.py), during the poll and from the
close on; the frozen objects before and after; the hub's RSS; and, from
outside, GET /healthz response times every 20 ms (the only figure for a hub
from before the loop monitor: --tree DIR runs the hub from another checkout,
whose log is then searched for its slow collections). Medians over the
cycles, churn over quiet. Writes bench/results/hub_churn.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hub_load import RESULTS, LagSampler, Workers, get_json, rss_kb, stop_server, wait_up

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the plain-socket client is shared with the tests (tests/raw_ws.py)

from finale.autopilot.launch import free_port  # noqa: E402
from finale.config import load_event  # noqa: E402
from finale.demo import DEMO_EVENT  # noqa: E402
from finale.director import Director, build_endpoints  # noqa: E402
from finale.store import Store  # noqa: E402
from tests.raw_ws import RawClient, http_get, loopback  # noqa: E402

SLOW_GC = re.compile(r"^(\S+ \S+) .*(?:paused the hub for|unreachable objects in) (\d+) ms")


def start_hub(folder: Path, port: int, tree: Path | None,
              db: Path | None = None) -> tuple[subprocess.Popen[bytes], Path]:
    """`finale hub` on `db` (a fresh demo event by default), from `tree` when given; its log in folder/hub.log."""
    if db is None:
        db = folder / "hub.db"
        with Store(db) as store:
            store.setup_event(load_event(DEMO_EVENT))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    log = folder / "hub.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "finale.cli", "hub", "--db", str(db), "--host", "127.0.0.1",
                                 "--port", str(port), "--public-url", f"http://127.0.0.1:{port}"],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=tree or ROOT)
    try:
        wait_up(f"http://127.0.0.1:{port}", proc)
    except RuntimeError:
        sys.exit(f"the hub did not start:\n{log.read_text()[-2000:]}")
    return proc, db


async def open_round(director: Director, seed: int) -> int:
    rnd = director.new_round("capital", seed=seed)
    await director.ask(rnd.id)
    await director.judge(rnd.id)
    return director.open_poll(rnd.id, 3600).id


class Churn:
    """Connect-hello-vote-disconnect, `at_once` at a time, until `until` (time.time())."""

    WAYS = ("close", "reset", "silent", "http")

    def __init__(self, port: int, round_id: int, first: int) -> None:
        self.port, self.round_id, self.next = port, round_id, first
        self.done: dict[str, int] = {"ack": 0, "refused": 0, "failed": 0}

    async def one(self, i: int) -> None:
        how = self.WAYS[i % len(self.WAYS)]
        try:
            if how == "http":
                await http_get(self.port, "/healthz")
                self.done["ack"] += 1
                return
            c = await RawClient(self.port, source=loopback(i)).open()
            if how == "silent":
                c.abort()
                return
            await c.send({"type": "hello", "role": "audience", "device_id": f"churn-{i:08d}"})
            await c.recv_json()
            await c.send({"type": "vote", "round": self.round_id, "label": "A", "id": f"c{i}"})
            reply = await c.recv_json()
            self.done["ack" if reply.get("type") == "ack" else "refused"] += 1
            if how == "close":
                await c.close()
            else:
                c.abort()
        except (OSError, TimeoutError, ValueError):
            self.done["failed"] += 1

    async def run(self, until: float, at_once: int) -> int:
        async def lane() -> None:
            while time.time() < until:
                i, self.next = self.next, self.next + 1
                await self.one(i)

        first = self.next
        await asyncio.gather(*(lane() for _ in range(at_once)))
        return self.next - first


def peak(history: dict[str, Any] | None, since: float, until: float) -> float | None:
    """The peak of a /healthz per-second history over [since, until] (None for a hub without one)."""
    if not history:
        return None
    return max((ms for s, ms in history["by_second"] if int(since) <= s <= until), default=0.0)


def logged_gc(log: Path, since: float, until: float) -> float:
    """A hub without the gc history: its slowest logged collection in the window (it logs those over 50 ms)."""
    worst = 0.0
    for line in log.read_text(errors="replace").splitlines():
        m = SLOW_GC.match(line)
        if m:
            at = time.mktime(time.strptime(m.group(1).split(",")[0], "%Y-%m-%d %H:%M:%S"))
            if since - 1 <= at <= until + 1:
                worst = max(worst, float(m.group(2)))
    return worst


async def one_poll(kind: str, director: Director, port: int, pid: int, log: Path, seed: int, args: argparse.Namespace,
                   churn_from: int) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    round_id = await open_round(director, seed)
    await asyncio.sleep(0.5)
    before = get_json(f"{base}/healthz")
    rss_before = rss_kb(pid)
    started = time.time()
    churned, done = 0, {}
    with LagSampler(base) as during:
        if kind == "churn":
            churn = Churn(port, round_id, churn_from)
            churned = await churn.run(started + args.churn_s, args.at_once)
            done = churn.done
        else:
            await asyncio.sleep(args.churn_s)
    rss_end = rss_kb(pid)
    closed_at = time.time()
    with LagSampler(base) as after_close:
        await asyncio.to_thread(director.close_poll, round_id)
        await asyncio.sleep(args.observe_s)
    end = time.time()
    health = get_json(f"{base}/healthz")
    await asyncio.to_thread(director.void, round_id, "bench: next poll")  # the next round may start
    loop, gcs = health.get("loop"), (health.get("gc") or {}).get("pauses")
    gc_close = peak(gcs, closed_at, end) if gcs else logged_gc(log, closed_at, end)
    return {
        "kind": kind, "round": round_id, "churned": churned, "replies": done,
        "per_s": round(churned / args.churn_s, 1), "load_avg_1m": round(os.getloadavg()[0], 2),
        "stall_poll_ms": peak(loop, started, closed_at - 1), "stall_close_ms": peak(loop, closed_at, end),
        "stall_cpu_poll_ms": peak((loop or {}).get("cpu"), started, closed_at - 1),
        "stall_cpu_close_ms": peak((loop or {}).get("cpu"), closed_at, end),
        "gc_poll_ms": peak(gcs, started, closed_at - 1) if gcs else logged_gc(log, started, closed_at - 1),
        "gc_close_ms": gc_close,
        "frozen_before": (before.get("gc") or {}).get("frozen"), "frozen_after": (health.get("gc") or {}).get("frozen"),
        "rss_kb_before": rss_before, "rss_kb_end_of_poll": rss_end, "rss_kb_after_close": rss_kb(pid),
        "probe_poll": during.summary(), "probe_close": after_close.summary(),
        "reclaims": (health.get("gc") or {}).get("reclaims"),
    }


def med(polls: list[dict[str, Any]], key: str, *sub: str) -> float | None:
    values = []
    for p in polls:
        v: Any = p[key]
        for k in sub:
            v = v.get(k) if isinstance(v, dict) else None
        if isinstance(v, int | float):
            values.append(float(v))
    return round(statistics.median(values), 2) if values else None


def summarise(polls: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("quiet", "churn"):
        mine = [p for p in polls if p["kind"] == kind]
        out[kind] = {k: med(mine, k) for k in ("stall_close_ms", "stall_poll_ms", "stall_cpu_close_ms",
                                               "stall_cpu_poll_ms", "gc_close_ms", "gc_poll_ms", "churned", "per_s")}
        out[kind]["probe_close_max_ms"] = med(mine, "probe_close", "max_ms")
        out[kind]["probe_poll_p99_ms"] = med(mine, "probe_poll", "p99_ms")
        out[kind]["worst_stall_close_ms"] = max((p["stall_close_ms"] or 0 for p in mine), default=None)
    q, c = out["quiet"], out["churn"]
    out["ratios_churn_over_quiet"] = {k: round(c[k] / q[k], 2) if c.get(k) and q.get(k) else None
                                      for k in ("stall_close_ms", "stall_cpu_close_ms", "gc_close_ms",
                                                "probe_close_max_ms")}
    worst = max((p["stall_close_ms"] or 0 for p in polls), default=0)
    out["target"] = {"target": "every loop stall through the close after churn < 100 ms", "worst_ms": worst,
                     "ok": worst < 100}
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        port = free_port()
        proc, db = start_hub(folder, port, args.tree)
        store = Store(db)
        director = Director(store, build_endpoints(store.event_config(), DEMO_EVENT.parent, time_scale=0),
                            actor="bench")
        workers = None
        polls: list[dict[str, Any]] = []
        try:
            if args.live:
                workers = Workers(f"ws://127.0.0.1:{port}/ws", args.live, 1)
                workers.ask("ramp")
            churn_from = 10_000_000
            for cycle in range(args.cycles):
                for kind in ("quiet", "churn"):
                    poll = await one_poll(kind, director, port, proc.pid, folder / "hub.log", cycle * 2 + 1, args,
                                          churn_from)
                    churn_from += poll["churned"] + 1
                    poll["cycle"] = cycle
                    polls.append(poll)
                    print(f"{kind} #{cycle}: {poll['churned']} churned ({poll['per_s']}/s), stall poll "
                          f"{poll['stall_poll_ms']} close {poll['stall_close_ms']} ms (own cpu "
                          f"{poll['stall_cpu_poll_ms']} / {poll['stall_cpu_close_ms']}), gc poll {poll['gc_poll_ms']} "
                          f"close {poll['gc_close_ms']} ms, frozen {poll['frozen_before']} -> {poll['frozen_after']}, "
                          f"probe close max {poll['probe_close']['max_ms']} ms, load {poll['load_avg_1m']}", flush=True)
            held = sum(workers.ask("held")) if workers else 0
        finally:
            if workers is not None:
                workers.close()
            await director.endpoints.aclose()
            store.close()
            stop_server(proc)
            if args.logs is not None:
                args.logs.mkdir(parents=True, exist_ok=True)
                shutil.copy(folder / "hub.log", args.logs / f"hub_churn-{int(time.time())}.log")
        return {"polls": polls, "live_held_at_end": held}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=3, help="pairs of polls: quiet, then churn")
    parser.add_argument("--churn-s", type=float, default=10.0, help="how long each poll stays open")
    parser.add_argument("--observe-s", type=float, default=4.0, help="measured after each close")
    parser.add_argument("--live", type=int, default=1000, help="audience phones held throughout")
    parser.add_argument("--at-once", type=int, default=20, help="churning connections at a time")
    parser.add_argument("--tree", type=Path, help="run the hub from this checkout (a before/after comparison)")
    parser.add_argument("--logs", type=Path, help="folder to keep the hub's log in")
    parser.add_argument("--out", type=Path, default=RESULTS / "hub_churn.json")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    load_before = [round(x, 2) for x in os.getloadavg()]
    result = asyncio.run(run(args))
    result = {"benchmark": "hub_churn", **{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                                           if k != "out"},
              **summarise(result["polls"]), **result,
              "machine": {"python": platform.python_version(), "platform": platform.platform(),
                          "cpus": os.cpu_count(), "load_avg_before": load_before,
                          "load_avg_after": [round(x, 2) for x in os.getloadavg()]},
              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("quiet", "churn", "ratios_churn_over_quiet", "target")}, indent=1))


if __name__ == "__main__":
    main()
