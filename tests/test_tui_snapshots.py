"""Snapshots of the console's main screens at 120x40, on a database built deterministically.

Fixed seed, fixed clock (injected into the app and the Director), fixed answer timings, UTC,
no cursor blink: the same SVG every run. Update with `pytest tests/test_tui_snapshots.py --snapshot-update`
after checking the change by eye.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot

from finale.config import RehearsalEndpoint, load_event
from finale.core.model import Component, Judgment, JudgmentStatus
from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import audience_votes, panel_scores
from finale.director import REFERENCE_ID, Director, build_endpoints
from finale.store import Store
from finale.tui.app import FinaleApp, create_app
from tests.test_tui_support import wait_until

T0 = 1_900_000_000.0  # 2030-03-17 17:46:40 UTC
SIZE = (120, 40)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


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
            if s.panelist_id == "panel-1" or (s.panelist_id == "panel-2" and rnd2.labels[s.finalist_id] < "C"):
                store.save_panel_score(s, actor=f"hub:{s.panelist_id}")
        director.open_poll(second, 45)
        store.record_votes(audience_votes(rnd2, script, 7, 87, now=T0 - 5))
        asyncio.run(endpoints.aclose())


@pytest.fixture
def show_app(tmp_path: Path) -> FinaleApp:
    db = tmp_path / "snap.db"
    build_show(db)
    return create_app(db, DEMO_EVENT, seed=7, time_scale=0, clock=lambda: T0 + 12, cursor_blink=False)


def _after(app: FinaleApp, *keys: str):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await pilot.press(*keys)
        await pilot.pause(0.3)
    return run_before


def test_show_screen(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "1"))


def test_round_screen_labels(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "2"))


def test_round_screen_names_and_reference(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "2", "m", "f"))


def test_judging_screen_with_failed_judgment(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "3"))


def test_panel_screen(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "4"))


def test_voting_screen(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "5"))


def test_standings_screen(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "6"))


def test_standings_screen_browsing_round_one(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, "6", "left_square_bracket"))


def test_override_dialog(snap_compare, show_app: FinaleApp) -> None:  # type: ignore[no-untyped-def]
    keys = ("3", "h", *"72", "tab", *"Judge failed; scored by hand from the rubric", "enter")
    assert snap_compare(show_app, terminal_size=SIZE, run_before=_after(show_app, *keys))
