"""Crash drill: kill -9 the supervised hub while phones keep voting; every acknowledged vote is stored once."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from finale.store import Store
from finale.supervisor import HubSupervisor
from tests.drills.checks import check_phone_votes
from tests.drills.hub import supervised_hub, voting_db, wait_restarted, ws_url
from tests.drills.phone import PhoneLog, connect_phones, latency_summary


async def _storm(sup: HubSupervisor, round_id: int, labels: list[str], iterations: int, n_phones: int,
                 rng: random.Random, storm_s: float, client: str) -> tuple[list[PhoneLog], list[float]]:
    """Phones keep voting while the hub is killed `iterations` times; they reconnect and resend the
    unacknowledged vote with its message id (`client`: "minimal", or "autopilot" for the autopilot's own
    reconnect logic). Returns the phones' logs and each kill's downtime."""
    phones = await connect_phones(ws_url(sup), n_phones, "storm", autopilot=client == "autopilot")
    stop = asyncio.Event()
    downtimes: list[float] = []

    async def voter(i: int) -> None:
        r = random.Random(f"storm-{i:05d}")
        while not stop.is_set():
            await phones[i].vote(round_id, r.choice(labels))
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
                await wait_restarted(sup, pid)
                downtimes.append(time.perf_counter() - killed)
            await asyncio.sleep(max(0.5, storm_s - (time.perf_counter() - began)))
        finally:
            stop.set()

    await asyncio.gather(killer(), *(voter(i) for i in range(n_phones)))
    await asyncio.gather(*(p.close() for p in phones))
    return [p.log for p in phones], downtimes


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
        logs, downtimes = asyncio.run(_storm(sup, round_id, labels, iterations, phones, random.Random(seed),
                                             storm_s, client))
        restarts = sup.restarts
    with Store(db_path) as store:
        check = check_phone_votes(store, round_id, logs)
        integrity = store.integrity_check()
    return {"iterations": iterations, "phones": phones, "phone_client": client, "hub_restarts": restarts,
            "votes_sent": sum(len(p.sent) for p in logs), "acknowledged_votes": check.acknowledged,
            "stored_votes": check.stored, "vote_rows": check.rows, "duplicates": check.duplicates,
            "lost": check.lost, "stored_but_never_sent": check.unsent, "table_matches_log": check.table_matches_log,
            "resends": sum(p.resends for p in logs), "reconnects": sum(p.reconnects for p in logs),
            "refused": dict(Counter(c for p in logs for c in p.refused.values())),
            "integrity_failures": 0 if integrity == "ok" else 1,
            "kill_to_healthy_s": {"median": round(statistics.median(downtimes), 2) if downtimes else 0.0,
                                  "max": round(max(downtimes), 2) if downtimes else 0.0},
            "ack_latency": latency_summary([x for p in logs for x in p.latencies_ms]),
            "seconds": round(time.perf_counter() - started, 1)}
