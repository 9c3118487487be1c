"""The whole rehearsal finale driven through the console with Textual's Pilot.

The MC presses keys; the finalists are the scripted rehearsal endpoints; two
panelists score from real websockets judge clients of the real hub, one is typed
in by the MC; the audience votes from real websockets clients; the strawberry
misjudgment is overridden with a reason; standings are frozen and revealed.
Then the database and the standings are checked against the core's rules.
"""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import pytest

from audience.server import Hub, HubOptions
from finale.core.model import Component, Phase
from finale.core.scoring import standings
from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import audience_votes, panel_scores
from finale.store import Store
from finale.tui.app import FinaleApp, create_app
from tests.tui_support import judge_client, phase_is, phones_vote, wait_until

PHONES = 24
REASON = "Judge misread a correct answer: strawberry has 3 r's. Panel consensus used."


@pytest.mark.slow
async def test_whole_rehearsal_finale_through_the_console(tmp_path: Path) -> None:
    db = tmp_path / "finale.db"
    app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, cursor_blink=False)
    event = app.config.to_core()
    script = load_script(DEMO_EVENT.parent / app.config.rehearsal.script)
    tokens = app.store.tokens("panelists")
    hub = Hub(db, HubOptions(host="127.0.0.1", port=0, public_url="http://127.0.0.1:8765"))
    await hub.start()
    ws_url = f"ws://127.0.0.1:{hub.port}/ws"
    app.use_hub(f"http://127.0.0.1:{hub.port}")
    typed_by_mc = "panel-1"
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.snapshot is not None, "the first read of the store")
            for number, question in enumerate(event.questions, start=1):
                # Ask the next deck question from the show screen; answers stream onto the round screen.
                await pilot.press("1", "n")
                await wait_until(pilot, phase_is(app, number, "answered"), f"round {number} answered")
                assert app.current_mode == "round"
                assert app.snapshot is not None and app.snapshot.current is not None
                assert all(a.status == "ok" and a.text for a in app.snapshot.current.answers.values())
                # every answer (and the reference) came through the console as streamed updates
                assert set(app.live) == {*event.finalist_ids, "reference"}
                await pilot.press("j")
                await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.current is not None
                                 and len(app.snapshot.current.judgments) == 5, f"round {number} judged")
                rnd = app.snapshot.current.round
                scores = panel_scores(event, rnd, script, seed=7)
                # Two panelists submit from their pages (real websockets judge clients through the hub) ...
                clients = [
                    judge_client(ws_url, p.id, tokens[p.id], rnd.id,
                                 {rnd.labels[s.finalist_id]: s.scores for s in scores if s.panelist_id == p.id})
                    for p in event.panelists if p.id != typed_by_mc
                ]
                judges = asyncio.gather(*clients)
                # ... while the MC types the third panelist's scores as they are read out, in one grid.
                await pilot.press("4", "i")
                assert app.snapshot.panel_names[typed_by_mc] in str(app.screen.query_one("#grid-title").render())
                by_label = sorted(rnd.labels, key=lambda f: rnd.labels[f])
                mine = {s.finalist_id: s for s in scores if s.panelist_id == typed_by_mc}
                for fid in by_label:
                    for crit in event.criterion_ids:
                        await pilot.press(*score_keys(mine[fid].scores[crit]))
                await pilot.press("enter")
                await wait_until(pilot, partial(panel_count, app, typed_by_mc, len(by_label)),
                                 "the MC-typed grid saved")
                await judges
                await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.current is not None
                                 and len(app.snapshot.current.panel_scores) == 15, "all 15 panel scores")
                # The audience votes from phones once the MC opens the poll.
                await pilot.press("5", "o")
                await wait_until(pilot, phase_is(app, number, "voting"), f"round {number} poll open")
                votes = audience_votes(rnd, script, seed=7, phones=PHONES)
                last = {v.device_id: v.label for v in votes}
                await phones_vote(ws_url, rnd.id, [last[d] for d in sorted(last)])
                await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.total_votes == PHONES,
                                 f"{PHONES} votes on the console")
                await pilot.press("c", "y")
                await wait_until(pilot, phase_is(app, number, "closed"), f"round {number} poll closed")
                if question.id == "strawberry":
                    await override_strawberry(pilot, app)
                await pilot.press("5", "l")
                await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.round is not None
                                 and app.snapshot.round.revealed, "labels revealed")
                await pilot.press("6", "f", "y")
                await wait_until(pilot, phase_is(app, number, "final"), f"round {number} final")
            # Freeze the stage, then reveal from last place to the winner.
            await pilot.press("z", *["r"] * len(event.finalists))
            await wait_until(pilot, lambda: app.snapshot is not None
                             and app.snapshot.switches.reveal_step == len(event.finalists), "the full reveal")
            table = app.screen.query_one("#overall-standings")
            shown = {str(table.get_row(fid)[1]) for fid in event.finalist_ids}  # type: ignore[attr-defined]
            assert "Ray *" in shown  # the override mark on the standings screen
            assert app.hub_status.state == "up"
    finally:
        await hub.stop()

    with Store(db) as store:
        rounds = store.rounds()
        assert [r.phase for r in rounds] == [Phase.FINAL] * len(event.questions)
        assert all(r.revealed for r in rounds)
        assert store.switches().frozen is True
        assert store.switches().reveal_step == len(event.finalists)
        (override,) = store.overrides()
        assert (override.finalist_id, override.component, override.value, override.reason) == (
            "ray", Component.LLM, 85.0, REASON)
        for r in rounds:
            assert sum(store.vote_counts(r.id).values()) == PHONES
            actors = {s["actor"] for s in store.db.query("SELECT actor FROM panel_scores WHERE round_id=?", [r.id])}
            assert f"mc-for:{typed_by_mc}" in actors and len(actors) == 3
        expected = standings(store.event(), store.records())
        assert app.snapshot is not None
        assert [s.finalist_id for s in app.snapshot.standings] == [s.finalist_id for s in expected]
        ray = next(s for s in expected if s.finalist_id == "ray")
        assert ray.overridden and not any(s.overridden for s in expected if s.finalist_id != "ray")
        kinds = {e.kind for e in store.events()}
        assert {"round.asked", "judgment.saved", "panel.scored", "poll.opened", "votes.recorded", "poll.closed",
                "override.added", "round.revealed", "round.final", "show.frozen", "show.reveal"} <= kinds


def score_keys(value: float) -> list[str]:
    """The keys that type a score into the panel grid: 7, 1 0, 7 . 5."""
    return ["full_stop" if ch == "." else ch for ch in f"{value:g}"]


def panel_count(app: FinaleApp, panelist: str, n: int) -> bool:
    snap = app.snapshot
    return snap is not None and snap.current is not None and \
        sum(1 for s in snap.current.panel_scores if s.panelist_id == panelist) == n


async def override_strawberry(pilot, app) -> None:  # type: ignore[no-untyped-def]
    """From the judging screen: select Ray's answer, score it by hand; a missing reason is refused first."""
    snap = app.snapshot
    assert any(d.finalist_id == "ray" and d.kind == "checker" and not d.resolved for d in snap.disputes)
    ray_row = sorted(snap.round.labels.values()).index(snap.round.labels["ray"])
    await pilot.press("3", "ctrl+home", *["down"] * ray_row, "h")
    await pilot.press(*"85", "enter")  # Enter after the value goes on to the reason
    assert app.screen.focused is not None and app.screen.focused.id == "ov-reason"
    await pilot.press("enter")  # no reason yet: refused in the dialog, nothing stored
    message = app.screen.query_one("#ov-message")
    assert "reason" in str(message.render()).lower()
    assert app.store.overrides() == []
    await pilot.press(*REASON, "enter")  # shows what will change
    assert "again to apply" in str(app.screen.query_one("#ov-message").render())
    await pilot.press("ctrl+s")  # confirmed
    await wait_until(pilot, lambda: len(app.snapshot.overrides) == 1, "the override on the record")
    assert not any(d.finalist_id == "ray" and not d.resolved for d in app.snapshot.disputes)
