"""An MC who resumes: drives the show from whatever state the database is in, one runner step at a time.

Run as `python -m tests.drills director DB ...` by the console-kill drill, which kills it at any
moment: it prints `phase <name> <round>` before each step and `committed ...` after each commit
returns, so the parent can check afterwards that nothing it reported is lost. The steps are
finale.runner.ShowRunner's, the same as the headless demo's and the autopilot's.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from finale.core.model import Phase, Round
from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import audience_votes, panel_scores
from finale.director import Director, build_endpoints
from finale.runner import Hooks, ShowRunner, Step
from finale.store import Store

MODULE = "tests.drills"  # what `python -m` runs (tests/drills/__main__.py)


def say(*parts: object) -> None:
    print(*parts, flush=True)


def mc_command(db_path: Path, rounds: int, speed: float, seed: int) -> list[str]:
    """The command line of the resuming MC process."""
    return [sys.executable, "-m", MODULE, "director", str(db_path), "--rounds", str(rounds), "--speed", str(speed),
            "--seed", str(seed)]


async def mc_loop(db_path: Path, rounds: int, time_scale: float, seed: int, phones: int) -> None:
    """Drive the show from whatever state the database is in until `rounds` rounds are final."""
    store = Store(db_path)
    config = store.event_config()
    event = config.to_core()
    script = load_script(DEMO_EVENT.parent / config.rehearsal.script)
    endpoints = build_endpoints(config, DEMO_EVENT.parent, seed=seed, time_scale=time_scale)

    async def panel(rnd: Round) -> None:
        for score in panel_scores(event, rnd, script, seed):
            director.score_panel(score, actor=f"simulated:{score.panelist_id}")
        say("committed panel", rnd.id)

    async def votes(rnd: Round) -> None:
        cast = audience_votes(rnd, script, seed, phones)
        for i in range(0, len(cast), 20):  # a trickle, so a kill can land mid-poll
            batch = cast[i:i + 20]
            store.record_votes(batch, actor="simulated-audience")
            say("committed votes", rnd.id, " ".join(f"{v.device_id}={v.label}@{v.cast_at!r}@{v.client_msg_id}"
                                                    for v in batch))
            await asyncio.sleep(0.02)

    director = Director(store, endpoints, actor="mc")
    runner = ShowRunner(director, Hooks(panel=panel, votes=votes, window_s=600))
    say("ready")
    try:
        while True:
            done = [r for r in store.rounds() if r.phase is Phase.FINAL]
            rnd = store.current_round()
            if rnd is None or rnd.phase in (Phase.FINAL, Phase.VOID):
                if len(done) >= rounds:
                    say("show-done", len(done))
                    return
                asked = {r.question_id for r in done}
                qid = next((q.id for q in event.questions if q.id not in asked), None)
                n = len(store.rounds())
                unseen = None if qid else f"Unseen question {n}: name one thing a stage crew checks before a show."
                rnd = director.new_round(qid, prompt=unseen, seed=seed * 1000 + n)
                say("committed round", rnd.id, rnd.phase.value)
                continue
            say("phase", rnd.phase.value, rnd.id)
            step = await runner.step(rnd.id)
            if step is Step.ASKED:
                got = store.answers(rnd.id)
                say("committed answers", rnd.id, " ".join(f"{f}={a.status.value}" for f, a in got.items()
                                                        if a.finished))
            elif step is Step.JUDGED:
                say("committed judged", rnd.id, " ".join(sorted(store.judgments(rnd.id))))
                continue
            say("committed round", rnd.id, store.round(rnd.id).phase.value)
    finally:
        await endpoints.aclose()
        store.close()
