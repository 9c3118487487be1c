"""The unattended show: the Director drives every round while simulated phones and panelists use the real hub.

Each deck question runs through finale/runner.py's round sequence (the same as
the headless demo's); here only how its parts arrive: the panel scores through
the judge pages (panelists without a simulated device are typed in by the MC),
and the votes from the phones, the poll staying open until its deadline. A
judgment that fails twice is waived on the record by "autopilot", so the show
always reaches its standings and the health table says what was waived.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from finale.autopilot.health import Health, collect
from finale.autopilot.judges import Panelist, PanelStats
from finale.autopilot.phones import Crowd
from finale.config import EventConfig
from finale.core.model import PanelScore, Round
from finale.demo import simulate
from finale.demo.script import Script, load_script
from finale.director import Director, build_endpoints
from finale.headless import ShowResult, result_of
from finale.runner import Hooks, ShowRunner
from finale.store import Store

MIN_WINDOW_S = 2.0  # the shortest poll the phones are given, whatever the --speed
# ... and at least a second per this many phones: a big crowd simulated in one process needs time to
# vote, drop out and resend before the close (2,500 phones in a 2 s window: 28 resends came too late)
PHONES_PER_WINDOW_S = 400


@dataclass(frozen=True)
class AutopilotResult:
    """The standings of the show and how healthy the voting was."""

    show: ShowResult
    health: Health


def vote_window(config: EventConfig, time_scale: float, phones: int) -> float:
    """The event's voting window scaled like the rehearsal endpoints, never shorter than the crowd needs."""
    return max(MIN_WINDOW_S, phones / PHONES_PER_WINDOW_S, config.voting.window_seconds * time_scale)


def taste(script: Script, rnd: Round) -> dict[str, float]:
    """How much the crowd likes each label: better scripted answers draw more votes."""
    return {label: statistics.fmean(script.judge_scores(fid, rnd.question_id)) ** 2 + 1
            for fid, label in rnd.labels.items()}


def scores_by_label(scores: list[PanelScore], rnd: Round) -> dict[str, dict[str, Mapping[str, float]]]:
    """Panelist id -> label -> criterion scores, as a judge page sends them."""
    out: dict[str, dict[str, Mapping[str, float]]] = {}
    for s in scores:
        out.setdefault(s.panelist_id, {})[rnd.labels[s.finalist_id]] = s.scores
    return out


def check_judges(config: EventConfig, judges: int) -> None:
    """A simulated device per panelist at most."""
    if not 0 <= judges <= len(config.panelists):
        raise ValueError(f"--judges {judges}: the event has {len(config.panelists)} panelists; "
                         f"give at most {len(config.panelists)}")


def ws_url(hub_url: str) -> str:
    """The hub's WebSocket address from its HTTP one."""
    parts = urlsplit(hub_url)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}/ws"


async def run_autopilot(store: Store, config: EventConfig, event_dir: Path, hub_url: str, *, phones: int,
                        judges: int, seed: int, time_scale: float) -> AutopilotResult:
    """Run every deck question through the hub with `phones` phones and `judges` panelists on their devices."""
    check_judges(config, judges)
    event = config.to_core()
    script = load_script(event_dir / config.rehearsal.script)
    window = vote_window(config, time_scale, phones)
    tokens = store.tokens("panelists")
    panel_stats = PanelStats()
    online = [Panelist(ws_url(hub_url), p.id, tokens[p.id], panel_stats) for p in event.panelists[:judges]]
    by_device = {p.panelist_id for p in online}
    crowd = Crowd(ws_url(hub_url), phones, seed, host=urlsplit(hub_url).hostname or "")
    endpoints = build_endpoints(config, event_dir, seed=seed, time_scale=time_scale)
    director = Director(store, endpoints, actor="autopilot")

    async def panel(rnd: Round) -> None:
        scores = simulate.panel_scores(event, rnd, script, seed)
        by_panelist = scores_by_label(scores, rnd)
        scored = await asyncio.gather(*(p.score(rnd.id, by_panelist[p.panelist_id]) for p in online))
        typed = set(by_device) - {p.panelist_id for p, ok in zip(online, scored, strict=True) if ok}
        for score in [s for s in scores if s.panelist_id not in by_device or s.panelist_id in typed]:
            # read out and typed in by the MC: panelists without a device, and any whose page failed
            await asyncio.to_thread(director.score_panel, score)

    async def votes(rnd: Round) -> None:
        await crowd.vote_round(rnd.id, taste(script, rnd), wait_s=window + 10)

    runner = ShowRunner(director, Hooks(panel=panel, votes=votes, window_s=window, wait_for_deadline=True))
    try:
        await crowd.join()
        await asyncio.gather(*(p.join() for p in online))
        await runner.run_deck(seed)
        connected = crowd.connected
    finally:
        await crowd.leave()
        await asyncio.gather(*(p.client.close() for p in online))
        await endpoints.aclose()
    health = collect(store, runner.round_ids, crowd.stats, panel_stats, connected_at_end=connected,
                     overrides=runner.overrides)
    return AutopilotResult(result_of(runner), health)
