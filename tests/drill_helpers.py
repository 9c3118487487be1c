"""Shared by the crash drills (tests/test_drill_*.py) and their long versions (bench/drills.py).

- `Phone`: a minimal phone over a real websockets connection: hello, vote, wait for the ack; when the
  connection drops it reconnects with backoff and resends the unacknowledged vote with the same id.
- `check_votes`: every acknowledged vote stored exactly once (the votes table and the audit log agree).
- `check_round_log`: the tables the screens read agree with the audit log; `integrity_check` is ok.
- `mc_loop` (run as `python -m tests.drill_helpers director DB ...`): an MC who resumes whatever round the
  database holds and drives the show on; it prints each commit so a parent can kill it at any moment and
  then check that nothing it reported is lost.
- `supervised_hub`: `finale hub` as the console runs it, a child of the real `HubSupervisor`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from finale.config import EventConfig
from finale.core import show
from finale.core.model import AnswerStatus, Component, Phase
from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import audience_votes, panel_scores
from finale.director import Director, build_endpoints
from finale.store import Store
from finale.supervisor import HubSupervisor

PHASE_ORDER = [Phase.DRAFT, Phase.ASKING, Phase.ANSWERED, Phase.JUDGING, Phase.VOTING, Phase.CLOSED, Phase.FINAL]
FINAL_ANSWER = (AnswerStatus.OK, AnswerStatus.ERROR, AnswerStatus.TIMEOUT)
RETRY_CODES = ("rate_limited", "unavailable")


# -- phones ----------------------------------------------------------------------------------------


@dataclass
class PhoneLog:
    """What one phone did: every vote it sent (by id) and which of them the hub acknowledged."""

    device: str
    sent: dict[str, str] = field(default_factory=dict)  # msg id -> label
    acked: list[str] = field(default_factory=list)  # msg ids, in order
    refused: dict[str, str] = field(default_factory=dict)  # msg id -> error code
    latencies_ms: list[float] = field(default_factory=list)  # first send to ack, per acked vote
    reconnects: int = 0
    resends: int = 0


class Phone:
    """One phone on the real hub: votes one at a time and never gives up on an unacknowledged vote."""

    def __init__(self, url: str, device: str, *, ack_timeout_s: float = 10.0, max_backoff_s: float = 1.0) -> None:
        self.url = url
        self.log = PhoneLog(device)
        self.ack_timeout_s = ack_timeout_s
        self.max_backoff_s = max_backoff_s
        self.ws: ClientConnection | None = None
        self.state: dict[str, Any] = {}
        self._n = 0

    async def connect(self, give_up_after_s: float = 60.0) -> None:
        """(Re)connect and say hello, with backoff, until the hub answers with its state."""
        backoff = 0.05
        deadline = time.monotonic() + give_up_after_s
        while True:
            try:
                ws = await connect(self.url, open_timeout=5, close_timeout=1, max_queue=64)
                await ws.send(json.dumps({"type": "hello", "role": "audience", "device_id": self.log.device}))
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if msg["type"] == "state":
                        self.ws, self.state = ws, msg
                        return
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidStatus):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
                backoff = min(self.max_backoff_s, backoff * 2)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def vote(self, round_id: int, label: str) -> bool:
        """Send one vote and wait for its ack, reconnecting and resending as often as it takes.

        True when acknowledged; False when the hub refused it for good (its code is in `log.refused`).
        """
        self._n += 1
        msg_id = f"{self.log.device}-{self._n}"
        frame = json.dumps({"type": "vote", "round": round_id, "label": label, "id": msg_id})
        self.log.sent[msg_id] = label
        started = time.perf_counter()
        first = True
        while True:
            if self.ws is None:
                await self.connect()
                self.log.reconnects += 1
            assert self.ws is not None
            try:
                if not first:
                    self.log.resends += 1
                first = False
                await self.ws.send(frame)
                reply = await self._reply(msg_id)
            except (ConnectionClosed, TimeoutError, OSError):
                self.ws = None
                continue
            if reply["type"] == "ack":
                self.log.acked.append(msg_id)
                self.log.latencies_ms.append((time.perf_counter() - started) * 1000)
                return True
            if reply["code"] in RETRY_CODES:
                await asyncio.sleep(random.uniform(0.2, 0.5))
                continue
            self.log.refused[msg_id] = reply["code"]
            return False

    async def wait_for_voting(self, timeout: float = 30.0) -> None:
        """Read states until this phone sees the poll open (as the page waits before showing buttons)."""
        assert self.ws is not None
        deadline = time.monotonic() + timeout
        while not self.state.get("voting_open"):
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), max(0.01, deadline - time.monotonic())))
            if msg["type"] == "state":
                self.state = msg

    async def ping(self) -> float:
        """One ping round trip in milliseconds (the hub's responsiveness as a phone feels it)."""
        assert self.ws is not None
        t = time.time()
        started = time.perf_counter()
        await self.ws.send(json.dumps({"type": "ping", "t": t}))
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if msg["type"] == "pong" and msg.get("t") == t:
                return (time.perf_counter() - started) * 1000
            if msg["type"] == "state":
                self.state = msg

    async def _reply(self, msg_id: str) -> dict[str, Any]:
        assert self.ws is not None
        deadline = time.monotonic() + self.ack_timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply to {msg_id}")
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            if msg["type"] == "state":
                self.state = msg
            elif msg["type"] in ("ack", "error") and msg.get("id") == msg_id:
                return dict(msg)


async def connect_phones(url: str, n: int, prefix: str = "phone", concurrency: int = 100) -> list[Phone]:
    """`n` phones connected and greeted, at most `concurrency` handshakes at a time."""
    phones = [Phone(url, f"{prefix}-{i:05d}") for i in range(n)]
    gate = asyncio.Semaphore(concurrency)

    async def one(p: Phone) -> None:
        async with gate:
            await p.connect()

    await asyncio.gather(*(one(p) for p in phones))
    return phones


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def latency_summary(lat: list[float]) -> dict[str, float]:
    """Median, p99 and max of latencies in milliseconds."""
    return {"p50_ms": round(statistics.median(lat), 2) if lat else 0.0, "p99_ms": round(percentile(lat, 99), 2),
            "max_ms": round(max(lat), 2) if lat else 0.0}


# -- checks ----------------------------------------------------------------------------------------


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

    `sent` and `acked` are message ids (unique per device); `last_acked` maps a device to the label of its
    last acknowledged vote, which its row in the votes table must hold.
    """
    logged: Counter[str] = Counter()
    latest: dict[str, tuple[str, float]] = {}
    for ev in store.events(kind="votes.recorded", round_id=round_id):
        for device, label, msg_id, at in ev.payload["votes"]:
            logged[msg_id] += 1
            if device not in latest or at >= latest[device][1]:
                latest[device] = (label, at)
    rows = {v["device_id"]: v for v in store.votes(round_id)}
    table = {d: (v["label"], v["cast_at"]) for d, v in rows.items()}
    lost = sum(1 for m in acked if logged[m] == 0)
    lost += sum(1 for d, label in last_acked.items() if d not in rows or rows[d]["label"] != label)
    return VoteCheck(acknowledged=len(acked), stored=len(acked) - lost, rows=len(rows),
                     duplicates=sum(n - 1 for n in logged.values() if n > 1),
                     lost=lost, unsent=sum(1 for m in logged if m not in sent), table_matches_log=table == latest)


def check_phone_votes(store: Store, round_id: int, logs: list[PhoneLog]) -> VoteCheck:
    """`check_votes` for the minimal phones of this module."""
    return check_votes(store, round_id, {m for p in logs for m in p.sent}, {m for p in logs for m in p.acked},
                       {p.device: p.sent[p.acked[-1]] for p in logs if p.acked})


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
            if a.status in FINAL_ANSWER and answers.get(fid) != a.status.value:
                problems.append(f"round {rnd.id}: answer of {fid} is {a.status} but the log says {answers.get(fid)}")
        table_j = {fid: j.status.value for fid, j in store.judgments(rnd.id).items()}
        if table_j != judged:
            problems.append(f"round {rnd.id}: judgments {table_j} but the log says {judged}")
    return problems


def dump_tables(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted: two dumps are equal when nothing was written in between."""
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {n: sorted(conn.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        conn.close()


# -- the hub as the console runs it -------------------------------------------------------------


@contextmanager
def supervised_hub(db_path: Path, port: int, log_path: Path) -> Iterator[HubSupervisor]:
    """`finale hub` started and watched by the real supervisor (fast restarts for drills)."""
    sup = HubSupervisor(db_path, "127.0.0.1", port, f"http://127.0.0.1:{port}", log_path, min_backoff_s=0.1,
                        max_backoff_s=0.5)
    sup.start()
    try:
        if not sup.wait_ready(60):
            raise RuntimeError(f"hub did not come up: {log_path.read_text()[-2000:]}")
        yield sup
    finally:
        sup.stop()


def with_hub_limits(config: EventConfig, **limits: Any) -> EventConfig:
    """The event with its [hub] section changed (generous rate limits for fuzzing, a bind address...)."""
    return config.model_copy(update={"hub": config.hub.model_copy(update=limits)})


# -- an MC who resumes --------------------------------------------------------------------------


def _say(*parts: object) -> None:
    print(*parts, flush=True)


async def mc_loop(db_path: Path, rounds: int, time_scale: float, seed: int, phones: int) -> None:
    """Drive the show from whatever state the database is in until `rounds` rounds are final.

    Prints `phase <name> <round>` before each step and `committed ...` after each commit returns.
    """
    store = Store(db_path)
    config = store.event_config()
    event = config.to_core()
    script = load_script(DEMO_EVENT.parent / config.rehearsal.script)
    endpoints = build_endpoints(config, DEMO_EVENT.parent, seed=seed, time_scale=time_scale)
    director = Director(store, endpoints, actor="mc")
    _say("ready")
    try:
        while True:
            done = [r for r in store.rounds() if r.phase is Phase.FINAL]
            rnd = store.current_round()
            if rnd is None or rnd.phase in (Phase.FINAL, Phase.VOID):
                if len(done) >= rounds:
                    _say("show-done", len(done))
                    return
                asked = {r.question_id for r in done}
                qid = next((q.id for q in event.questions if q.id not in asked), None)
                n = len(store.rounds())
                unseen = None if qid else f"Unseen question {n}: name one thing a stage crew checks before a show."
                rnd = director.new_round(qid, prompt=unseen, seed=seed * 1000 + n)
                _say("committed round", rnd.id, rnd.phase.value)
                continue
            _say("phase", rnd.phase.value, rnd.id)
            if rnd.phase in (Phase.DRAFT, Phase.ASKING):
                stored = store.answers(rnd.id)
                missing = [f for f in event.finalist_ids if f not in stored or stored[f].status not in FINAL_ANSWER]
                if rnd.phase is Phase.DRAFT or missing:
                    await director.ask(rnd.id, only=None if rnd.phase is Phase.DRAFT else missing)
                else:
                    store.update_round(show.transition(rnd, Phase.ANSWERED), "mc", "round.answered")
                got = store.answers(rnd.id)
                _say("committed answers", rnd.id, " ".join(f"{f}={a.status.value}" for f, a in got.items()
                                                         if a.status in FINAL_ANSWER))
            elif rnd.phase in (Phase.ANSWERED, Phase.JUDGING):
                judged = store.judgments(rnd.id)
                missing = [f for f in event.finalist_ids if f not in judged]
                if rnd.phase is Phase.ANSWERED or missing:
                    await director.judge(rnd.id, only=None if rnd.phase is Phase.ANSWERED else missing)
                    _say("committed judged", rnd.id, " ".join(sorted(store.judgments(rnd.id))))
                    continue
                for score in panel_scores(event, rnd, script, seed):
                    store.save_panel_score(score, actor=f"simulated:{score.panelist_id}")
                _say("committed panel", rnd.id)
                director.open_poll(rnd.id, 600)
            elif rnd.phase is Phase.VOTING:
                votes = audience_votes(rnd, script, seed, phones)
                for i in range(0, len(votes), 20):  # a trickle, so a kill can land mid-poll
                    batch = votes[i:i + 20]
                    store.record_votes(batch, actor="simulated-audience")
                    _say("committed votes", rnd.id, " ".join(f"{v.device_id}={v.label}@{v.cast_at!r}@{v.client_msg_id}"
                                                             for v in batch))
                    await asyncio.sleep(0.02)
                director.close_poll(rnd.id)
            elif rnd.phase is Phase.CLOSED:
                for dispute in director.disputes(rnd.id):
                    if dispute.kind == "checker" and not dispute.resolved:
                        director.override(rnd.id, dispute.finalist_id, Component.LLM,
                                          f"Judge misread a correct answer; {dispute.reason}.", value=80.0,
                                          actor="head-judge")
                if not rnd.revealed:
                    director.reveal_round(rnd.id)
                director.finalize(rnd.id)
            _say("committed round", rnd.id, store.round(rnd.id).phase.value)
    finally:
        await endpoints.aclose()
        store.close()


@dataclass
class Reported:
    """What a killed MC process said it had committed."""

    phases: dict[int, str] = field(default_factory=dict)
    answers: dict[tuple[int, str], str] = field(default_factory=dict)
    judged: set[tuple[int, str]] = field(default_factory=set)
    votes: dict[tuple[int, str], tuple[str, float, str]] = field(default_factory=dict)  # label, cast at, msg id

    def read(self, lines: list[str]) -> None:
        for line in lines:
            words = line.split()
            if len(words) < 3 or words[0] != "committed":
                continue
            kind, rid, rest = words[1], int(words[2]), words[3:]
            if kind == "round":
                self.phases[rid] = rest[0]
            elif kind == "answers":
                self.answers.update({(rid, f): s for f, _, s in (w.partition("=") for w in rest)})
            elif kind == "judged":
                self.judged.update((rid, f) for f in rest)
            elif kind == "votes":
                for w in rest:
                    device, _, tail = w.partition("=")
                    label, at, msg_id = tail.split("@")
                    old = self.votes.get((rid, device))
                    if old is None or float(at) >= old[1]:
                        self.votes[(rid, device)] = (label, float(at), msg_id)

    def missing_in(self, store: Store) -> list[str]:
        """Everything reported as committed that the store does not hold."""
        out: list[str] = []
        order = [p.value for p in PHASE_ORDER]
        for rid, phase in self.phases.items():
            now = store.round(rid).phase.value
            if now not in order or order.index(now) < order.index(phase):
                out.append(f"round {rid} went back from {phase} to {now}")
        for (rid, fid), status in self.answers.items():
            a = store.answers(rid).get(fid)
            if a is None or a.status not in FINAL_ANSWER:
                out.append(f"answer {rid}/{fid} ({status}) lost")
        for rid, fid in self.judged:
            if fid not in store.judgments(rid):
                out.append(f"judgment {rid}/{fid} lost")
        rows: dict[int, dict[str, tuple[str, float, str]]] = {}
        for (rid, device), (label, at, msg_id) in self.votes.items():
            table = rows.setdefault(rid, {v["device_id"]: (v["label"], v["cast_at"], v["client_msg_id"])
                                          for v in store.votes(rid)})
            row = table.get(device)
            # The row is the reported vote (a resent one keeps its first cast time) or a later one.
            if row is None or (row[1] < at and (row[0], row[2]) != (label, msg_id)):
                out.append(f"vote {rid}/{device} lost")
        return out


# Which line the MC prints just before each phase, and how long after it the kill lands (seconds).
KILL_AFTER = {"asking": ("phase draft", 0.02, 0.3), "judging": ("phase answered", 0.0, 0.04),
              "voting": ("phase voting", 0.01, 0.2)}


def new_event_db(db_path: Path, config: EventConfig | None = None) -> Path:
    """A fresh database holding the event (the demo event unless told otherwise)."""
    from finale.config import load_event

    with Store(db_path) as store:
        store.setup_event(config or load_event(DEMO_EVENT))
    return db_path


def _mc_command(db_path: Path, rounds: int, speed: float, seed: int) -> list[str]:
    return [sys.executable, "-m", "tests.drill_helpers", "director", str(db_path), "--rounds", str(rounds),
            "--speed", str(speed), "--seed", str(seed)]


def console_kill_drill(db_path: Path, iterations: int, *, seed: int = 2026, rounds: int = 2,
                       speed: float = 0.2) -> dict[str, Any]:
    """Kill -9 the MC process `iterations` times in asking, judging and voting; restart resumes each time.

    After every kill: nothing the process reported as committed is missing, the tables agree with the
    audit log and `integrity_check` is ok. At the end one more run finishes the show.
    """
    rng = random.Random(seed)
    reported = Reported()
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root, "PYTHONUNBUFFERED": "1"}
    targets = list(KILL_AFTER)
    killed_in: Counter[str] = Counter()
    lost: list[str] = []
    integrity_failures = 0
    started = time.perf_counter()
    for it in range(iterations):
        target = targets[it % len(targets)]
        child = subprocess.Popen(_mc_command(db_path, rounds + iterations, speed, seed), stdout=subprocess.PIPE,
                                 text=True, env=env, cwd=root)
        assert child.stdout is not None
        lines: list[str] = []
        for line in child.stdout:
            lines.append(line.strip())
            prefix, low, high = KILL_AFTER[target]
            if line.startswith(prefix):
                time.sleep(rng.uniform(low, high))
                break
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        lines += [x.strip() for x in child.stdout.read().splitlines()]
        reported.read(lines)
        with Store(db_path) as store:
            rnd = store.current_round()
            killed_in[rnd.phase.value if rnd else "none"] += 1
            problems = check_round_log(store)
            integrity_failures += sum(1 for p in problems if p.startswith("integrity_check"))
            lost += [f"iteration {it}: {m}" for m in reported.missing_in(store) + problems]
    finish = subprocess.run(_mc_command(db_path, rounds + iterations, speed, seed), capture_output=True, text=True,
                            env=env, cwd=root, timeout=600, check=False)
    reported.read(finish.stdout.splitlines())
    with Store(db_path) as store:
        problems = check_round_log(store)
        integrity_failures += sum(1 for p in problems if p.startswith("integrity_check"))
        lost += reported.missing_in(store) + problems
        final = [r.id for r in store.rounds() if r.phase is Phase.FINAL]
        votes = sum(len(store.votes(r)) for r in final)
    return {"iterations": iterations, "killed_in_phase": dict(killed_in), "resumed_to_the_end":
            finish.returncode == 0 and "show-done" in finish.stdout, "final_rounds": len(final),
            "reported_commits": len(reported.phases) + len(reported.answers) + len(reported.judged)
            + len(reported.votes), "vote_rows": votes, "lost": len(lost), "problems": lost[:20],
            "integrity_failures": integrity_failures, "seconds": round(time.perf_counter() - started, 1),
            "finish_stderr": finish.stderr[-2000:] if finish.returncode else ""}


def voting_db(db_path: Path, window_s: float = 3600.0, config: EventConfig | None = None) -> tuple[int, list[str]]:
    """A fresh event database whose first round is asked, judged and open for votes; its id and labels."""
    from tests.hub_helpers import director_for, voting_round

    new_event_db(db_path, config)
    with Store(db_path) as store, ThreadPoolExecutor(1) as pool:  # its own thread: the caller may run a loop
        rnd = pool.submit(asyncio.run, voting_round(director_for(store), window_s)).result()
    return rnd.id, sorted(rnd.labels.values())


async def _wait_restarted(sup: HubSupervisor, old_pid: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while sup.pid in (None, old_pid):
        if time.monotonic() > deadline:
            raise TimeoutError("the supervisor did not restart the hub")
        await asyncio.sleep(0.02)
    if not await asyncio.to_thread(sup.wait_ready, timeout):
        raise TimeoutError("the restarted hub never answered /healthz")


@dataclass
class Storm:
    """What the phones did during a storm (sent/acked message ids, each device's last acked label)."""

    sent: set[str]
    acked: set[str]
    last_acked: dict[str, str]
    resends: int
    reconnects: int
    refused: dict[str, int]
    ack_ms: list[float]  # first send to ack, reconnects and resends included
    downtimes: list[float]


class _CrowdVoter:
    """The autopilot's phone (finale/autopilot/phones.py) behind the minimal phone's `vote`."""

    def __init__(self, url: str, device: str, stats: Any) -> None:
        from finale.autopilot.phones import Phone as CrowdPhone

        self.phone = CrowdPhone(url, device, stats, None)
        self.device = device
        self._n = 0

    async def vote(self, round_id: int, label: str) -> bool:
        self._n += 1
        return await self.phone.cast(round_id, label, f"{self.device}.{self._n}", time.time() + 120)


async def _storm(sup: HubSupervisor, round_id: int, labels: list[str], iterations: int, n_phones: int,
                 rng: random.Random, storm_s: float, client: str) -> Storm:
    """Phones keep voting while the hub is killed `iterations` times; both kinds reconnect and resend the
    unacknowledged vote with its message id (`client`: "minimal" here, or "autopilot")."""
    url = sup.url.replace("http://", "ws://") + "/ws"
    stats: Any = None
    voters: list[Any]
    if client == "autopilot":
        from finale.autopilot.phones import CrowdStats

        stats = CrowdStats(phones=n_phones)
        voters = [_CrowdVoter(url, f"storm-{i:05d}", stats) for i in range(n_phones)]
        gate = asyncio.Semaphore(100)

        async def join(v: _CrowdVoter) -> None:
            async with gate:
                assert await v.phone.join(), "a phone could not join the hub"

        await asyncio.gather(*(join(v) for v in voters))
    else:
        voters = await connect_phones(url, n_phones, "storm")
    stop = asyncio.Event()
    downtimes: list[float] = []
    ack_ms: list[float] = []

    async def voter(v: Any, device: str) -> None:
        r = random.Random(device)
        while not stop.is_set():
            started = time.perf_counter()
            if await v.vote(round_id, r.choice(labels)):
                ack_ms.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(r.uniform(0.1, 0.4))

    async def killer() -> None:
        began = time.perf_counter()
        try:
            for _ in range(iterations):
                await asyncio.sleep(rng.uniform(0.3, 1.2))  # mid-storm: votes queued, in a batch, being acked
                pid = sup.pid
                assert pid is not None
                killed = time.perf_counter()
                os.kill(pid, signal.SIGKILL)
                await _wait_restarted(sup, pid)
                downtimes.append(time.perf_counter() - killed)
            await asyncio.sleep(max(0.5, storm_s - (time.perf_counter() - began)))
        finally:
            stop.set()

    await asyncio.gather(killer(), *(voter(v, f"storm-{i:05d}") for i, v in enumerate(voters)))
    if stats is not None:
        await asyncio.gather(*(v.phone.client.close() for v in voters))
        last = {device: label for (rid, device), label in stats.final.items() if rid == round_id}
        return Storm(set(stats.sent), set(stats.acked), last, stats.resent, stats.reconnects, dict(stats.refused),
                     ack_ms, downtimes)
    await asyncio.gather(*(v.close() for v in voters))
    logs = [v.log for v in voters]
    return Storm({m for p in logs for m in p.sent}, {m for p in logs for m in p.acked},
                 {p.device: p.sent[p.acked[-1]] for p in logs if p.acked}, sum(p.resends for p in logs),
                 sum(p.reconnects for p in logs), dict(Counter(c for p in logs for c in p.refused.values())),
                 ack_ms, downtimes)


def hub_kill_drill(db_path: Path, log_path: Path, iterations: int, *, phones: int = 100,
                   seed: int = 2026, storm_s: float = 0.0, client: str = "minimal") -> dict[str, Any]:
    """Kill -9 the supervised hub `iterations` times while `phones` phones keep voting.

    The storm lasts at least `storm_s` (0 kills and a set length make the baseline run).
    The supervisor restarts it; phones reconnect and resend what was not acknowledged. Afterwards every
    acknowledged vote is in the audit log exactly once, each phone's row is its last acknowledged vote,
    nothing is stored that no phone sent, and `integrity_check` is ok.
    """
    from tests.hub_helpers import free_port

    round_id, labels = voting_db(db_path)
    started = time.perf_counter()
    with supervised_hub(db_path, free_port(), log_path) as sup:
        storm = asyncio.run(_storm(sup, round_id, labels, iterations, phones, random.Random(seed), storm_s, client))
        restarts = sup.restarts
    with Store(db_path) as store:
        check = check_votes(store, round_id, storm.sent, storm.acked, storm.last_acked)
        integrity = store.integrity_check()
    lat, downtimes = storm.ack_ms, storm.downtimes
    return {"iterations": iterations, "phones": phones, "phone_client": client, "hub_restarts": restarts,
            "votes_sent": len(storm.sent), "acknowledged_votes": check.acknowledged,
            "stored_votes": check.stored, "vote_rows": check.rows, "duplicates": check.duplicates,
            "lost": check.lost, "stored_but_never_sent": check.unsent, "table_matches_log": check.table_matches_log,
            "resends": storm.resends, "reconnects": storm.reconnects, "refused": storm.refused,
            "integrity_failures": 0 if integrity == "ok" else 1,
            "kill_to_healthy_s": {"median": round(statistics.median(downtimes), 2) if downtimes else 0.0,
                                  "max": round(max(downtimes), 2) if downtimes else 0.0},
            "ack_latency": latency_summary(lat),
            "seconds": round(time.perf_counter() - started, 1)}


# -- finalist endpoints that misbehave while phones vote ------------------------------------------

FAULTS = {"ray": "hang", "mia": "error", "sol": "garbage"}  # kai and zoe stay healthy (rehearsal)


def fault_script() -> Any:
    """The OpenAI-compatible wire server's script: one target hangs, one answers 500, one streams garbage."""
    from tests.wire.server import Reply, Script

    return Script({"hang": Reply("never", ttft_s=120), "error": Reply(fail_status=500),
                   "garbage": Reply("Fine so far", pieces=2, garbage=True)})


def fault_event(config: EventConfig, base_url: str) -> EventConfig:
    """The demo event with three finalists moved to the faulty targets, and short timeouts."""
    from finale.config import OpenAIEndpoint

    finalists = tuple(f.model_copy(update={"endpoint": OpenAIEndpoint(
        kind="openai", base_url=base_url, model=FAULTS[f.id], max_attempts=1, connect_timeout_s=2)})
        if f.id in FAULTS else f for f in config.finalists)
    generation = config.generation.model_copy(update={"timeout_s": 4.0, "idle_timeout_s": 1.5})
    return config.model_copy(update={"finalists": finalists, "generation": generation})


async def _ask_and_open(db_path: Path, window_s: float) -> int:
    with Store(db_path) as store:
        config = store.event_config()
        endpoints = build_endpoints(config, DEMO_EVENT.parent, seed=3, time_scale=0.05)
        director = Director(store, endpoints)
        try:
            rnd = director.new_round("capital", seed=3)
            await director.ask(rnd.id)
            await director.judge(rnd.id)
            director.open_poll(rnd.id, window_s)
        finally:
            await endpoints.aclose()
        return rnd.id


async def _fault_show(sup: HubSupervisor, db_path: Path, n_phones: int, spread_s: float) -> dict[str, Any]:
    url = sup.url.replace("http://", "ws://") + "/ws"
    phones = await connect_phones(url, n_phones, "crowd")
    asking = asyncio.create_task(asyncio.to_thread(asyncio.run, _ask_and_open(db_path, 120)))  # type: ignore[arg-type]
    pings: list[float] = []
    asked_at = time.perf_counter()
    while not asking.done():  # phones keep pinging while the MC waits on the hanging finalist
        pings += await asyncio.gather(*(p.ping() for p in phones[:100]))
        await asyncio.sleep(0.2)
    round_id = await asking
    asking_s = time.perf_counter() - asked_at
    with Store(db_path) as store:
        labels = sorted(store.round(round_id).labels.values())

    async def vote(p: Phone, i: int) -> None:
        r = random.Random(i)
        await asyncio.sleep(r.uniform(0, spread_s))
        await p.vote(round_id, r.choice(labels))

    await asyncio.gather(*(p.wait_for_voting() for p in phones))  # every phone shows the poll, then they vote
    await asyncio.gather(*(vote(p, i) for i, p in enumerate(phones)))
    await asyncio.gather(*(p.close() for p in phones))
    health = await asyncio.to_thread(hub_health, sup.url)
    with Store(db_path) as store:
        from tests.hub_helpers import director_for

        closed = director_for(store).close_poll(round_id)
        answers = {fid: a.status.value for fid, a in store.answers(round_id).items()}
        errors = {fid: a.error for fid, a in store.answers(round_id).items() if a.error}
        check = check_phone_votes(store, round_id, [p.log for p in phones])
    return {"phones": n_phones, "asking_s": round(asking_s, 2), "answers": answers,
            "answer_errors": errors, "phase_after": closed.phase.value,
            "ping_during_asking": {"count": len(pings), "p50_ms": round(statistics.median(pings), 2) if pings else 0,
                                   "p99_ms": round(percentile(pings, 99), 2)},
            "votes_sent": sum(len(p.log.sent) for p in phones), "acknowledged_votes": check.acknowledged,
            "stored_votes": check.stored, "vote_rows": check.rows, "duplicates": check.duplicates,
            "lost": check.lost, "refused": dict(Counter(c for p in phones for c in p.log.refused.values())),
            "vote_ack": latency_summary([x for p in phones for x in p.log.latencies_ms]), "vote_spread_s": spread_s,
            "hub_slowest_commit_ms": health.get("slowest_commit_ms"), "hub_largest_batch": health.get("largest_batch")}


def hub_health(base: str) -> dict[str, Any]:
    """The hub's /healthz (writer figures: slowest commit, largest batch)."""
    import urllib.request

    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as resp:
        return dict(json.loads(resp.read()))


def endpoint_fault_drill(db_path: Path, log_path: Path, *, phones: int = 1000, spread_s: float = 2.0,
                         faulty: bool = True) -> dict[str, Any]:
    """Three finalists hang, fail and stream garbage while `phones` phones wait and then vote.

    `faulty=False` is the baseline: the same show with every finalist healthy (rehearsal endpoints).
    """
    from finale.config import load_event
    from tests.hub_helpers import free_port
    from tests.wire.openai import openai_server

    with openai_server(fault_script()) as oai:
        config = load_event(DEMO_EVENT)
        new_event_db(db_path, fault_event(config, oai.url + "/v1") if faulty else config)
        with supervised_hub(db_path, free_port(), log_path) as sup:
            return asyncio.run(_fault_show(sup, db_path, phones, spread_s))


# -- fuzzing the hub ------------------------------------------------------------------------------

HARD_CAP = 32 * 1024  # websockets' max_size in the hub: a bigger frame closes the connection (1009)
ERROR_CODES = {"bad_json", "bad_message", "unknown_type", "too_big", "bad_role", "bad_token", "hello_first",
               "not_allowed", "rate_limited", "no_round", "wrong_round", "poll_closed", "bad_label", "not_open",
               "locked", "bad_scores", "bad_settings", "unavailable"}


def frame_strategy() -> Any:
    """Hub frames as a hostile or broken client sends them: mostly wrong, sometimes nearly right."""
    from hypothesis import strategies as st

    text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
    numbers = (st.integers(-5, 15) | st.integers() | st.integers(min_value=10**18, max_value=10**400)
               | st.floats(allow_nan=True, allow_infinity=True))
    scalars = st.none() | st.booleans() | numbers | text
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(text, inner, max_size=4), max_leaves=12)
    criteria = st.sampled_from(["generalization", "quality", "efficiency", "speed", ""])
    kinds = st.sampled_from(["hello", "vote", "scores", "settings", "ping", "launch", "", "VOTE", "ack", "error"])
    fields = {"role": st.sampled_from(["audience", "judge", "finalist", "stage", "mc", ""]) | values,
              "device_id": st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True) | values,
              "token": values, "round": st.integers(-2, 4) | values, "label": st.sampled_from("ABCDEZa") | values,
              "id": st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True) | values,
              "scores": st.dictionaries(criteria, numbers | values, max_size=4) | values,
              "t": values, "system_prompt": text | st.text(max_size=3000) | values,
              "temperature": numbers | values, "max_tokens": numbers | values, "extra": values}
    shaped = st.fixed_dictionaries({"type": kinds | values}, optional=fields)
    # Nearly valid: each type with exactly its fields, values right more often than not.
    msg_id = fields["id"]
    round_no = st.just(1) | st.integers(-2, 4) | values
    label = st.sampled_from("ABCDE") | fields["label"]
    score = st.floats(0, 10) | st.integers(0, 10) | numbers | values
    scores = st.fixed_dictionaries({c: score for c in ("generalization", "quality", "efficiency")}) | fields["scores"]
    near = st.one_of(
        st.fixed_dictionaries({"type": st.just("vote"), "round": round_no, "label": label, "id": msg_id}),
        st.fixed_dictionaries({"type": st.just("scores"), "round": round_no, "label": label, "scores": scores,
                               "id": msg_id}),
        st.fixed_dictionaries({"type": st.just("settings"), "system_prompt": fields["system_prompt"],
                               "temperature": st.floats(0, 2) | numbers | values,
                               "max_tokens": st.integers(1, 4096) | numbers | values, "id": msg_id}),
        st.fixed_dictionaries({"type": st.just("hello"), "role": fields["role"], "device_id": fields["device_id"]},
                              optional={"token": values}),
        st.fixed_dictionaries({"type": st.just("ping")}, optional={"t": values}),
    )
    as_json = st.tuples(near | shaped | values, st.booleans()).map(lambda p: json.dumps(p[0], ensure_ascii=p[1]))
    deep = st.tuples(st.integers(1, 3000), st.sampled_from(["[", "{\"a\":"])).map(
        lambda p: p[1] * p[0] + "1" + ("]" if p[1] == "[" else "}") * p[0])
    oversize = st.integers(2049, HARD_CAP + 4000).map(lambda n: json.dumps({"type": "ping", "pad": "x" * n}))
    return (as_json | as_json | text | deep | st.binary(max_size=64) | oversize
            | as_json.map(lambda f: f[: max(1, len(f) // 2)]))  # truncated JSON


@dataclass
class FuzzStats:
    """What the hub answered to fuzz frames."""

    frames: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    replies: Counter[str] = field(default_factory=Counter)  # pong, state, ack to frames that were valid
    closed_oversize: int = 0
    acked_votes: set[tuple[str, str]] = field(default_factory=set)  # (device, message id)
    acked_scores: list[dict[str, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass
class _Conn:
    """Who a fuzz connection is, as far as the hub knows."""

    role: str | None = None
    device: str | None = None


def _expect(frame: str | bytes, stats: FuzzStats, replies: list[dict[str, Any]], conn: _Conn) -> None:
    """Check the replies to one frame: a bad frame gets exactly one error with the code the protocol gives it.

    A valid `hello` on a fresh connection gives it a role and a device id.
    """
    from audience import protocol

    answers = [r for r in replies if r["type"] not in ("state", "tally")]
    nested = isinstance(frame, str) and frame.count("[") + frame.count("{") > 400
    if nested and [a.get("code") for a in answers] == ["bad_json"]:
        # JSON nested deeper than the hub's recursion limit is bad_json there; this process's limit
        # (raised by hypothesis) may parse it, so the oracle below cannot judge such a frame.
        stats.replies["too_deep"] += 1
        return
    try:
        msg = protocol.parse(frame, protocol.frame_limit(conn.role))
    except protocol.ProtocolError as exc:
        same = {"bad_json", "bad_message"} if exc.code in ("bad_json", "bad_message") else {exc.code}
        if len(answers) != 1 or answers[0].get("code") not in same:
            stats.failures.append(f"bad frame {frame[:80]!r}: expected one error {exc.code}, got {answers}")
        return
    if isinstance(msg, protocol.Hello) and conn.role is None and not answers:
        if not any(r["type"] == "state" for r in replies):
            stats.failures.append(f"hello {frame[:80]!r} got no state")
        stats.replies["state"] += 1
        conn.role, conn.device = msg.role, msg.device_id
        return
    if len(answers) != 1 or answers[0]["type"] not in ("error", "pong", "ack"):
        stats.failures.append(f"frame {frame[:80]!r} ({type(msg).__name__}) as {conn.role}/{conn.device}: expected "
                              f"one reply, got {replies}")
        return
    if answers[0]["type"] == "ack" and isinstance(msg, protocol.Vote) and conn.device is not None:
        stats.acked_votes.add((conn.device, msg.id))
    if answers[0]["type"] == "ack" and isinstance(msg, protocol.Scores):
        stats.acked_scores.append(msg.scores)
    stats.replies[answers[0]["type"]] += 1


def fuzz_connection(url: str, frames: list[str | bytes], stats: FuzzStats, hello_as: str | None,
                    token: str | None = None) -> None:
    """Send each frame on one real connection, each followed by a ping, and check what came back.

    `hello_as` (with the private link's `token` for a judge or finalist) greets first; None sends the
    frames to a connection that has not said hello. Documented closes are expected, and the connection
    is then reopened: 1009 for a frame over the hard cap, 1008 after a refused private-link token.
    """
    from websockets.sync.client import connect as sync_connect

    conn = _Conn()
    stack = ExitStack()

    def open_ws() -> Any:
        ws = stack.enter_context(sync_connect(url, open_timeout=10, max_size=2**22, compression=None))
        conn.role = conn.device = None
        if hello_as is not None:
            device = f"fuzz{random.getrandbits(48):012x}"
            hello = {"type": "hello", "role": hello_as, "device_id": device}
            ws.send(json.dumps({**hello, "token": token} if token else hello))
            first = json.loads(ws.recv(10))
            if first["type"] != "state":
                raise AssertionError(f"hello as {hello_as} refused: {first}")
            conn.role, conn.device = hello_as, device
        stats.replies[f"connected_as_{hello_as}"] += 1
        return ws

    ws = open_ws()
    try:
        for n, frame in enumerate(frames):
            stats.frames += 1
            ws.send(frame)
            replies: list[dict[str, Any]] = []
            sentinel = -7_777_777_000 - n  # a fuzz frame can be a ping too: its pong must not pass for ours
            try:
                ws.send(json.dumps({"type": "ping", "t": sentinel}))
                while True:
                    reply = json.loads(ws.recv(10))
                    if reply["type"] == "pong" and reply.get("t") == sentinel:
                        break
                    replies.append(reply)
                    if reply["type"] == "error":
                        stats.errors[reply["code"]] += 1
                        if reply["code"] not in ERROR_CODES or not reply.get("message"):
                            stats.failures.append(f"undocumented error {reply}")
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                refused = [r.get("code") for r in replies if r["type"] == "error"]
                if len(frame) > HARD_CAP and code == 1009:
                    stats.closed_oversize += 1
                elif code == 1008 and refused and refused[-1] in ("bad_token", "rate_limited"):
                    stats.replies["closed_bad_token"] += 1
                else:
                    stats.failures.append(f"connection closed ({code}) after {frame[:80]!r}; replies {replies}")
                ws = open_ws()
                continue
            if len(frame) > HARD_CAP:
                stats.failures.append(f"a {len(frame)}-character frame did not close the connection")
            _expect(frame, stats, replies, conn)
    finally:
        stack.close()


def run_fuzz(url: str, examples: int, frames_per_example: int = 20, seed: int = 0,
             tokens: dict[str, str] | None = None) -> FuzzStats:
    """`examples` hypothesis-generated lists of frames, each sent over a fresh connection to the hub.

    With `tokens` ({"judge": ..., "finalist": ...}) some connections are a panel judge's or a finalist's.
    """
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    stats = FuzzStats()
    tokens = tokens or {}
    roles = st.sampled_from(["audience", "audience", None, "stage", *tokens])

    @hypothesis_seed(seed)  # the same frames for the same seed
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(frame_strategy(), min_size=frames_per_example, max_size=frames_per_example), roles)
    def one(frames: list[str | bytes], hello_as: str | None) -> None:
        fuzz_connection(url, frames, stats, hello_as, tokens.get(hello_as or ""))

    random.seed(seed)
    one()
    return stats


Dump = dict[str, list[tuple[Any, ...]]]


def store_changes(before: Dump, after: Dump, stats: FuzzStats) -> list[str]:
    """What the store gained that it should not have: anything but acknowledged votes and scores (and their
    audit events)."""
    out = [f"tables changed: {sorted(set(before) ^ set(after))}"] if set(before) != set(after) else []
    for table in sorted(set(before) & set(after) - {"votes", "panel_scores", "events", "sqlite_sequence"}):
        if before[table] != after[table]:
            out.append(f"table {table} changed")

    def votes(dump: Dump) -> set[tuple[str, str]]:
        return {(row[1], row[3]) for row in dump.get("votes", [])}  # (device, message id)

    out += [f"vote {v} stored but never acknowledged" for v in sorted(votes(after) - votes(before) - stats.acked_votes)]
    acked_scores = [json.dumps(sc, sort_keys=True) for sc in stats.acked_scores]
    for row in set(after.get("panel_scores", [])) - set(before.get("panel_scores", [])):
        if json.dumps(json.loads(row[3]), sort_keys=True) not in acked_scores:
            out.append(f"panel score {row[:3]} {row[3]} stored but never acknowledged")
    allowed = {"votes.recorded", "panel.scored"}
    old_events = set(before.get("events", []))
    out += [f"event {e[3]} logged" for e in after.get("events", []) if e not in old_events and e[3] not in allowed]
    return out


def fuzz_drill(db_path: Path, log_path: Path, *, examples: int, frames_per_example: int = 20,
               seed: int = 0) -> dict[str, Any]:
    """Fuzz frames at `finale hub` under the supervisor: crashes are restarts, handler failures are in its log.

    Connections say hello as audience, stage, a panel judge or a finalist (with their real private
    tokens), or not at all. The round is open for votes, so judges' scores can be taken and
    finalists' settings are locked.
    """
    from finale.config import load_event
    from tests.hub_helpers import free_port

    voting_db(db_path, config=with_hub_limits(load_event(DEMO_EVENT), device_messages_per_s=1e6,
                                              ip_messages_per_s=1e6))
    with Store(db_path) as store:
        tokens = {"judge": store.tokens("panelists")["panel-2"], "finalist": store.tokens("finalists")["kai"]}
    before = dump_tables(db_path)
    started = time.perf_counter()
    with supervised_hub(db_path, free_port(), log_path) as sup:
        stats = run_fuzz(sup.url.replace("http://", "ws://") + "/ws", examples, frames_per_example, seed, tokens)
        alive, crashes = sup.alive, sup.restarts
        healthy = hub_health(sup.url).get("ok") is True
    seconds = time.perf_counter() - started
    log = log_path.read_text(encoding="utf-8", errors="replace")
    return {"frames_sent": stats.frames, "hub_crashes": crashes + (0 if alive else 1), "healthy_after": healthy,
            "handler_failures": log.count("connection handler failed"), "tracebacks_in_log": log.count("Traceback"),
            "error_frames": dict(stats.errors.most_common()), "valid_frame_replies": dict(stats.replies),
            "acked": {"votes": len(stats.acked_votes), "scores": len(stats.acked_scores)},
            "closed_oversize_1009": stats.closed_oversize, "unanswered_or_wrong": len(stats.failures),
            "failures": stats.failures[:20], "store_unexpected": store_changes(before, dump_tables(db_path), stats),
            "frames_per_s": round(stats.frames / seconds, 1), "seconds": round(seconds, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("director", help="run the resuming MC loop on a database")
    d.add_argument("db", type=Path)
    d.add_argument("--rounds", type=int, default=2)
    d.add_argument("--speed", type=float, default=0.1)
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--phones", type=int, default=200)
    c = sub.add_parser("console", help="stand in for the console's process: supervise a hub until killed")
    c.add_argument("db", type=Path)
    c.add_argument("port", type=int)
    c.add_argument("log", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "console":
        console_stand_in(args.db, args.port, args.log)
    else:
        asyncio.run(mc_loop(args.db, args.rounds, args.speed, args.seed, args.phones))


def console_stand_in(db_path: Path, port: int, log_path: Path) -> None:
    """What `finale run` does with the hub: one HubSupervisor; prints `ready <hub pid>` and waits for a signal."""
    sup = HubSupervisor(db_path, "127.0.0.1", port, f"http://127.0.0.1:{port}", log_path, min_backoff_s=0.2,
                        max_backoff_s=1.0)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})  # sigwait takes them, not death
    sup.start()
    _say("ready", sup.wait_ready(60), sup.pid)
    try:
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
    finally:
        sup.stop()


if __name__ == "__main__":
    sys.exit(main())
