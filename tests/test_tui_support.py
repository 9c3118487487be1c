"""Helpers for the console's Pilot tests: waiting on the app, and real websockets clients of the hub.

No tests here; the helpers live in a test_tui_* module so the console's tests stay in the files it owns.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from functools import partial

import websockets
from textual.pilot import Pilot

from finale.core.model import Component
from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import audience_votes, panel_scores
from finale.store import Store
from finale.tui.app import FinaleApp


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
    """One phone: join, wait for the poll to be open, vote, wait for the ack."""
    async with websockets.connect(url) as ws:
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
    await pilot.press("5", "c")
    await wait_until(pilot, phase_is(app, number, "closed"), f"round {number} closed")
    assert app.snapshot is not None
    for d in app.snapshot.disputes:
        if d.kind == "checker" and not d.resolved:
            app.director.override(number, d.finalist_id, Component.LLM, "checker: judge misread", value=85.0)
    await pilot.press("l", "6", "f")
    await wait_until(pilot, phase_is(app, number, "final"), f"round {number} final")
