"""Quit the console mid-round (answers in, poll open, votes coming) and start it again on the same database."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from finale.core.model import Phase
from finale.demo import DEMO_EVENT
from finale.store import Store
from finale.tui.app import create_app
from tests.tui_support import finish_round, phase_is, play_round, record_panel_and_votes, wait_until

T0 = 1_900_000_000.0


async def test_console_resumes_mid_round_and_the_show_continues(tmp_path: Path) -> None:
    db = tmp_path / "finale.db"
    hub_side = None
    first = create_app(db, DEMO_EVENT, seed=7, time_scale=0, clock=lambda: T0, cursor_blink=False)
    hub_side = Store(db)  # the hub's own connection, writing panel scores and votes
    async with first.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: first.snapshot is not None, "the first read")
        await pilot.press("n")
        await wait_until(pilot, phase_is(first, 1, "answered"), "round 1 answered")
        await pilot.press("j")
        await wait_until(pilot, lambda: first.snapshot is not None and first.snapshot.current is not None
                         and len(first.snapshot.current.judgments) == 5, "round 1 judged")
        record_panel_and_votes(hub_side, first)
        await pilot.press("5", "o")
        await wait_until(pilot, phase_is(first, 1, "voting"), "round 1 voting")
        record_panel_and_votes(hub_side, first, panel=False, votes=40, now=T0 + 1)
        await wait_until(pilot, lambda: first.snapshot is not None and first.snapshot.total_votes == 40, "40 votes")
        before = first.snapshot
        assert before is not None and before.current is not None
        await wait_until(pilot, lambda: "45 s left" in str(first.screen.query_one("#countdown", Static).render()),
                         "the countdown before the restart")
    # The console is gone; the store (and the hub, and the phones) are not.

    second = create_app(db, DEMO_EVENT, seed=7, time_scale=0, clock=lambda: T0 + 10, cursor_blink=False)
    async with second.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: second.snapshot is not None, "the first read after the restart")
        after = second.snapshot
        assert after is not None and after.current is not None
        assert second.current_mode == "voting"  # back on the screen the show was on
        assert after.round == before.round and after.round is not None and after.round.phase is Phase.VOTING
        assert after.current.answers == before.current.answers
        assert after.current.judgments == before.current.judgments
        assert after.current.votes == before.current.votes and after.total_votes == 40
        assert after.round.vote_deadline == T0 + 45
        await wait_until(pilot, lambda: any("35 s left" in str(w.render())  # once the resumed screen is composed
                                            for w in second.screen.query("#countdown").results(Static)),
                         "the countdown, from the stored deadline and the show clock")
        # Late votes still arrive while the poll is open, then the show goes on to the end.
        record_panel_and_votes(hub_side, second, panel=False, votes=60, now=T0 + 12)
        await wait_until(pilot, lambda: second.snapshot is not None and second.snapshot.total_votes == 60, "60 votes")
        await finish_round(pilot, second, 1)
        for number in range(2, len(second.config.questions) + 1):
            await play_round(pilot, second, hub_side, number)
    with hub_side:
        assert [r.phase for r in hub_side.rounds()] == [Phase.FINAL] * len(second.config.questions)
        assert len(hub_side.overrides()) == 1
        kinds = [e.kind for e in hub_side.events(round_id=1)]
        assert kinds.count("poll.opened") == 1 and kinds.count("round.created") == 1
