"""The whole rehearsal show without a screen: for CI, quick checks and `finale demo --headless`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from finale.config import EventConfig
from finale.core.model import Component
from finale.core.scoring import Standing
from finale.demo import simulate
from finale.demo.script import load_script
from finale.director import Director, build_endpoints
from finale.store import Store

HEAD_JUDGE = "head-judge"


@dataclass(frozen=True)
class ShowResult:
    """What a headless run ends with."""

    standings: list[Standing]
    names: dict[str, str]
    overrides: int
    db_path: Path


def override_misjudged(director: Director, round_id: int) -> int:
    """The head judge replaces the LLM score with the panel's wherever the checker says the judge was wrong."""
    done = 0
    for dispute in director.disputes(round_id):
        if dispute.kind == "checker" and not dispute.resolved:
            fr = director.record(round_id)
            panel = [s for s in fr.panel_scores if s.finalist_id == dispute.finalist_id]
            value = sum(sum(s.scores.values()) / len(s.scores) for s in panel) / len(panel) * 10
            director.override(round_id, dispute.finalist_id, Component.LLM,
                              f"Judge misread a correct answer; {dispute.reason}. Panel consensus used.",
                              value=round(value, 1), actor=HEAD_JUDGE)
            done += 1
    return done


async def run_show(store: Store, config: EventConfig, event_dir: Path, *, seed: int = 7,
                   time_scale: float = 1.0, phones: int = 120) -> ShowResult:
    """Ask every deck question, judge, score, vote, override misjudgments, finalise."""
    endpoints = build_endpoints(config, event_dir, seed=seed, time_scale=time_scale)
    director = Director(store, endpoints, actor="mc")
    script = load_script(event_dir / config.rehearsal.script)
    event = config.to_core()
    overrides = 0
    try:
        for i, question in enumerate(event.questions):
            rnd = director.new_round(question.id, seed=seed * 1000 + i)
            await director.ask(rnd.id)
            await director.judge(rnd.id)
            for score in simulate.panel_scores(event, rnd, script, seed):
                store.save_panel_score(score, actor=f"simulated:{score.panelist_id}")
            director.open_poll(rnd.id)
            simulate.write_votes(store, simulate.audience_votes(store.round(rnd.id), script, seed, phones))
            director.close_poll(rnd.id)
            overrides += override_misjudged(director, rnd.id)
            director.reveal_round(rnd.id)
            director.finalize(rnd.id)
    finally:
        await endpoints.aclose()
    return ShowResult(director.standings(), dict(director.names()), overrides, store.path)


def run_headless(db_path: Path, config: EventConfig, event_dir: Path, *, seed: int, time_scale: float,
                 phones: int = 120) -> ShowResult:
    """Set up a fresh database and run the show in it."""
    with Store(db_path) as store:
        store.setup_event(config)
        if store.rounds():
            raise ValueError(f"{db_path} already holds rounds; pass a new --db (or delete it) to rehearse again")
        return asyncio.run(run_show(store, config, event_dir, seed=seed, time_scale=time_scale, phones=phones))
