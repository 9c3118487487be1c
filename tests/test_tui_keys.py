"""Must-show #5 of issue 12: the keys a clean round costs, and one panelist's grid entry.

The clean round is driven by the next-step line itself: the test presses exactly the
keys the line leads with (finale.tui.guide.next_keys) and a `y` for each one-key
confirmation, so the figure is what an MC following the line presses, and the line
is shown to lead from the ask to the final. Panel scores and votes arrive as the hub
writes them (its own store connection).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from textual.widgets import DataTable

from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import panel_scores
from finale.store import Store
from finale.tui.app import FinaleApp, create_app
from finale.tui.guide import next_keys
from finale.tui.screens.modals import ConfirmModal
from finale.tui.screens.panel_grid import PanelGridModal
from tests.test_tui_finale import score_keys
from tests.tui_support import phase_is, record_panel_and_votes, wait_until

CLEAN_ROUND_KEYS = ["enter", "j", "5", "o", "c", "y", "f", "y"]  # the ask to the final; 9 before (no confirms)
GRID_LIMIT = 25  # issue 12: under 25 keys for 5 answers x 3 criteria (about 45 before)


def _lead(app: FinaleApp) -> tuple[str, ...]:
    if app.snapshot is None or app.console_screen is None or app.screen is not app.console_screen:
        return ()
    return next_keys(app.snapshot, app.current_mode, app.busy)


def _progress(app: FinaleApp) -> tuple[object, ...]:
    """What a key of the clean round changes: the phase, the reveal, the judging, a confirmation asked."""
    rec = app.snapshot.current if app.snapshot is not None else None
    rnd = rec.round if rec is not None else None
    return (rnd.phase if rnd else None, rnd.revealed if rnd else None, len(rec.judgments) if rec else 0, app.busy,
            isinstance(app.screen, ConfirmModal))


def _moved(app: FinaleApp, before: object, index: int | None = None) -> bool:
    now = _progress(app)
    return (now if index is None else now[index]) != before


async def test_a_clean_round_follows_the_next_step_line_in_eight_keys(tmp_path: Path) -> None:
    db = tmp_path / "keys.db"
    app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, cursor_blink=False, operator="alice")
    pressed: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await pilot.press("down")  # choose the capital question on the deck (a round with no dispute) ...
        pressed.append("enter")  # ... and ask it: the count starts here
        await pilot.press("enter")
        # the console shows the asked round before the line is read (on a loaded machine the read came first,
        # and the line, still for no round, said 1 n 2)
        await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.round is not None, "the round asked")
        hub = Store(db)
        scored = voted = False
        try:
            while not phase_is(app, 1, "final")():
                if isinstance(app.screen, ConfirmModal):
                    asked = _progress(app)[0]
                    pressed.append("y")
                    await pilot.press("y")
                    await wait_until(pilot, partial(_moved, app, asked, 0), "the confirmed step")
                    await pilot.pause(0.2)  # the console follows the show to its next screen
                    continue
                rnd = app.snapshot.round if app.snapshot is not None else None
                if rnd is not None and not scored and app.snapshot is not None and app.snapshot.current is not None \
                        and len(app.snapshot.current.judgments) == 5 and not app.busy:
                    record_panel_and_votes(hub, app)  # the panelists score from their pages
                    scored = True
                if rnd is not None and str(rnd.phase) == "voting" and not voted:
                    record_panel_and_votes(hub, app, panel=False, votes=30)  # the phones vote
                    voted = True
                keys = _lead(app)
                if not keys:
                    await pilot.pause(0.1)  # the line waits (answers streaming, the judge scoring)
                    continue
                before = _progress(app)
                pressed.extend(keys)
                await pilot.press(*keys)
                await wait_until(pilot, partial(_moved, app, before), f"the show to move on after {keys}")
                assert len(pressed) < 20, f"the next-step line goes round in circles: {pressed}"
        finally:
            hub.close()
        assert app.current_mode == "standings"  # the close took the MC to where the final is made
    assert pressed == CLEAN_ROUND_KEYS, pressed
    assert len(pressed) == 8
    with Store(db) as store:
        assert store.round(1).revealed  # who was who went out at the close, before the final
        assert {e.actor for e in store.events(round_id=1) if e.kind in ("round.asked", "poll.closed",
                                                                         "round.final")} == {"alice"}


async def test_one_panelists_grid_takes_under_25_keys(tmp_path: Path) -> None:
    db = tmp_path / "grid.db"
    app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await pilot.press("n")
        await wait_until(pilot, phase_is(app, 1, "answered"), "round 1 answered")
        assert app.snapshot is not None and app.snapshot.current is not None
        rnd = app.snapshot.current.round
        cfg = app.config
        script = load_script(DEMO_EVENT.parent / cfg.rehearsal.script)
        mine = {s.finalist_id: s.scores for s in panel_scores(cfg.to_core(), rnd, script, seed=7)
                if s.panelist_id == "panel-2"}
        with Store(db) as hub:  # panel-1 has scored from their page: the grid opens on panel-2, the next to score
            for s in panel_scores(cfg.to_core(), rnd, script, seed=7):
                if s.panelist_id == "panel-1":
                    hub.save_panel_score(s, actor="hub:panel-1")
        await pilot.press("4")
        await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.current is not None
                         and len(app.snapshot.current.panel_scores) == 5, "panel-1's scores on the console")
        await pilot.pause(0.2)
        table = app.screen.query_one("#panel-table", DataTable)
        assert table.cursor_row == 1  # the cursor starts on the first panelist with answers to score
        keys = ["i"]
        for fid in sorted(rnd.labels, key=lambda f: rnd.labels[f]):
            for crit in cfg.to_core().criterion_ids:
                keys += score_keys(mine[fid][crit])
        keys.append("enter")
        await pilot.press(keys[0])
        await wait_until(pilot, lambda: isinstance(app.screen, PanelGridModal), "the grid")
        assert "Sam Okafor" in str(app.screen.query_one("#grid-title").render())
        await pilot.press(*keys[1:])
        await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.current is not None
                         and len(app.snapshot.current.panel_scores) == 10, "the grid saved")
        assert not isinstance(app.screen, PanelGridModal)
    assert len(keys) < GRID_LIMIT, (len(keys), keys)
    tens = sum(1 for by_c in mine.values() for v in by_c.values() if v == 10)
    assert len(keys) == 2 + 15 + tens == 18  # i, one key per score (a 10 is two: 1 0), enter
    with Store(db) as store:
        typed = {s.finalist_id: s.scores for s in store.panel_scores(1) if s.panelist_id == "panel-2"}
        assert typed == mine
        kinds = [e.kind for e in store.events(round_id=1) if e.kind == "panel.scored"]
        assert len(kinds) == 10
        assert {a for (p, _f), a in store.panel_actors(1).items() if p == "panel-2"} == {"mc-for:panel-2"}
