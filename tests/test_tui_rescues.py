"""Issue 12 through the console: one action for the common rescues (waive a panelist, waive the audience),
"keep the judge's score" on a gap, destructive keys that ask first, the clock under a dialog, and the
person at the console and the head judge on the record."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from textual.widgets import DataTable, Static

from finale.core.model import Component, PanelScore, Phase
from finale.demo import DEMO_EVENT
from finale.store import Store
from finale.tui.app import FinaleApp, create_app
from finale.tui.guide import next_keys
from finale.tui.screens.modals import ConfirmModal, ReasonModal
from finale.tui.screens.waive import WaiveModal
from tests.test_tui_controls import Clock, text_of
from tests.tui_support import T0, phase_is, record_panel_and_votes, wait_until

HEAD_JUDGE = "Dana Reyes"


def head_judge_event(folder: Path) -> Path:
    """The demo event with `[event] head_judge` set."""
    text = DEMO_EVENT.read_text()
    assert "[event]\n" in text
    (folder / "event.toml").write_text(text.replace("[event]\n", f'[event]\nhead_judge = "{HEAD_JUDGE}"\n', 1))
    shutil.copy(DEMO_EVENT.parent / "script.toml", folder / "script.toml")
    return folder / "event.toml"


def guide(app: FinaleApp) -> str:
    return " ".join(text_of(app.screen.query_one(".next-step", Static)).split())


async def judged_round(pilot, app: FinaleApp, *, capital: bool = False) -> None:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
    await pilot.press(*(("down", "enter") if capital else ("n",)))
    await wait_until(pilot, phase_is(app, 1, "answered"), "round 1 answered")
    await pilot.press("j")
    await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.current is not None
                     and len(app.snapshot.current.judgments) == 5 and not app.busy, "round 1 judged")


async def test_an_absent_panelist_and_no_votes_are_one_waiver_each(tmp_path: Path) -> None:
    db = tmp_path / "waive.db"
    app = create_app(db, head_judge_event(tmp_path), seed=7, time_scale=0, cursor_blink=False, operator="alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await judged_round(pilot, app)
        with Store(db) as hub:  # panel-1 and panel-2 score from their pages; panel-3 (Lena Fischer) never comes
            rnd = hub.round(1)
            for fid in rnd.labels:
                for pid in ("panel-1", "panel-2"):
                    hub.save_panel_score(PanelScore(1, fid, pid, {c: 7.0 for c in app.config.to_core().criterion_ids}),
                                         actor=f"hub:{pid}")
        await pilot.press("5", "o")
        await wait_until(pilot, phase_is(app, 1, "voting"), "the poll open")
        await pilot.press("c", "y")  # nobody voted
        await wait_until(pilot, phase_is(app, 1, "closed"), "the poll closed")
        await wait_until(pilot, lambda: app.current_mode == "standings", "the standings")
        await wait_until(pilot, lambda: "blocking final" in guide(app), "the blockers on the next-step line")
        line = guide(app)  # the fix first, then what blocks: Lena has scored nothing
        assert line.startswith("next: press 4 i to type Lena Fischer's scores · or w to waive Lena Fischer for "
                               "this round"), line
        assert "10 blocking final" in line and "Lena Fischer has not scored A, B, C, D, E" in line
        stage = text_of(app.screen.query_one("#stage-state", Static))
        assert "→ 4 i type Lena Fischer's scores, or w waive Lena Fischer for this round" in stage
        await pilot.press("w")  # the waiver dialog opens on what blocks: Lena
        await wait_until(pilot, lambda: isinstance(app.screen, WaiveModal), "the waiver dialog")
        assert "Lena Fischer's scores leave round 1 for all 5 finalists" in text_of(app.screen.query_one(
            "#waive-effect", Static))
        await pilot.press(*"Lena is ill tonight", "enter")
        await wait_until(pilot, lambda: len(app.store.overrides(1)) == 5, "five overrides from one waiver")
        await wait_until(pilot, lambda: guide(app).startswith("next: press w to waive the audience for this round"),
                         "the next fix: the audience")
        assert "no votes for A, B, C, D, E" in guide(app)
        await pilot.press("w", *"the venue wifi went down during the poll", "enter")
        await wait_until(pilot, lambda: len(app.store.overrides(1)) == 10, "five more from the second")
        await wait_until(pilot, lambda: guide(app).startswith("next: press f to make round 1 final"), "final")
        await pilot.press("f", "y")
        await wait_until(pilot, phase_is(app, 1, "final"), "round 1 final")
    with Store(db) as store:
        overrides = store.overrides(1)
        lena = [o for o in overrides if o.panelist_id == "panel-3"]
        audience = [o for o in overrides if o.component is Component.AUDIENCE]
        assert len(lena) == 5 and len(audience) == 5 and {o.reason for o in lena} == {"Lena is ill tonight"}
        assert {o.actor for o in overrides} == {f"{HEAD_JUDGE} (entered by alice)"}
        added = store.events(kind="override.added", round_id=1)
        assert [e.payload.get("panelist_id") for e in added[:5]] == ["panel-3"] * 5
        assert {e.actor for e in store.events(round_id=1) if e.kind in ("poll.closed", "round.final")} == {"alice"}


async def test_keep_the_judges_score_settles_a_gap_from_the_judging_screen(tmp_path: Path) -> None:
    db = tmp_path / "keep.db"
    app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, cursor_blink=False, operator="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await judged_round(pilot, app, capital=True)
        record_panel_and_votes(app.store, app)
        rnd = app.store.round(1)
        fid = sorted(rnd.labels, key=lambda f: rnd.labels[f])[2]  # answer C: the panel far below the judge
        for pid in ("panel-1", "panel-2", "panel-3"):
            app.store.save_panel_score(PanelScore(1, fid, pid, {c: 1.0 for c in app.config.to_core().criterion_ids}),
                                       actor=f"hub:{pid}")
        await wait_until(pilot, lambda: app.snapshot is not None and any(
            d.finalist_id == fid and d.kind == "gap" and not d.resolved for d in app.snapshot.disputes), "the gap")
        await pilot.press("3")
        await pilot.pause(0.3)
        assert next_keys(app.snapshot, "judging") == ("5", "o")  # a flag never blocks the show
        assert "⚑ C gap k keep the judge's or o override" in guide(app)
        table = app.screen.query_one("#judgments", DataTable)
        assert table.cursor_row == 2  # the judging screen opens on the flagged answer ...
        answer = text_of(app.screen.query_one("#judged-answer", Static))
        assert answer.startswith("Answer C") and app.store.answers(1)[fid].text[:40] in answer  # ... beside its text
        await pilot.press("k")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonModal), "the reason for the ruling")
        await pilot.press("enter")  # no reason: refused, nothing on the record
        assert app.store.events(kind="dispute.decided") == []
        await pilot.press(*"the judge is right: the answer is correct and complete", "enter")
        await wait_until(pilot, lambda: app.snapshot is not None and all(
            d.resolved for d in app.snapshot.disputes if d.finalist_id == fid), "the gap settled")
        assert "⚑ C gap" not in guide(app)
        assert "(the judge's score was kept, on the record)" in text_of(app.screen.query_one("#judgment-detail",
                                                                                             Static))
    with Store(db) as store:
        (decided,) = store.events(kind="dispute.decided")
        assert decided.actor == "alice" and decided.payload["decision"] == "keep_judge"
        assert store.overrides(1) == []  # a ruling, not an override: no score changed


async def test_destructive_keys_ask_first_and_say_what_happens(tmp_path: Path) -> None:
    db = tmp_path / "ask.db"
    app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, cursor_blink=False, operator="alice")

    class OwnHub:  # the hub this console started: quitting stops it
        adopted = False

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        app.hub_watch = OwnHub()  # type: ignore[assignment]
        await pilot.press("ctrl+q")  # between rounds, but the phones' hub would stop
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the quit question")
        assert "The audience hub this console started stops too" in " ".join(
            text_of(w) for w in app.screen.query(Static))
        await pilot.press("n")
        assert app.is_running and not isinstance(app.screen, ConfirmModal)
        app.hub_watch = None
        await pilot.press("n")
        await wait_until(pilot, phase_is(app, 1, "answered"), "round 1 answered")
        await pilot.press("e")  # the first pane is selected and its answer is good
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the re-ask question")
        body = " ".join(text_of(w) for w in app.screen.query(Static))
        assert "came back complete" in body and "throws it away" in body
        await pilot.press("n")
        await pilot.pause(0.3)
        assert len(app.store.events(kind="round.asked")) == 1  # nothing thrown away
        await pilot.press("e", "y")
        await wait_until(pilot, lambda: len(app.store.events(kind="round.asked")) == 2, "the confirmed re-ask")
        await wait_until(pilot, phase_is(app, 1, "answered"), "round 1 answered again")
        await pilot.press("ctrl+x", *"rehearsal: testing the void", "enter")
        await wait_until(pilot, phase_is(app, 1, "void"), "round 1 void")
    with Store(db) as store:
        (void,) = store.events(kind="round.void")
        assert void.actor == "alice"  # the person at the console, not "mc"
        assert store.round(1).phase is Phase.VOID


async def test_the_clock_keeps_ticking_while_a_dialog_is_open(tmp_path: Path) -> None:
    clock = Clock(T0)
    app = create_app(tmp_path / "tick.db", DEMO_EVENT, seed=7, time_scale=0, clock=clock, cursor_blink=False,
                     operator="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await pilot.press("n")
        await wait_until(pilot, phase_is(app, 1, "answered"), "round 1 answered")
        header = app.screen.query_one("#header", Static)
        await pilot.press("ctrl+x")  # a dialog over the round screen
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonModal), "the void dialog")
        clock.now += 23
        shown = time.strftime("%H:%M:%S", time.localtime(T0 + 23))
        await wait_until(pilot, lambda: shown in text_of(header), "the header clock under the dialog")
        assert "at the console: alice" in text_of(header)
        await pilot.press("escape")


async def test_the_panel_grid_moves_clears_and_refuses_an_incomplete_row(tmp_path: Path) -> None:
    from finale.tui.screens.panel_grid import PanelGridModal, ScoreGrid

    db = tmp_path / "grid.db"
    app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, cursor_blink=False, operator="alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await pilot.press("n")
        await wait_until(pilot, phase_is(app, 1, "answered"), "round 1 answered")
        await pilot.press("4", "i")
        await wait_until(pilot, lambda: isinstance(app.screen, PanelGridModal), "the grid")
        grid = app.screen.query_one(ScoreGrid)
        # 7, then Tab skips a cell, 1 0 is 10; shift+tab goes back to the skipped one: 1 then . 5 is 1.5
        await pilot.press("7", "tab", "1", "0", "shift+tab", "shift+tab", "1", "full_stop", "5")
        assert grid.cells[0] == ["7", "1.5", "10"]
        await pilot.press("down", "9")  # answer B's efficiency; the cursor moves on to answer C
        assert grid.cells[1] == ["", "", "9"] and (grid.row, grid.col) == (2, 0)
        await pilot.press("enter")  # answer B half typed: refused, nothing saved
        assert "Answer B: generalization, quality still empty" in text_of(app.screen.query_one("#grid-message",
                                                                                                Static))
        assert isinstance(app.screen, PanelGridModal) and app.store.panel_scores(1) == []
        await pilot.press("backspace", "enter")  # on an empty cell, backspace clears the score before it
        assert grid.cells[1] == ["", "", ""]
        await wait_until(pilot, lambda: not isinstance(app.screen, PanelGridModal), "the grid saved")
        await wait_until(pilot, lambda: len(app.store.panel_scores(1)) == 1, "one answer's scores")
    with Store(db) as store:
        (saved,) = store.panel_scores(1)
        assert saved.panelist_id == "panel-1" and list(saved.scores.values()) == [7.0, 1.5, 10.0]
