"""The long crash drills, the endpoint-fault drill and the hub fuzz run; writes bench/results/drills.json.

    .venv/bin/python bench/drills.py [--kills 20] [--phones 100] [--crowd 1000] [--fuzz-frames 100000]

- hub kill: `finale hub` under the real supervisor is killed with SIGKILL `--kills` times while
  `--phones` phones keep voting; phones reconnect and resend what was not acknowledged. Baseline: the
  same storm, as long, with no kill.
- console kill: the MC's process (a resuming director loop) is killed with SIGKILL `--kills` times in
  asking, judging and voting, and restarted; then it finishes the show.
- endpoint faults: three finalists hang, answer 500 and stream garbage while `--crowd` phones wait and
  vote. Baseline: the same show with every finalist healthy.
- fuzz: `--fuzz-frames` hypothesis-generated frames from real websockets clients at the supervised hub.

The CI versions of the same code are tests/test_drill_*.py and tests/test_fuzz_hub.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the drills share their code with the tests (tests/drills/)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

from tests.drills.console_kill import console_kill_drill  # noqa: E402
from tests.drills.endpoint_faults import endpoint_fault_drill  # noqa: E402
from tests.drills.fuzz import fuzz_drill  # noqa: E402
from tests.drills.hub import new_event_db  # noqa: E402
from tests.drills.hub_kill import hub_kill_drill  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def _say(name: str, result: dict[str, Any]) -> None:
    short = {k: v for k, v in result.items() if not isinstance(v, (list, dict)) or k in ("ack_latency", "vote_ack")}
    print(f"{name}: {json.dumps(short)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs per crash drill")
    parser.add_argument("--phones", type=int, default=100, help="phones voting during the hub kill drill")
    parser.add_argument("--crowd", type=int, default=1000, help="phones during the endpoint-fault drill")
    parser.add_argument("--fuzz-frames", type=int, default=100_000, help="fuzz frames (20 per connection)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--phone-client", choices=["minimal", "autopilot"], default="minimal",
                        help="phones of the hub kill drill: tests/drills/phone.py's own loop or finale.autopilot's")
    args = parser.parse_args()
    started = time.perf_counter()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="finale-drills-") as tmp:
        folder = Path(tmp)
        out["hub_kill"] = hub_kill_drill(folder / "hub.db", folder / "hub.log", args.kills, phones=args.phones,
                                         seed=args.seed, client=args.phone_client)
        _say("hub kill", out["hub_kill"])
        out["hub_kill_baseline"] = hub_kill_drill(folder / "hub0.db", folder / "hub0.log", 0, phones=args.phones,
                                                  seed=args.seed, storm_s=out["hub_kill"]["seconds"],
                                                  client=args.phone_client)
        _say("hub kill baseline (no kill)", out["hub_kill_baseline"])
        out["console_kill"] = console_kill_drill(new_event_db(folder / "console.db"), args.kills, seed=args.seed,
                                                 rounds=1)
        _say("console kill", out["console_kill"])
        out["endpoint_faults"] = endpoint_fault_drill(folder / "faults.db", folder / "faults.log",
                                                      phones=args.crowd)
        _say("endpoint faults", out["endpoint_faults"])
        out["endpoint_faults_baseline"] = endpoint_fault_drill(folder / "healthy.db", folder / "healthy.log",
                                                               phones=args.crowd, faulty=False)
        _say("endpoint faults baseline (all healthy)", out["endpoint_faults_baseline"])
        out["fuzz"] = fuzz_drill(folder / "fuzz.db", folder / "fuzz.log", examples=max(1, args.fuzz_frames // 20),
                                 seed=args.seed)
        _say("fuzz", out["fuzz"])
    hub, console, faults, fuzz = out["hub_kill"], out["console_kill"], out["endpoint_faults"], out["fuzz"]
    base_p99 = out["endpoint_faults_baseline"]["vote_ack"]["p99_ms"]
    summary = {
        "iterations_run": {"hub_kill": hub["iterations"], "console_kill": console["iterations"]},
        "acknowledged_votes": hub["acknowledged_votes"] + faults["acknowledged_votes"],
        "stored_votes": hub["stored_votes"] + faults["stored_votes"],
        "duplicates": hub["duplicates"] + faults["duplicates"],
        "lost": hub["lost"] + faults["lost"] + console["lost"],
        "stored_but_never_sent": hub["stored_but_never_sent"],
        "integrity_failures": hub["integrity_failures"] + console["integrity_failures"],
        "fuzz_frames_sent": fuzz["frames_sent"],
        "hub_crashes": fuzz["hub_crashes"] + fuzz["handler_failures"],
        "fuzz_unanswered_or_wrong": fuzz["unanswered_or_wrong"],
        "fuzz_store_unexpected": len(fuzz["store_unexpected"]),
        "fault_vote_p99_ms": faults["vote_ack"]["p99_ms"],
        "healthy_vote_p99_ms": base_p99,
        "fault_vote_p99_vs_healthy": round(faults["vote_ack"]["p99_ms"] / base_p99, 2) if base_p99 else None,
    }
    summary["passed"] = (summary["duplicates"] == 0 and summary["lost"] == 0 and summary["integrity_failures"] == 0
                         and summary["hub_crashes"] == 0 and summary["fuzz_unanswered_or_wrong"] == 0
                         and summary["fuzz_store_unexpected"] == 0 and summary["stored_but_never_sent"] == 0
                         and hub["hub_restarts"] == args.kills and console["resumed_to_the_end"]
                         and faults["phase_after"] == "closed" and summary["fault_vote_p99_ms"] < 100)
    result = {"summary": summary, **out, "seconds": round(time.perf_counter() - started, 1),
              "machine": {"python": platform.python_version(), "platform": platform.platform(),
                          "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")},
              "args": vars(args)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "drills.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
