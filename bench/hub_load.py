"""Phones on one audience hub vs a bare websockets echo server: connections held, vote burst, latency, memory.

    .venv/bin/python bench/hub_load.py [--phones 10000] [--repeats 3] [--workers 1] [--burst-s 2] [--hold-s 12]
                                       [--profile DIR] [--logs DIR] [--only hub|echo] [--bursts N]
                                       [--hub-variant hub|free-writer]

Each repeat runs the hub (`finale hub`, a child process, on a demo round with
its poll open) and then the echo server (bench/echo_server.py, the hub's own
connection settings), alternating A/B. For each: the phones (worker processes
apart from the server, bench/hub_load_phones.py, each phone from a loopback
address of its own, 127.x.y.z) connect and say hello, hold for --hold-s (a keepalive
round), then, each in a gap between two waves of the servers' keepalive pings
(which the phones record; their count in each phase's window is reported),
- burst: every phone sends one vote, spread evenly over --burst-s, and waits
  for its answer (the hub's ack, sent only once the vote is committed; or the echo);
- flood: every phone sends a second vote (a change of mind) at once: the
  message rate the server sustains.
Measured: connections held, votes acknowledged, lost (sent but not in the
store's audit log), p50/p95/p99 ack latency, votes/s, server RSS per
connection (VmRSS before/after the ramp), and event-loop lag as the response
time of GET /healthz sampled every 20 ms, and the server's CPU time per vote
(/proc/PID/stat, all threads; steadier than rates on a shared machine, whose
1-minute load average is recorded with each run), counted from the first
vote's slot to the last answer (the phones' own CPU is theirs, in their own
process); the server's CPU while idle during the hold (keepalive pings, its
timers, /healthz every 50 ms), and the hub's CPU spent collecting garbage per
vote (its /healthz gc; the echo's too, from Python's own collector, which it keeps),
and its vote writer's figures after each phase (batches, the largest,
the slowest commit). Medians over the repeats, ratios hub/echo, and each
A/B pair side by side (`per_repeat`: the targets hold in every repeat), with the
ratio to the echo less its own collections in its burst. --bursts N runs N bursts
per server run (the first is the one the targets read; all are reported, and the
ratio of their medians). --hub-variant free-writer runs the hub with a writer that
acknowledges without storing (bench/hub_free_writer.py): the floor of the loop's
own vote path, a diagnostic whose votes are all reported lost.
--profile keeps py-spy's collapsed stacks (GIL holder) of each server during
the burst. Writes bench/results/hub_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from hub_load_phones import worker

from audience.options import HubOptions
from finale.autopilot.health import percentile
from finale.autopilot.launch import free_port
from finale.config import load_event
from finale.demo import DEMO_EVENT
from finale.director import Director, build_endpoints
from finale.store import Store

BENCH = Path(__file__).parent
RESULTS = BENCH / "results"
KEEPALIVE_S = HubOptions().ping_interval  # both servers ping each connection this often (echo_server.py reads it too)
WRITER_FIGURES = ("votes_committed", "batches", "largest_batch", "slowest_commit_ms")  # the hub's /healthz, per phase
TARGETS = {"held_fraction": 1.0, "lost": 0, "p99_ms": 100.0, "throughput_ratio": 0.5, "rss_kb_per_conn": 60.0,
           "cpu_ratio": 1.3}


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def get_json(url: str, timeout: float = 5.0) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return dict(json.loads(resp.read()))


def wait_up(base: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            get_json(f"{base}/healthz", 1.0)
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{base} not up after {timeout}s")


class LagSampler:
    """GET /healthz every `every_s` in a thread; the response time is the server loop's responsiveness."""

    def __init__(self, base: str, every_s: float = 0.02) -> None:
        self.base = base
        self.every_s = every_s
        self.samples_ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                get_json(f"{self.base}/healthz", 10.0)
                self.samples_ms.append((time.perf_counter() - started) * 1000)
            except OSError:
                self.samples_ms.append(10_000.0)
            self._stop.wait(self.every_s)

    def __enter__(self) -> LagSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float | None]:
        s = self.samples_ms
        return {"samples": len(s), "p50_ms": _r(percentile(s, 50)), "p99_ms": _r(percentile(s, 99)),
                "max_ms": _r(max(s) if s else None)}


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)


def voting_db(folder: Path) -> tuple[Path, int, list[str]]:
    """A demo database whose current round has its poll open for an hour."""
    db = folder / "hub.db"
    store = Store(db)
    store.setup_event(load_event(DEMO_EVENT))
    endpoints = build_endpoints(store.event_config(), DEMO_EVENT.parent, time_scale=0)
    director = Director(store, endpoints, actor="bench")

    async def prepare() -> int:
        rnd = director.new_round("capital", seed=1)
        await director.ask(rnd.id)
        await director.judge(rnd.id)
        await endpoints.aclose()
        return rnd.id

    round_id = asyncio.run(prepare())
    rnd = director.open_poll(round_id, 3600)
    store.close()
    return db, round_id, sorted(rnd.labels.values())


def start_server(target: str, folder: Path, port: int, variant: str = "hub") -> tuple[subprocess.Popen[bytes], int,
                                                                                    list[str]]:
    """The server of one run; `variant` free-writer: the hub that acknowledges without storing (a diagnostic)."""
    log = (folder / f"{target}.log").open("ab")
    round_id, labels = 1, ["A", "B", "C", "D", "E"]
    if target == "hub":
        db, round_id, labels = voting_db(folder)
        launcher = ["-m", "finale.cli"] if variant == "hub" else [str(BENCH / "hub_free_writer.py")]
        cmd = [sys.executable, *launcher, "hub", "--db", str(db), "--host", "127.0.0.1", "--port", str(port),
               "--public-url", f"http://127.0.0.1:{port}"]
    else:
        cmd = [sys.executable, str(BENCH / "echo_server.py"), str(port)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    wait_up(f"http://127.0.0.1:{port}", proc)
    return proc, round_id, labels


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class Workers:
    """The phones processes and the pipe to each; with several URLs (hub nodes), worker w joins urls[w % n]."""

    def __init__(self, url: str | list[str], phones: int, n: int) -> None:
        ctx = mp.get_context("spawn")
        share = -(-phones // n)
        urls = [url] if isinstance(url, str) else url
        self.pipes = []
        self.procs = []
        for w in range(n):
            first, count = w * share, max(0, min(share, phones - w * share))
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker, args=(child, urls[w % len(urls)], first, count, phones), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def ask(self, command: str, **args: Any) -> list[Any]:
        for pipe in self.pipes:
            pipe.send((command, args))
        return [pipe.recv() for pipe in self.pipes]

    def close(self) -> None:
        self.ask("quit")
        for proc in self.procs:
            proc.join(30)


def _user_sys(stat: Path) -> tuple[float, float]:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads)."""
    return sum(_user_sys(Path(f"/proc/{pid}/stat")))


ThreadTimes = tuple[float, float, int, int]  # user s, system s, voluntary and involuntary switches


def _switches(status: Path) -> tuple[int, int]:
    """Voluntary and involuntary context switches of a thread so far (its /proc status)."""
    fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if "ctxt_switches" in line)
    return int(fields["voluntary_ctxt_switches"]), int(fields["nonvoluntary_ctxt_switches"])


def thread_cpu(pid: int) -> dict[str, ThreadTimes]:
    """User and system CPU seconds and context switches of each thread so far, by 'name:tid' (where a vote's CPU goes).

    The switches are counted because on a VM every time a thread blocks and wakes costs CPU of its own
    (here 27-93 us a sleep, bench/README.md), so a thread that waits often is costly however little it computes.
    """
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = "loop" if task.name == str(pid) else (task / "comm").read_text().strip()
            out[f"{name}:{task.name}"] = (*_user_sys(task / "stat"), *_switches(task / "status"))
        except (OSError, KeyError):  # the thread ended meanwhile (or a kernel without the switch counts)
            continue
    return out


def thread_split(before: dict[str, ThreadTimes], after: dict[str, ThreadTimes],
                 votes: int) -> dict[str, dict[str, float | None]]:
    """ms of user and system CPU, and context switches, per vote of each thread between two readings (threads that
    did nothing left out)."""
    out = {}
    for key, (user, system, vol, invol) in after.items():
        u0, s0, v0, i0 = before.get(key, (0.0, 0.0, 0, 0))
        if user - u0 + system - s0 > 0 or vol - v0 > 0:
            out[key] = {"user_ms_per_vote": _r((user - u0) * 1000 / max(1, votes), 4),
                        "sys_ms_per_vote": _r((system - s0) * 1000 / max(1, votes), 4),
                        "waits_per_vote": _r((vol - v0) / max(1, votes), 4),
                        "preempted_per_vote": _r((invol - i0) / max(1, votes), 4)}
    return out


class CpuAt(threading.Thread):
    """Reads the server's CPU time (`value`, and per thread `threads`) at wall-clock `at`: the first vote's slot.

    And, 0.2 s before it, the CPU its garbage collections took so far (`gc_ms`, from /healthz): read at the
    start of the phase instead, it would count the collections that the wave of keepalive pings just before
    the phase sets off, which fall outside the window (the echo's did: up to 0.027 ms a message).
    """

    def __init__(self, pid: int, at: float, base: str) -> None:
        super().__init__(daemon=True)
        self.pid, self.at, self.base, self.value = pid, at, base, 0.0
        self.gc_ms: float | None = None
        self.threads: dict[str, ThreadTimes] = {}
        self.start()

    def run(self) -> None:
        time.sleep(max(0.0, self.at - 0.2 - time.time()))
        self.gc_ms = gc_ms(self.base)
        time.sleep(max(0.0, self.at - time.time()))
        self.value = cpu_s(self.pid)
        self.threads = thread_cpu(self.pid)


def between_keepalive_waves(workers: Workers, need_s: float, lead_s: float = 1.0, quiet_s: float = 0.15) -> float:
    """When a vote phase of `need_s` can start with no keepalive ping due: just after a wave of them.

    Each connection is pinged KEEPALIVE_S after it opened, and again every KEEPALIVE_S, so the pings
    come in waves as long as the ramp, with a quiet gap of KEEPALIVE_S less the ramp between them. A
    phase that overlaps a wave counts that share of 10,000 pings against its votes: with the hub's
    slower ramp (6 s against the echo's 4) a burst after the same hold overlapped a wave on the hub
    only (1,538 pings in its window, none in the echo's). So both servers' phases start in a gap,
    found from the pings the phones saw (a wave brings about 1,500 a second, so `quiet_s` without one
    is its end); when no gap is long enough (a ramp near KEEPALIVE_S), after three waves the phase
    starts anyway, and the pings in its window are reported either way. The phase starts `lead_s`
    after the gap is found, time for the phones process to set its 10,000 slots before the first: with
    0.25 s, up to 382 phones sent up to 62 ms late, in a clump the hub took as one batch (`phones_late`).
    """
    give_up = time.time() + 3 * KEEPALIVE_S
    while True:
        now = time.time()
        wave = sorted(t for got in workers.ask("pings", since=now - KEEPALIVE_S) for t in got)
        quiet_since = wave[-1] if wave else now - KEEPALIVE_S
        next_wave = wave[0] + KEEPALIVE_S if wave else now + KEEPALIVE_S
        if (now - quiet_since >= quiet_s and next_wave - now >= lead_s + need_s) or now > give_up:
            return now + lead_s
        time.sleep(0.05)


def vote_phase(workers: Workers, round_id: int, labels: list[str], spread_s: float, tag: str, shift: int,
               base: str, pid: int, profile: Path | None = None) -> dict[str, Any]:
    """One vote per phone; the server's CPU is counted from the first vote's slot to the last answer.

    Not from before the command: the second of waiting before the first slot would count the server's
    idle work (keepalive pings, its timers) against the votes, more for the hub than for the echo.
    The phase starts between two waves of keepalive pings (`between_keepalive_waves`) for the same reason.
    """
    # the last answers trail the last slot: by tens of ms after a burst, by most of a second after a flood
    start_at = between_keepalive_waves(workers, spread_s + (0.3 if spread_s else 1.5))
    spy = start_profile(pid, profile, spread_s + 2) if profile else None  # the phase's own samples, no idle
    reader = CpuAt(pid, start_at, base)
    with LagSampler(base) as lag:
        parts = workers.ask("votes", round_id=round_id, labels=labels, start_at=start_at, spread_s=spread_s, tag=tag,
                            shift=shift)
    cpu_end, threads_end = cpu_s(pid), thread_cpu(pid)
    reader.join()
    if spy is not None:
        spy.wait(60)
    health_after = get_json(f"{base}/healthz")
    gc_after = gc_of(health_after)
    cpu = cpu_end - reader.value
    latency = [x for p in parts for x in p["latency_ms"]]
    acked = [i for p in parts for i in p["acked"]]
    sent = [i for p in parts for i in p["sent"]]
    first = min(p["first_send"] for p in parts)
    last = max(p["last_ack"] for p in parts)
    errors: dict[str, int] = {}
    for p in parts:
        for k, v in p["errors"].items():
            errors[k] = errors.get(k, 0) + v
    return {"sent": len(sent), "acked": len(acked), "errors": errors, "sent_ids": sent,
            "keepalive_pings": sum(p["pings"] for p in parts),
            # how late the phones process sent after the slots it was given (late phones send in a clump)
            "phones_late": {"max_ms": _r(max(p["late_max_ms"] for p in parts)),
                            "over_5ms": sum(p["late_over_5ms"] for p in parts)},
            "p50_ms": _r(percentile(latency, 50)), "p95_ms": _r(percentile(latency, 95)),
            "p99_ms": _r(percentile(latency, 99)), "max_ms": _r(max(latency) if latency else None),
            "server_cpu_s": _r(cpu, 3), "server_cpu_ms_per_vote": _r(cpu * 1000 / max(1, len(acked)), 4),
            "server_threads": thread_split(reader.threads, threads_end, len(acked)),
            "window_s": _r(last - first, 3), "per_s": round(len(acked) / (last - first)) if last > first else None,
            "lag": lag.summary(),
            # the hub's writer as it stood after this phase (its slowest figures are since the hub started)
            "writer": {k: health_after[k] for k in WRITER_FIGURES if k in health_after},
            "by_second": phase_seconds(health_after, first, last),
            "gc_ms_per_vote": None if reader.gc_ms is None or gc_after is None else
            _r((gc_after - reader.gc_ms) / max(1, len(acked)), 4)}


def phase_seconds(health: dict[str, Any], first: float, last: float) -> dict[str, list[list[float]]]:
    """The hub's per-second peaks within the phase (wall clock): its loop's stalls, its writer's waits and batches.

    Only the seconds the hub reports (a stall of 2 ms, a commit wait of 10 ms, a batch of 200 votes or more),
    so a slow second of acks can be put beside what the loop and the writer did in it.
    """
    def within(rows: list[list[float]] | None) -> list[list[float]]:
        return [row for row in rows or [] if int(first) <= row[0] <= last]

    writer = health.get("writer_by_second") or {}
    return {"loop_stall_ms": within((health.get("loop") or {}).get("by_second")),
            "commit_wait_ms": within(writer.get("commit_wait_ms")),
            "largest_batch": within(writer.get("largest_batch"))}


def gc_ms(base: str) -> float | None:
    """The hub's CPU time spent collecting garbage so far (its /healthz gc); None for a server without the figure."""
    return gc_of(get_json(f"{base}/healthz"))


def gc_of(health: dict[str, Any]) -> float | None:
    collecting = (health.get("gc") or {}).get("collecting_cpu_ms")
    return float(sum(collecting)) if collecting else None


def stored_ids(folder: Path, round_id: int) -> set[str]:
    with Store(folder / "hub.db") as store:
        return {str(row[2]) for ev in store.events(kind="votes.recorded", round_id=round_id)
                for row in ev.payload["votes"]}


def start_profile(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy (from PyPI) samples the server's threads while the votes run; collapsed stacks into `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(spy), "record", "--pid", str(pid), "--rate", "250", "--format", "raw", "--nonblocking",
                             "--gil", "--duration", str(int(seconds)), "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_one(target: str, phones: int, n_workers: int, burst_s: float, hold_s: float,
            profile: Path | None = None, logs: Path | None = None, bursts: int = 1,
            variant: str = "hub") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        load_before = round(os.getloadavg()[0], 2)  # the machine is shared: how busy it was around this run
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc, round_id, labels = start_server(target, folder, port, variant)
        try:
            time.sleep(1.0)
            before = rss_kb(proc.pid)
            workers = Workers(f"ws://127.0.0.1:{port}/ws", phones, n_workers)
            ramp = workers.ask("ramp")
            connected = sum(r["connected"] for r in ramp)
            after = rss_kb(proc.pid)
            idle_cpu = cpu_s(proc.pid)
            with LagSampler(base, 0.05) as idle:
                time.sleep(hold_s)
            idle_cpu = (cpu_s(proc.pid) - idle_cpu) / hold_s
            held = sum(workers.ask("held"))
            burst = vote_phase(workers, round_id, labels, burst_s, "burst", 0, base, proc.pid, profile)
            more = [vote_phase(workers, round_id, labels, burst_s, f"burst{k}", k + 1, base, proc.pid)
                    for k in range(1, bursts)]  # shift 1 is the flood's
            flood = vote_phase(workers, round_id, labels, 0.0, "flood", 1, base, proc.pid)
            health = get_json(f"{base}/healthz") if target == "hub" else {}
            rss_end = rss_kb(proc.pid)
            workers.close()
        finally:
            stop_server(proc)
            if logs is not None:
                logs.mkdir(parents=True, exist_ok=True)
                for log in folder.glob("*.log"):
                    shutil.copy(log, logs / f"{int(time.time())}-{log.name}")
        result: dict[str, Any] = {
            "target": target, "phones": phones, "variant": variant if target == "hub" else "echo",
            "load_avg_1m": [load_before, round(os.getloadavg()[0], 2)], "connected": connected, "held": held,
            "ramp_s": _r(max(r["ramp_s"] for r in ramp)), "join_errors": [r["errors"] for r in ramp],
            "rss_kb_before": before, "rss_kb_after_ramp": after, "rss_kb_end": rss_end,
            "rss_kb_per_conn": _r((after - before) / max(1, connected)), "idle_lag": idle.summary(),
            "idle_cpu_percent": _r(idle_cpu * 100, 1),
        }
        if target == "hub":
            logged = stored_ids(folder, round_id)
            for phase in (burst, *more, flood):
                phase["stored"] = len(set(phase["sent_ids"]) & logged)
                phase["lost"] = phase["sent"] - phase["stored"]
            result["hub_health"] = health
        for phase in (burst, *more, flood):
            del phase["sent_ids"]
        result["burst"], result["flood"] = burst, flood
        if more:
            result["more_bursts"] = more
        return result


def median_of(runs: list[dict[str, Any]], *path: str) -> float | None:
    values = []
    for run in runs:
        v: Any = run
        for key in path:
            v = v.get(key) if isinstance(v, dict) else None
        if isinstance(v, int | float):
            values.append(v)
    return _r(statistics.median(values)) if values else None


def burst_figures(run: dict[str, Any] | None, figure: str = "server_cpu_ms_per_vote") -> list[float]:
    """A figure of each burst of a server's run (one, or `--bursts` of them), in order; [] for no run."""
    if run is None:
        return []
    return [b[figure] for b in (run["burst"], *run.get("more_bursts", [])) if b.get(figure) is not None]


def per_repeat(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each A/B pair's burst figures side by side, with the machine's 1-minute load around each run."""
    out = []
    for repeat in sorted({r["repeat"] for r in runs}):
        pair = {r["target"]: r for r in runs if r["repeat"] == repeat}
        hub, echo = pair.get("hub"), pair.get("echo")
        hub_cpu = hub["burst"]["server_cpu_ms_per_vote"] if hub else None
        echo_cpu = echo["burst"]["server_cpu_ms_per_vote"] if echo else None
        echo_gc = echo["burst"].get("gc_ms_per_vote") if echo else None
        echo_less_gc = echo_cpu - echo_gc if echo_cpu and echo_gc is not None else None
        hub_all, echo_all = burst_figures(hub), burst_figures(echo)
        out.append({"repeat": repeat, "hub_cpu_ms_per_vote": hub_cpu, "echo_cpu_ms_per_vote": echo_cpu,
                    "cpu_ratio": _r(hub_cpu / echo_cpu, 3) if hub_cpu and echo_cpu else None,
                    # what the echo's own garbage collections cost in its burst, and the ratio without them
                    "echo_gc_ms_per_vote": echo_gc,
                    "cpu_ratio_to_echo_less_gc": _r(hub_cpu / echo_less_gc, 3) if hub_cpu and echo_less_gc else None,
                    # with --bursts N: every burst of each server's run, and the ratio of their medians
                    "hub_bursts_cpu_ms_per_vote": hub_all, "echo_bursts_cpu_ms_per_vote": echo_all,
                    "echo_bursts_gc_ms_per_vote": burst_figures(echo, "gc_ms_per_vote"),
                    "cpu_ratio_of_burst_medians": _r(statistics.median(hub_all) / statistics.median(echo_all), 3)
                    if len(hub_all) > 1 and len(echo_all) > 1 else None,
                    "burst_p99_ms": hub["burst"]["p99_ms"] if hub else None,
                    "echo_burst_p99_ms": echo["burst"]["p99_ms"] if echo else None,
                    "load_avg_1m": {t: r["load_avg_1m"] for t, r in pair.items()}})
    return out


def summarise(runs: list[dict[str, Any]], phones: int) -> dict[str, Any]:
    figures = {
        "held": ("held",), "ramp_s": ("ramp_s",), "rss_kb_per_conn": ("rss_kb_per_conn",),
        "burst_acked": ("burst", "acked"), "burst_lost": ("burst", "lost"), "burst_p50_ms": ("burst", "p50_ms"),
        "burst_p95_ms": ("burst", "p95_ms"), "burst_p99_ms": ("burst", "p99_ms"), "burst_per_s": ("burst", "per_s"),
        "burst_lag_p99_ms": ("burst", "lag", "p99_ms"), "burst_lag_max_ms": ("burst", "lag", "max_ms"),
        "flood_acked": ("flood", "acked"), "flood_lost": ("flood", "lost"), "flood_p50_ms": ("flood", "p50_ms"),
        "flood_p99_ms": ("flood", "p99_ms"), "flood_per_s": ("flood", "per_s"),
        "flood_lag_p99_ms": ("flood", "lag", "p99_ms"), "idle_lag_p50_ms": ("idle_lag", "p50_ms"),
        "burst_cpu_ms_per_vote": ("burst", "server_cpu_ms_per_vote"),
        "flood_cpu_ms_per_vote": ("flood", "server_cpu_ms_per_vote"),
        "burst_gc_ms_per_vote": ("burst", "gc_ms_per_vote"), "idle_cpu_percent": ("idle_cpu_percent",),
    }
    out: dict[str, Any] = {}
    for target in ("hub", "echo"):
        mine = [r for r in runs if r["target"] == target]
        out[target] = {name: median_of(mine, *path) for name, path in figures.items()}
    hub, echo = out["hub"], out["echo"]

    def ratio(name: str) -> float | None:
        return _r(hub[name] / echo[name], 3) if hub.get(name) and echo.get(name) else None

    out["ratios_hub_over_echo"] = {name: ratio(name) for name in (
        "flood_per_s", "burst_per_s", "burst_cpu_ms_per_vote", "flood_cpu_ms_per_vote",
        "burst_p50_ms", "burst_p99_ms", "flood_p99_ms", "rss_kb_per_conn",
        "burst_lag_p99_ms")}
    worst_lost = max((r[p].get("lost", 0) for r in runs if r["target"] == "hub" for p in ("burst", "flood")),
                     default=None)
    min_held = min((r["held"] for r in runs if r["target"] == "hub"), default=0)
    min_acked = min((r["burst"]["acked"] for r in runs if r["target"] == "hub"), default=0)
    throughput = out["ratios_hub_over_echo"]["flood_per_s"]
    out["per_repeat"] = per_repeat(runs)
    worst_p99 = max((r["burst_p99_ms"] for r in out["per_repeat"] if r["burst_p99_ms"] is not None), default=None)
    worst_cpu = max((r["cpu_ratio"] for r in out["per_repeat"] if r["cpu_ratio"] is not None), default=None)
    out["targets"] = [
        {"target": f"{phones:,} connections held", "value": min_held, "ok": min_held >= phones},
        {"target": "every burst vote acknowledged and stored, none lost",
         "value": {"min_acked": min_acked, "max_lost": worst_lost},
         "ok": min_acked == phones and worst_lost == 0},
        {"target": "p99 ack < 100 ms (2 s burst)", "value": hub["burst_p99_ms"],
         "ok": hub["burst_p99_ms"] is not None and hub["burst_p99_ms"] < TARGETS["p99_ms"]},
        {"target": "p99 ack < 100 ms (2 s burst) in every repeat", "value": worst_p99,
         "ok": worst_p99 is not None and worst_p99 < TARGETS["p99_ms"]},
        {"target": "hub CPU per vote <= 1.3 x the echo's (2 s burst) in every repeat", "value": worst_cpu,
         "ok": worst_cpu is not None and worst_cpu <= TARGETS["cpu_ratio"]},
        {"target": "vote throughput >= 50 % of echo message rate (flood)", "value": throughput,
         "ok": throughput is not None and throughput >= TARGETS["throughput_ratio"]},
        {"target": "< 60 KB hub memory per connection", "value": hub["rss_kb_per_conn"],
         "ok": hub["rss_kb_per_conn"] is not None and hub["rss_kb_per_conn"] < TARGETS["rss_kb_per_conn"]},
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3, help="A/B pairs (hub, then echo)")
    parser.add_argument("--workers", type=int, default=1, help="phones processes")
    parser.add_argument("--burst-s", type=float, default=2.0)
    parser.add_argument("--hold-s", type=float, default=12.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "hub_load.json")
    parser.add_argument("--only", choices=["hub", "echo"], action="append", help="development: one side only")
    parser.add_argument("--logs", type=Path, help="folder to keep the servers' logs in")
    parser.add_argument("--bursts", type=int, default=1, help="bursts per server run")
    parser.add_argument("--hub-variant", choices=["hub", "free-writer"], default="hub",
                        help="diagnostic: free-writer acks votes without storing them (bench/hub_free_writer.py)")
    parser.add_argument("--profile", type=Path, help="folder for py-spy collapsed stacks of each server's burst")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server children inherit it
    if hard < args.phones + 512:
        sys.exit(f"--phones {args.phones} needs about {args.phones + 512} open files; the hard limit is {hard}")
    runs = []
    for repeat in range(args.repeats):
        for target in args.only or ("hub", "echo"):
            spy_out = args.profile / f"{target}-{repeat}.txt" if args.profile else None
            run = run_one(target, args.phones, args.workers, args.burst_s, args.hold_s, spy_out, args.logs,
                          args.bursts, args.hub_variant)
            run["repeat"] = repeat
            runs.append(run)
            b, f = run["burst"], run["flood"]
            print(f"{target} #{repeat}: held {run['held']}/{args.phones}, {run['rss_kb_per_conn']} KB/conn, "
                  f"burst acked {b['acked']} lost {b.get('lost', '-')} p50 {b['p50_ms']} p99 {b['p99_ms']} ms "
                  f"lag p99 {b['lag']['p99_ms']} ms cpu/vote {b['server_cpu_ms_per_vote']} ms; flood {f['per_s']}/s "
                  f"p99 {f['p99_ms']} ms cpu/vote {f['server_cpu_ms_per_vote']} ms; more bursts cpu/vote "
                  f"{[m['server_cpu_ms_per_vote'] for m in run.get('more_bursts', [])]}", flush=True)
    result = {
        "benchmark": "hub_load", "phones": args.phones, "repeats": args.repeats, "workers": args.workers,
        "burst_s": args.burst_s, "hold_s": args.hold_s, "bursts": args.bursts, "hub_variant": args.hub_variant,
        **summarise(runs, args.phones), "runs": runs,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"hub": result["hub"], "echo": result["echo"], "ratios": result["ratios_hub_over_echo"],
                      "targets": result["targets"]}, indent=1))


if __name__ == "__main__":
    main()
