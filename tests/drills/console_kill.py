"""Crash drill: kill -9 the MC's process mid-round (asking, judging, voting), restart it, lose nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finale.core.model import Phase
from finale.store import Store
from tests.drills.checks import check_round_log
from tests.drills.mc import mc_command

PHASE_ORDER = [Phase.DRAFT, Phase.ASKING, Phase.ANSWERED, Phase.JUDGING, Phase.VOTING, Phase.CLOSED, Phase.FINAL]
# Which line the MC prints just before each phase, and how long after it the kill lands (seconds).
KILL_AFTER = {"asking": ("phase draft", 0.02, 0.3), "judging": ("phase answered", 0.0, 0.04),
              "voting": ("phase voting", 0.01, 0.2)}


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
            if a is None or not a.finished:
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


def console_kill_drill(db_path: Path, iterations: int, *, seed: int = 2026, rounds: int = 2,
                       speed: float = 0.2) -> dict[str, Any]:
    """Kill -9 the MC process `iterations` times in asking, judging and voting; restart resumes each time.

    After every kill: nothing the process reported as committed is missing, the tables agree with the
    audit log and `integrity_check` is ok. At the end one more run finishes the show.
    """
    rng = random.Random(seed)
    reported = Reported()
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root, "PYTHONUNBUFFERED": "1"}
    targets = list(KILL_AFTER)
    killed_in: Counter[str] = Counter()
    lost: list[str] = []
    integrity_failures = 0
    started = time.perf_counter()
    for it in range(iterations):
        target = targets[it % len(targets)]
        child = subprocess.Popen(mc_command(db_path, rounds + iterations, speed, seed), stdout=subprocess.PIPE,
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
    finish = subprocess.run(mc_command(db_path, rounds + iterations, speed, seed), capture_output=True, text=True,
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
