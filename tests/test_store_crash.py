"""A writer killed with SIGKILL at random moments loses no reported commit and corrupts nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from finale.config import EventConfig
from finale.core.model import Phase
from finale.core.show import assign_labels
from finale.store import Store

ITERATIONS = 20


def _prepare(db: Path, config: EventConfig) -> None:
    with Store(db) as store:
        store.setup_event(config)
        ids = [f.id for f in config.finalists]
        rnd = store.create_round("q", None, 1, assign_labels(ids, 1), "test")
        from dataclasses import replace

        store.update_round(replace(rnd, phase=Phase.VOTING, vote_deadline=time.time() + 3600), "test", "poll.opened",
                           expect=rnd.phase)


def test_sigkill_at_random_moments_loses_nothing_reported(tmp_path: Path, demo_config: EventConfig) -> None:
    db = tmp_path / "crash.db"
    _prepare(db, demo_config)
    rng = random.Random(2024)
    reported_votes: dict[str, tuple[str, float]] = {}
    reported_scores: dict[tuple[str, str], dict[str, float]] = {}
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for it in range(ITERATIONS):
        child = subprocess.Popen([sys.executable, str(Path(__file__).with_name("crash_writer.py")), str(db), str(it)],
                                 stdout=subprocess.PIPE, text=True, env=env)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        # A report cut by the kill (no newline yet) is not a report: a blocked write to the full pipe can be
        # part-done when SIGKILL lands, so only whole lines count.
        *whole, _cut = child.stdout.read().split("\n")
        for line in whole:
            kind, _, rest = line.partition(" ")
            if kind == "votes":
                for item in rest.split():
                    device, _, tail = item.partition("=")
                    label, _, at = tail.partition("@")
                    if device not in reported_votes or float(at) >= reported_votes[device][1]:
                        reported_votes[device] = (label, float(at))
            elif kind == "score":
                fid, pid, *pairs = rest.split()
                reported_scores[(fid, pid)] = {k: float(v) for k, v in (p.split("=") for p in pairs)}
        with Store(db) as store:
            assert store.integrity_check() == "ok", f"iteration {it}"
            stored_votes = {v["device_id"]: (v["label"], v["cast_at"]) for v in store.votes(1)}
            for device, (label, at) in reported_votes.items():
                # Every reported commit is there (a later unreported one may have superseded it).
                assert device in stored_votes, f"iteration {it}: vote of {device} lost"
                assert stored_votes[device][1] >= at
                if stored_votes[device][1] == at:
                    assert stored_votes[device][0] == label
            stored_scores = {(s.finalist_id, s.panelist_id): s.scores for s in store.panel_scores(1)}
            for key in reported_scores:
                assert key in stored_scores, f"iteration {it}: panel score {key} lost"
            # The audit log agrees with the tables.
            from_events: dict[str, tuple[str, float]] = {}
            for ev in store.events(kind="votes.recorded", round_id=1):
                for device, label, _msg, at in ev.payload["votes"]:
                    if device not in from_events or at >= from_events[device][1]:
                        from_events[device] = (label, at)
            assert from_events == stored_votes
            scores_from_events = {}
            for ev in store.events(kind="panel.scored", round_id=1):
                scores_from_events[(ev.payload["finalist_id"], ev.payload["panelist_id"])] = ev.payload["scores"]
            assert scores_from_events == stored_scores
            # Commits that the child made after its last report may exist; nothing else may.
            assert set(stored_votes) >= set(reported_votes)
    assert len(reported_votes) > 50, json.dumps(len(reported_votes))
