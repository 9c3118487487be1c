"""Show moments: a standings reveal is a moment the MC starts and ends, never a state that outlives the round.

Mid-show it is "standings after round N" with a leader; "the winner" only when the
deck is done or the MC declared the last round; the next round's ask ends it; the
final reveal is always available at the end. A phone never shows a winner above a
live ballot. Who was who is revealed at the close unless the event file says not.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest

from audience.state import audience_view, read_snapshot, stage_view
from finale.core import switches
from finale.core.model import Phase, Round
from finale.core.switches import ShowSwitches, SwitchRefused
from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import panel_scores
from finale.director import Director
from finale.store import Store, VoteIn
from tests.hub_helpers import answered_round, client, director_for, recv_type, running_hub, set_switches, voting_round


async def final_round(director: Director, question: str, seed: int = 11) -> Round:
    """A deck question played to final: asked, judged, scored by the panel, voted on (nobody), closed, final."""
    rnd = await answered_round(director, question, seed)
    script = load_script(DEMO_EVENT.parent / "script.toml")
    for score in panel_scores(director.store.event(), rnd, script, 7):
        director.store.save_panel_score(score, actor="test")
    director.open_poll(rnd.id, 30)
    opened = director.store.round(rnd.id).vote_opened_at or 0.0
    director.store.record_votes([VoteIn(rnd.id, f"phone-{fid}", label, None, opened + 0.5)
                                 for fid, label in rnd.labels.items()])
    director.close_poll(rnd.id)
    return director.finalize(rnd.id)


def test_core_reveal_is_a_moment_with_a_name() -> None:
    sw = switches.reveal_next(ShowSwitches(), 3, final=False, after=2)
    assert (sw.reveal_step, sw.revealing) == (1, True)
    assert switches.reveal_heading(sw, 3) == "In place 3"
    assert switches.reveal_heading(sw, 1) == "Leader after round 2"
    assert switches.reveal_moment(sw) == "Standings after round 2"
    sw = switches.reveal_next(switches.reveal_next(sw, 3, final=False, after=2), 3, final=False, after=2)
    with pytest.raises(SwitchRefused, match="already revealed"):
        switches.reveal_next(sw, 3, final=False, after=2)
    final = switches.reveal_next(sw, 3, final=True, after=6)  # another moment starts from the bottom again
    assert (final.reveal_step, final.reveal_final) == (1, True)
    assert switches.reveal_heading(replace(final, reveal_step=3), 1) == "And the winner is"
    assert switches.dismiss_reveal(final) == switches.clear_reveal(final) and not switches.clear_reveal(final).revealing
    with pytest.raises(SwitchRefused, match="no reveal"):
        switches.dismiss_reveal(ShowSwitches())
    lit = replace(final, spotlight="ray")
    assert switches.clear_moment(lit) == ShowSwitches()
    assert ShowSwitches.from_dict(lit.as_dict()) == lit


def test_core_the_winner_only_at_the_end() -> None:
    done = Round(6, "q", Phase.FINAL, "ethics")
    closed = replace(done, phase=Phase.CLOSED)
    assert switches.reveal_is_final(ShowSwitches(), deck_is_done=True, current=done)
    assert not switches.reveal_is_final(ShowSwitches(), deck_is_done=True, current=closed), "its points are not in"
    assert not switches.reveal_is_final(ShowSwitches(), deck_is_done=False, current=done)
    assert switches.reveal_is_final(ShowSwitches(last_round=6), deck_is_done=False, current=done)
    assert switches.reveal_blocked_by(replace(done, phase=Phase.VOTING)) is not None
    assert switches.reveal_blocked_by(closed) is None and switches.reveal_blocked_by(None) is None
    assert switches.next_spotlight(ShowSwitches(), ["a", "b"]) == "a"
    assert switches.next_spotlight(ShowSwitches(spotlight="b"), ["a", "b"]) is None


async def test_a_mid_show_reveal_names_the_leader_and_the_next_round_ends_it(store: Store) -> None:
    director = director_for(store)
    first = await final_round(director, "capital")
    places = len(store.event().finalists)
    for _ in range(places):
        director.reveal_next_place()
    stage = stage_view(read_snapshot(store), time.time(), "http://x/")
    assert stage["final_reveal"]["heading"] == f"Leader after round {first.id}"
    assert stage["final_reveal"]["final"] is False and "winner" not in stage["final_reveal"]["heading"]
    assert stage["final_reveal"]["moment"] == f"Standings after round {first.id}"
    with pytest.raises(SwitchRefused, match="dismiss"):
        director.reveal_next_place()
    director.dismiss_reveal()
    assert stage_view(read_snapshot(store), time.time(), "http://x/")["final_reveal"] is None
    director.reveal_next_place()  # a reveal may run again; the next round's ask ends it
    rnd = await voting_round(director, question="haiku", seed=3)
    snap = read_snapshot(store)
    assert not snap.switches.revealing
    for view in (stage_view(snap, time.time(), "http://x/"), audience_view(snap, time.time())):
        assert view["final_reveal"] is None and view.get("place_reveal") is None
    with pytest.raises(SwitchRefused, match="is voting"):
        director.reveal_next_place()
    kinds = [e.kind for e in store.events(kind="show.*")]
    assert "show.reveal_dismissed" in kinds and "show.moment_ended" in kinds
    assert rnd.phase is Phase.VOTING


async def test_a_phone_never_shows_a_winner_above_a_live_ballot(store: Store) -> None:
    director = director_for(store)
    await voting_round(director)
    set_switches(store, reveal_step=len(store.event().finalists), reveal_final=True)
    snap = read_snapshot(store)
    phone = audience_view(snap, time.time())
    assert phone["voting_open"] and phone["answers"] and phone["final_reveal"] is None


async def test_the_final_reveal_is_always_available_at_the_end(store: Store) -> None:
    director = director_for(store)
    questions = [q.id for q in store.event_config().questions]
    for i, q in enumerate(questions[:-1]):
        await final_round(director, q, seed=i)
    places = len(store.event().finalists)
    for _ in range(places):  # standings after the second-to-last round, run to the top and left on
        director.reveal_next_place()
    assert not store.switches().reveal_final
    last = await final_round(director, questions[-1], seed=99)
    for _ in range(places):
        place, who = director.reveal_next_place()
    assert place == 1 and who is not None
    final = stage_view(read_snapshot(store), time.time(), "http://x/")["final_reveal"]
    assert final["heading"] == "And the winner is" and final["final"] is True
    assert final["moment"] == "Final standings"
    assert store.switches().reveal_after == last.id


async def test_the_mc_declares_the_last_round(store: Store) -> None:
    director = director_for(store)
    rnd = await final_round(director, "capital")
    director.reveal_next_place()
    assert not store.switches().reveal_final
    director.declare_last_round()
    assert store.switches().last_round == rnd.id
    place, _ = director.reveal_next_place()  # a new moment: the final reveal starts from the bottom
    assert place == len(store.event().finalists) and store.switches().reveal_final
    director.declare_last_round()  # pressed again: taken back
    assert store.switches().last_round is None


async def test_the_spotlight_fills_the_stage_with_one_answer_until_the_next_round(store: Store) -> None:
    director = director_for(store)
    rnd = await voting_round(director)
    labels = sorted(rnd.labels.values())
    assert director.spotlight_next() == labels[0]
    assert stage_view(read_snapshot(store), time.time(), "http://x/")["spotlight"] == labels[0]
    assert director.spotlight_next() == labels[1]
    director.spotlight(None)
    assert stage_view(read_snapshot(store), time.time(), "http://x/")["spotlight"] is None
    with pytest.raises(SwitchRefused, match="no answer Z"):
        director.spotlight("Z")
    director.spotlight(labels[4])
    director.close_poll(rnd.id)
    assert store.switches().spotlight == next(f for f, lab in rnd.labels.items() if lab == labels[4])
    director.void(rnd.id, "a test round")
    director.new_round("haiku", seed=5)  # the next round ends the spotlight
    assert store.switches().spotlight is None


async def test_who_was_who_is_revealed_at_the_close_unless_configured_otherwise(store: Store) -> None:
    director = director_for(store)
    rnd = await voting_round(director)
    closed = director.close_poll(rnd.id)
    assert closed.revealed and store.round(rnd.id).revealed
    assert [e.kind for e in store.events(round_id=rnd.id)][-2:] == ["poll.closed", "round.revealed"]
    director.reveal_round(rnd.id)  # pressing l afterwards changes nothing and logs nothing
    assert [e.kind for e in store.events(round_id=rnd.id)][-1] == "round.revealed"
    assert len(store.events(kind="round.revealed", round_id=rnd.id)) == 1


async def test_reveal_at_close_false_leaves_it_to_the_mc(store: Store) -> None:
    director = director_for(store)
    rnd = await voting_round(director)
    director.config = director.config.model_copy(update={
        "scoring": director.config.scoring.model_copy(update={"reveal_at_close": False})})
    assert not director.close_poll(rnd.id).revealed
    assert director.reveal_round(rnd.id).revealed


async def test_a_stage_that_connects_during_a_freeze_gets_the_frozen_picture(store: Store, db_path: Path) -> None:
    director = director_for(store)
    rnd = await voting_round(director)
    label = sorted(rnd.labels.values())[0]
    async with running_hub(db_path) as hub, client(hub, role="stage", device="stage-0001") as (_, before):
        await asyncio.sleep(0.5)  # the stage's vote count has gone out once
        await asyncio.to_thread(director.toggle_freeze)
        for _ in range(100):  # the hub takes its picture when it sees the freeze (within one poll interval)
            if hub.frozen_stage is not None:
                break
            await asyncio.sleep(0.02)
        store.record_votes([VoteIn(rnd.id, f"phone-{i}", label, None, time.time()) for i in range(3)])
        await asyncio.to_thread(director.close_poll, rnd.id)
        await asyncio.sleep(0.3)  # the hub has seen the close
        async with client(hub, role="stage", device="stage-0002") as (late, frozen):
            assert frozen["phase"] == "voting" and frozen["frozen"] is True  # the picture at the freeze
            assert frozen["answers"] == before["answers"] and frozen["reveal"] is None
            tally = await recv_type(late, "tally")  # the count as it stood at the freeze
            assert tally["total"] == 0 and tally["hidden"] is True
        async with client(hub, device="phone-0001") as (_, phone):
            assert phone["phase"] == "closed", "phones are never frozen"
        await asyncio.to_thread(director.toggle_freeze)
        for _ in range(100):  # the hub sees the unfreeze within one poll interval
            if hub.frozen_stage is None:
                break
            await asyncio.sleep(0.02)
        async with client(hub, role="stage", device="stage-0003") as (_, live):
            assert live["phase"] == "closed" and live["frozen"] is False and live["reveal"] is not None
