"""The console's moderation queue (Pilot): q opens questions, 9 shows the queue with upvotes; a approves,
r rejects with an optional reason, s stars, n asks the approved question as the next round from the audience."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static

from finale.core.questions import Status
from finale.demo import DEMO_EVENT
from finale.store import Store
from finale.tui.app import create_app
from finale.tui.screens.questions import QuestionsScreen
from tests.tui_support import wait_until


def _rows(app: object) -> list[tuple[str, str, str, str]]:
    table = app.screen.query_one("#floor-queue", DataTable)  # type: ignore[attr-defined]
    return [tuple(str(c) for c in table.get_row_at(i)[:4]) for i in range(table.row_count)]  # type: ignore[misc]


async def test_moderate_and_ask_a_question_from_the_floor(tmp_path: Path) -> None:
    db = tmp_path / "floor.db"
    app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, cursor_blink=False)
    hub = Store(db)  # what the hub writes for phones (its own connection)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.snapshot is not None, "the first snapshot")
            await pilot.press("q")
            await wait_until(pilot, lambda: hub.questions_state().open, "questions opened by q")
            first = hub.submit_question("voter-one", "Which finalist would you hire?")
            second = hub.submit_question("voter-two", "An insult that must never show")
            third = hub.submit_question("voter-three", "What surprised the judges?")
            await pilot.press("9")
            assert isinstance(app.screen, QuestionsScreen)
            await wait_until(pilot, lambda: len(_rows(app)) == 3, "the queue of three")
            assert [r[:2] for r in _rows(app)] == [(str(first.id), "pending"), (str(second.id), "pending"),
                                                  (str(third.id), "pending")]
            assert "QUESTIONS OPEN" in str(app.screen.query_one("#questions-state", Static).render())

            await pilot.press("a")  # the first row
            await wait_until(pilot, lambda: hub.floor_question(first.id).status is Status.APPROVED, "approved")
            hub.upvote_question(first.id, "voter-two")
            await wait_until(pilot, lambda: (str(first.id), "approved", "", "1") in _rows(app), "one upvote shown")
            table = app.screen.query_one("#floor-queue", DataTable)
            table.move_cursor(row=[r[0] for r in _rows(app)].index(str(second.id)))
            await pilot.press("r")
            await wait_until(pilot, lambda: bool(app.screen.query("#reject-reason")), "the reject dialog")
            app.screen.query_one("#reject-reason", Input).value = "not a question"
            await pilot.press("enter")
            await wait_until(pilot, lambda: hub.floor_question(second.id).status is Status.REJECTED, "rejected")
            assert hub.floor_question(second.id).reason == "not a question"
            await wait_until(pilot, lambda: isinstance(app.screen, QuestionsScreen)
                             and _rows(app)[-1][:2] == (str(second.id), "rejected"), "rejected goes last")
            table = app.screen.query_one("#floor-queue", DataTable)
            table.move_cursor(row=[r[0] for r in _rows(app)].index(str(first.id)))
            await pilot.press("s")
            await wait_until(pilot, lambda: hub.floor_question(first.id).starred, "starred")

            table.move_cursor(row=[r[0] for r in _rows(app)].index(str(third.id)))
            await pilot.press("n")  # pending: refused with a toast, no round
            await pilot.pause(0.2)
            assert hub.rounds() == []

            await wait_until(pilot, lambda: (str(first.id), "approved", "★", "1") in _rows(app), "the star shown")
            table.move_cursor(row=[r[0] for r in _rows(app)].index(str(first.id)))
            await pilot.press("n")
            await pilot.press("y")  # the confirmation
            await wait_until(pilot, lambda: bool(hub.rounds()) and app.snapshot is not None
                             and app.snapshot.round is not None, "the round from the audience")
            rnd = hub.rounds()[0]
            assert rnd.from_audience and rnd.prompt == "Which finalist would you hire?" and rnd.question_id is None
            assert hub.floor_question(first.id).status is Status.ASKED
            assert not hub.questions_state().open  # asking the round closed them
            await wait_until(pilot, lambda: str(hub.round(rnd.id).phase) in ("answered", "asking"), "asked")
        kinds = [e.kind for e in hub.events() if e.kind.startswith("question")]
        assert kinds == ["questions.opened", "question.submitted", "question.submitted", "question.submitted",
                         "question.approved", "question.upvoted", "question.rejected", "question.starred",
                         "questions.closed", "question.asked"]
        assert {e.actor for e in hub.events(kind="question.approved")} == {app.director.actor}
    finally:
        hub.close()
