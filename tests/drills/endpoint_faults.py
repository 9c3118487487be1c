"""Drill: three finalist endpoints hang, answer HTTP 500 and stream garbage while phones wait and then vote."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import statistics
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from finale.config import EventConfig, OpenAIEndpoint, load_event
from finale.core.model import Phase
from finale.demo import DEMO_EVENT
from finale.director import Director, build_endpoints
from finale.runner import Hooks, ShowRunner
from finale.store import Store
from finale.supervisor import HubSupervisor
from tests.drills.checks import check_phone_votes
from tests.drills.hub import hub_health, new_event_db, supervised_hub, ws_url
from tests.drills.phone import Phone, connect_phones, latency_summary, percentile

FAULTS = {"ray": "hang", "mia": "error", "sol": "garbage"}  # kai and zoe stay healthy (rehearsal)


def fault_script() -> Any:
    """The OpenAI-compatible wire server's script: one target hangs, one answers 500, one streams garbage."""
    from tests.wire.server import Reply, Script

    return Script({"hang": Reply("never", ttft_s=120), "error": Reply(fail_status=500),
                   "garbage": Reply("Fine so far", pieces=2, garbage=True)})


def fault_event(config: EventConfig, base_url: str) -> EventConfig:
    """The demo event with three finalists moved to the faulty targets, and short timeouts."""
    finalists = tuple(f.model_copy(update={"endpoint": OpenAIEndpoint(
        kind="openai", base_url=base_url, model=FAULTS[f.id], max_attempts=1, connect_timeout_s=2)})
        if f.id in FAULTS else f for f in config.finalists)
    generation = config.generation.model_copy(update={"timeout_s": 4.0, "idle_timeout_s": 1.5})
    return config.model_copy(update={"finalists": finalists, "generation": generation})


async def _ask_and_open(db_path: Path, window_s: float) -> int:
    """The MC's part, on its own store: a round run until its poll is open."""
    with Store(db_path) as store:
        endpoints = build_endpoints(store.event_config(), DEMO_EVENT.parent, seed=3, time_scale=0.05)
        runner = ShowRunner(Director(store, endpoints), Hooks(window_s=window_s))
        try:
            rnd = runner.director.new_round("capital", seed=3)
            await runner.advance(rnd.id, until=Phase.VOTING)
        finally:
            await endpoints.aclose()
        return rnd.id


def _console(db_path: Path, window_s: float) -> int:
    """`_ask_and_open` in a process of its own, as the console is at the venue.

    In a thread of this process it shared the GIL with the 1,000 phones whose ping times are
    measured, so its judging stalled their pings by 100-300 ms now and then: the phones' stall, not the hub's.
    """
    return asyncio.run(_ask_and_open(db_path, window_s))


def _console_started() -> bool:
    """Run first in the console's process: taking it there imports this module and the console's code."""
    return True


async def _fault_show(sup: HubSupervisor, db_path: Path, n_phones: int, spread_s: float) -> dict[str, Any]:
    phones = await connect_phones(ws_url(sup), n_phones, "crowd")
    console = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    # the console is up before the MC asks, as at the venue: its start (a second or two of imports) is not timed
    await asyncio.get_running_loop().run_in_executor(console, _console_started)
    asking = asyncio.get_running_loop().run_in_executor(console, _console, db_path, 120.0)
    pings: list[float] = []
    round_medians: list[float] = []  # a round is 100 pings at once: a stall of the hub delays all of them
    asked_at = time.perf_counter()
    while not asking.done():  # phones keep pinging while the MC waits on the hanging finalist
        answered = await asyncio.gather(*(p.ping() for p in phones[:100]))
        pings += answered
        round_medians.append(statistics.median(answered))
        await asyncio.sleep(0.2)
    round_id = await asking
    console.shutdown()
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
            "ping_during_asking": {"count": len(pings), "rounds": len(round_medians),
                                   "rounds_over_250ms": sum(m > 250 for m in round_medians),
                                   "p50_ms": round(statistics.median(pings), 2) if pings else 0,
                                   "p95_ms": round(percentile(pings, 95), 2), "p99_ms": round(percentile(pings, 99), 2),
                                   "max_ms": round(max(pings, default=0.0), 2)},
            "votes_sent": sum(len(p.log.sent) for p in phones), "acknowledged_votes": check.acknowledged,
            "stored_votes": check.stored, "vote_rows": check.rows, "duplicates": check.duplicates,
            "lost": check.lost, "refused": dict(Counter(c for p in phones for c in p.log.refused.values())),
            "vote_ack": latency_summary([x for p in phones for x in p.log.latencies_ms]), "vote_spread_s": spread_s,
            "hub_slowest_commit_ms": health.get("slowest_commit_ms"), "hub_largest_batch": health.get("largest_batch")}


def endpoint_fault_drill(db_path: Path, log_path: Path, *, phones: int = 1000, spread_s: float = 2.0,
                         faulty: bool = True) -> dict[str, Any]:
    """Three finalists hang, fail and stream garbage while `phones` phones wait and then vote.

    `faulty=False` is the baseline: the same show with every finalist healthy (rehearsal endpoints).
    """
    from tests.hub_helpers import free_port
    from tests.wire.openai import openai_server

    with openai_server(fault_script()) as oai:
        config = load_event(DEMO_EVENT)
        new_event_db(db_path, fault_event(config, oai.url + "/v1") if faulty else config)
        with supervised_hub(db_path, free_port(), log_path) as sup:
            return asyncio.run(_fault_show(sup, db_path, phones, spread_s))
