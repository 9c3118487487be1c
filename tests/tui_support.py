"""Helpers for the console's Pilot tests: waiting on the app, and real websockets clients of the hub.

No tests here; the helpers live in a test_tui_* module so the console's tests stay in the files it owns.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

import websockets
from textual.pilot import Pilot

from finale.config import RehearsalEndpoint, load_event
from finale.core.model import Component, Judgment, JudgmentStatus
from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import audience_votes, panel_scores
from finale.director import REFERENCE_ID, Director, build_endpoints
from finale.store import Store, VoteIn
from finale.tui.app import FinaleApp
from tests.drills.phone import loopback_for

T0 = 1_900_000_000.0  # 2030-03-17 17:46:40 UTC: the fixed show clock of the snapshot and storm tests


async def wait_until(pilot: Pilot[None], predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Let the app run until `predicate` holds (checked every 50 ms) or fail saying what never happened."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.05)


def phase_is(app: FinaleApp, round_id: int, phase: str) -> Callable[[], bool]:
    def check() -> bool:
        snap = app.snapshot
        return snap is not None and snap.round is not None and snap.round.id == round_id \
            and str(snap.round.phase) == phase
    return check


async def _frames_until(ws: websockets.ClientConnection, match: Callable[[dict[str, object]], bool],
                        timeout: float = 10.0) -> dict[str, object]:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == "error":
                raise AssertionError(f"hub refused: {frame}")
            if match(frame):
                return frame


def _is_ack(msg_id: str, frame: dict[str, object]) -> bool:
    return frame.get("type") == "ack" and frame.get("id") == msg_id


async def judge_client(url: str, panelist: str, token: str, round_id: int,
                       scores_by_label: dict[str, dict[str, float]]) -> None:
    """A panel judge's page, as its websocket speaks: hello with the private token, then one `scores` per answer."""
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "hello", "role": "judge", "device_id": f"judge-{panelist}",
                                  "token": token}))
        await _frames_until(ws, lambda f: f.get("type") == "state" and f.get("round") == round_id)
        for i, (label, scores) in enumerate(sorted(scores_by_label.items())):
            msg_id = f"{panelist}-{round_id}-{i}"
            await ws.send(json.dumps({"type": "scores", "round": round_id, "label": label, "scores": scores,
                                      "id": msg_id}))
            await _frames_until(ws, partial(_is_ack, msg_id))


async def phone(url: str, device: str, round_id: int, label: str) -> None:
    """One phone: join, wait for the poll to be open, vote, wait for the ack (from its own loopback address)."""
    async with websockets.connect(url, local_addr=(loopback_for(device), 0)) as ws:
        await ws.send(json.dumps({"type": "hello", "role": "audience", "device_id": device}))
        await _frames_until(ws, lambda f: f.get("type") == "state" and f.get("round") == round_id
                            and f.get("phase") == "voting")
        msg_id = f"{device}-{round_id}"
        await ws.send(json.dumps({"type": "vote", "round": round_id, "label": label, "id": msg_id}))
        await _frames_until(ws, partial(_is_ack, msg_id))


async def phones_vote(url: str, round_id: int, labels: Sequence[str]) -> None:
    """Many phones at once, each a real websockets client of the hub."""
    await asyncio.gather(*(phone(url, f"phone-{round_id:02d}-{i:04d}", round_id, label)
                           for i, label in enumerate(labels)))


def record_panel_and_votes(store: Store, app: FinaleApp, *, panel: bool = True, votes: int = 0,
                           now: float | None = None) -> None:
    """Write panel scores and votes for the current round the way the hub does (its own store connection)."""
    assert app.snapshot is not None and app.snapshot.round is not None
    rnd = store.round(app.snapshot.round.id)
    event = store.event()
    script = load_script(DEMO_EVENT.parent / store.event_config().rehearsal.script)
    if panel:
        for score in panel_scores(event, rnd, script, seed=7):
            store.save_panel_score(score, actor=f"hub:{score.panelist_id}")
    if votes:
        store.record_votes(audience_votes(rnd, script, seed=7, phones=votes, now=now), actor="hub")


async def play_round(pilot: Pilot[None], app: FinaleApp, store: Store, number: int, votes: int = 24) -> None:
    """One whole round by keys; panel scores and votes arrive through the store as the hub writes them."""
    await pilot.press("1", "n")
    await wait_until(pilot, phase_is(app, number, "answered"), f"round {number} answered")
    await pilot.press("j")
    await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.current is not None
                     and len(app.snapshot.current.judgments) == 5, f"round {number} judged")
    record_panel_and_votes(store, app)
    await pilot.press("5", "o")
    await wait_until(pilot, phase_is(app, number, "voting"), f"round {number} voting")
    record_panel_and_votes(store, app, panel=False, votes=votes)
    await finish_round(pilot, app, number)


async def finish_round(pilot: Pilot[None], app: FinaleApp, number: int) -> None:
    """Close the poll, override any misjudgment the checker flags, reveal the labels, make the round final."""
    await pilot.press("5", "c", "y")  # the close asks first (one key)
    await wait_until(pilot, phase_is(app, number, "closed"), f"round {number} closed")
    assert app.snapshot is not None
    for d in app.snapshot.disputes:
        if d.kind == "checker" and not d.resolved:
            app.director.override(number, d.finalist_id, Component.LLM, "checker: judge misread", value=85.0)
    await pilot.press("6", "l", "f", "y")  # who was who (revealed at the close already), then final, confirmed
    await wait_until(pilot, phase_is(app, number, "final"), f"round {number} final")


def _fixed_timings(store: Store, round_id: int) -> None:
    """Replace measured timings with the rehearsal script's nominal ones, so pixels do not depend on the CPU."""
    config = store.event_config()
    specs = {f.id: f.endpoint for f in config.finalists}
    if config.reference is not None:
        specs[REFERENCE_ID] = config.reference.endpoint
    for fid, answer in store.answers(round_id, include_reference=True).items():
        spec = specs[fid]
        assert isinstance(spec, RehearsalEndpoint)
        total = spec.ttft_ms + answer.tokens / spec.tokens_per_s * 1000
        store.save_answer(replace(answer, ttft_ms=float(spec.ttft_ms), total_ms=round(total)), "snapshot",
                          is_reference=fid == REFERENCE_ID)


def build_show(db: Path) -> None:
    """Round 1 (strawberry) final with its override; round 2 (capital) voting, one judgment failed."""
    with Store(db) as store:
        cfg = load_event(DEMO_EVENT)
        store.setup_event(cfg)
        script = load_script(DEMO_EVENT.parent / cfg.rehearsal.script)
        endpoints = build_endpoints(cfg, DEMO_EVENT.parent, seed=7, time_scale=0)
        director = Director(store, endpoints, clock=lambda: T0)
        event = cfg.to_core()

        async def asked(question_id: str, seed: int) -> int:
            rnd = director.new_round(question_id, seed=seed)
            await director.ask(rnd.id)
            _fixed_timings(store, rnd.id)
            await director.judge(rnd.id)
            return rnd.id

        first = asyncio.run(asked("strawberry", 7000))
        for s in panel_scores(event, store.round(first), script, 7):
            store.save_panel_score(s, actor=f"hub:{s.panelist_id}")
        director.open_poll(first)
        store.record_votes(audience_votes(store.round(first), script, 7, 120, now=T0))
        director.close_poll(first)
        director.override(first, "ray", Component.LLM, "Judge misread a correct answer (3 r's). Panel consensus.",
                          value=85.0, actor="head-judge")
        director.reveal_round(first)
        director.finalize(first)

        second = asyncio.run(asked("capital", 7001))
        store.save_judgment(Judgment(second, "zoe", JudgmentStatus.FAILED,
                                     reason="no tool call in the judge's reply after 3 attempts"), "rehearsal")
        rnd2 = store.round(second)
        for s in panel_scores(event, rnd2, script, 7):
            if s.panelist_id == "panel-1":  # read out on stage and typed by the MC
                store.save_panel_score(s, actor=f"mc-for:{s.panelist_id}")
            elif s.panelist_id == "panel-2" and rnd2.labels[s.finalist_id] < "C":  # from the judge's page
                store.save_panel_score(s, actor=f"hub:{s.panelist_id}")
        director.open_poll(second, 45)
        store.record_votes(audience_votes(rnd2, script, 7, 87, now=T0 - 5))
        asyncio.run(endpoints.aclose())


def vote_storm(db: Path, round_id: int, rate: float, seconds: float, batch_s: float = 0.05) -> tuple[int, float]:
    """Write `rate` votes a second for `seconds`, in batches every `batch_s` as the hub's writer does.

    Every vote is a new device, so the votes table grows all the time. Returns (votes written, elapsed s).
    """
    with Store(db) as store:
        labels = sorted(store.round(round_id).labels.values())
        per_batch = max(1, round(rate * batch_s))
        written = 0
        start = time.monotonic()
        due = start
        while time.monotonic() - start < seconds:
            now = time.time()
            batch = [VoteIn(round_id, f"storm-{written + i:08d}", labels[(written + i) % len(labels)], None, now)
                     for i in range(per_batch)]
            store.record_votes(batch, actor="storm")
            written += per_batch
            due += batch_s
            time.sleep(max(0.0, due - time.monotonic()))
        return written, time.monotonic() - start


if __name__ == "__main__":  # python -m tests.tui_support storm DB ROUND RATE SECONDS (a separate process)
    _, command, db_arg, round_arg, rate_arg, seconds_arg = sys.argv
    assert command == "storm"
    count, took = vote_storm(Path(db_arg), int(round_arg), float(rate_arg), float(seconds_arg))
    print(json.dumps({"votes": count, "seconds": round(took, 3)}))
