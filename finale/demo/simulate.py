"""Simulated panelists and audience for the headless demo: seeded, so a seed gives one show."""

from __future__ import annotations

import random
import statistics
import time

from finale.core.model import Event, PanelScore, Round
from finale.demo.script import Script
from finale.store import Store, VoteIn


def panel_scores(event: Event, rnd: Round, script: Script, seed: int) -> list[PanelScore]:
    """Each panelist scores near the scripted quality, or near the script's own panel line where it has one."""
    out = []
    for p in event.panelists:
        rng = random.Random(f"{seed}:panel:{p.id}:{rnd.id}")
        for fid in rnd.labels:
            base = script.panel_base(fid, rnd.question_id)
            if base is None:
                base = statistics.fmean(script.judge_scores(fid, rnd.question_id))
            scores = {c.id: float(min(10, max(0, round(base + rng.uniform(-1.5, 1.5))))) for c in event.rubric}
            out.append(PanelScore(rnd.id, fid, p.id, scores))
    return out


def audience_votes(rnd: Round, script: Script, seed: int, phones: int = 120,
                   now: float | None = None) -> list[VoteIn]:
    """Phones vote with a preference for better answers; some change their mind (last one counts)."""
    rng = random.Random(f"{seed}:votes:{rnd.id}")
    fids = sorted(rnd.labels)
    weights = [statistics.fmean(script.judge_scores(f, rnd.question_id)) ** 2 + 1 for f in fids]
    start = now if now is not None else time.time()
    votes = []
    for i in range(phones):
        device = f"sim-{i:04d}"
        first = rng.choices(fids, weights)[0]
        votes.append(VoteIn(rnd.id, device, rnd.labels[first], f"{device}-1", start + i * 0.001))
        if rng.random() < 0.1:
            second = rng.choices(fids, weights)[0]
            votes.append(VoteIn(rnd.id, device, rnd.labels[second], f"{device}-2", start + 1 + i * 0.001))
    return votes


def write_votes(store: Store, votes: list[VoteIn]) -> None:
    store.record_votes(votes, actor="simulated-audience")
