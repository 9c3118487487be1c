"""The next-step line and the failure styles: what the MC sees when a finalist's answer fails and is judged anyway."""

from __future__ import annotations

import re
from pathlib import Path

from textual.widgets import DataTable, Static

from finale.demo import DEMO_EVENT
from finale.tui.app import create_app
from finale.tui.guide import next_keys
from finale.tui.widgets.answer_pane import AnswerPane
from tests.test_tui_controls import failing_event, text_of
from tests.tui_support import phase_is, wait_until


async def test_a_failed_answer_is_flagged_from_asking_to_judging(tmp_path: Path) -> None:
    app = create_app(tmp_path / "guide.db", failing_event(tmp_path), seed=7, time_scale=0, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        guide = lambda: " ".join(text_of(app.screen.query_one(".next-step", Static)).split())  # noqa: E731
        assert guide().startswith("next: press n to ask the next question")  # the action first
        await pilot.press("n")
        await wait_until(pilot, phase_is(app, 1, "answered"), "round 1 answered")
        label = app.store.round(1).labels["zoe"]
        await wait_until(pilot, lambda: f"failed: {label}" in guide(), "the failed answer on the next-step line")
        await pilot.press("j")  # judge without her: the judging screen says her answer was not there
        await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.current is not None
                         and len(app.snapshot.current.judgments) == 5, "round 1 judged")
        await pilot.pause(0.2)
        row = sorted(app.store.round(1).labels.values()).index(label)
        await pilot.press("ctrl+home", *["down"] * row)
        table = app.screen.query_one("#judgments", DataTable)
        assert str(table.get_row_at(row)[2]) == "no answer (error)"
        detail = text_of(app.screen.query_one("#judgment-detail", Static))
        assert "This answer failed (error): judged as an empty answer" in detail and "o overrides" in detail
        assert guide().startswith("next: press 5 o to open the poll")


async def test_answers_in_flight_count_their_seconds(tmp_path: Path) -> None:
    app = create_app(tmp_path / "wait.db", DEMO_EVENT, seed=7, time_scale=1.0, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await pilot.press("n")
        await wait_until(pilot, lambda: any(re.search(r"(pending|streaming) · \d+ s", p.render_text())
                                            for p in app.screen.query(AnswerPane)), "a pane counting its seconds")
        await wait_until(pilot, phase_is(app, 1, "answered"), "round 1 answered")
        await pilot.pause(0.6)
        assert app.ask_started is None
        assert not any(re.search(r" · \d+ s", p.render_text()) for p in app.screen.query(AnswerPane))


async def test_the_line_never_asks_to_judge_again_while_the_judgments_come_in(tmp_path: Path) -> None:
    """From the `j` to the judging's end the line waits or says open the poll, never "run the LLM judge again".

    The state is sampled before every message the console handles (what any repaint could show): the judge's
    worker ending must not leave a moment with the console idle and a snapshot read before its last judgment.
    """
    app = create_app(tmp_path / "again.db", DEMO_EVENT, seed=7, time_scale=0, cursor_blink=False)
    leads: list[tuple[str, ...]] = []

    def sample(_message: object) -> None:
        rnd = app.snapshot.round if app.snapshot is not None else None
        if rnd is not None and str(rnd.phase) == "judging":
            leads.append(next_keys(app.snapshot, app.current_mode, app.busy))

    async with app.run_test(size=(120, 40), message_hook=sample) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await pilot.press("n")
        await wait_until(pilot, phase_is(app, 1, "answered"), "round 1 answered")
        await pilot.press("j")
        await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.current is not None
                         and len(app.snapshot.current.judgments) == 5 and not app.busy, "round 1 judged")
        await pilot.pause(0.3)
    assert leads and leads[-1] == ("5", "o"), leads[-5:]  # open the poll (its screen is 5)
    assert ("j",) not in leads and ("2", "j") not in leads, sorted(set(leads))
