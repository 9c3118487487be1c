"""The whole rehearsal show without a screen: for CI, quick checks and `finale demo --headless`.

The round sequence is finale/runner.py's; here only how the simulated panel and audience arrive
(written straight to the store, seeded, so a seed gives one show).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from finale.config import EventConfig
from finale.core.model import Round
from finale.core.scoring import Standing
from finale.demo import simulate
from finale.demo.script import load_script
from finale.director import Director, build_endpoints
from finale.runner import Hooks, ShowRunner, Waiver
from finale.store import Store


@dataclass(frozen=True)
class ShowResult:
    """What an unattended run ends with; `waivers` are the failed judgments waived on the record."""

    standings: list[Standing]
    names: dict[str, str]
    overrides: int
    db_path: Path
    waivers: tuple[Waiver, ...] = ()


def result_of(runner: ShowRunner) -> ShowResult:
    """The standings and what the runner had to do to reach them."""
    d = runner.director
    return ShowResult(d.standings(), dict(d.names()), runner.overrides, d.store.path, tuple(runner.waivers))


async def run_show(store: Store, config: EventConfig, event_dir: Path, *, seed: int = 7,
                   time_scale: float = 1.0, phones: int = 120) -> ShowResult:
    """Ask every deck question, judge, score, vote, override misjudgments, finalise."""
    endpoints = build_endpoints(config, event_dir, seed=seed, time_scale=time_scale)
    director = Director(store, endpoints, actor="mc")
    script = load_script(event_dir / config.rehearsal.script)
    event = config.to_core()

    async def panel(rnd: Round) -> None:
        for score in simulate.panel_scores(event, rnd, script, seed):
            director.score_panel(score, actor=f"simulated:{score.panelist_id}")

    async def votes(rnd: Round) -> None:
        simulate.write_votes(store, simulate.audience_votes(rnd, script, seed, phones))

    runner = ShowRunner(director, Hooks(panel=panel, votes=votes))
    try:
        await runner.run_deck(seed)
    finally:
        await endpoints.aclose()
    return result_of(runner)


def run_headless(db_path: Path, config: EventConfig, event_dir: Path, *, seed: int, time_scale: float,
                 phones: int = 120) -> ShowResult:
    """Set up a fresh database and run the show in it.

    ValueError or StoreError: the database given cannot hold a new show (the caller's arguments);
    ShowFailed: the show itself stopped.
    """
    with Store(db_path) as store:
        store.setup_event(config)
        if store.rounds():
            raise ValueError(f"{db_path} already holds rounds; pass a new --db (or delete it) to rehearse again")
        return asyncio.run(run_show(store, config, event_dir, seed=seed, time_scale=time_scale, phones=phones))
