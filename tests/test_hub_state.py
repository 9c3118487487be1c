"""What each role sees, built from a real store: the pure views over a snapshot."""

from __future__ import annotations

import json
import time

from audience.state import audience_view, judge_view, read_snapshot, stage_view
from finale.store import Store
from tests.hub_helpers import director_for, set_switches, voting_round


async def test_answers_only_from_voting_and_no_names_before_the_reveal(store: Store) -> None:
    director = director_for(store)
    rnd = director.new_round("capital", seed=2)
    snap = read_snapshot(store)
    assert audience_view(snap, time.time())["answers"] == []
    await director.ask(rnd.id)
    await director.judge(rnd.id)
    judge = judge_view(read_snapshot(store), "panel-1", time.time())
    assert judge["open"] and len(judge["answers"]) == 5
    director.open_poll(rnd.id, 30)
    snap = read_snapshot(store)
    phone = audience_view(snap, time.time())
    assert len(phone["answers"]) == 5 and phone["voting_open"] and phone["reveal"] is None
    names = [f.name for f in snap.event.finalists]
    assert not any(name in json.dumps(phone) for name in names), "names stay hidden until the reveal"
    assert stage_view(snap, time.time(), "http://x/")["results_hidden"] is True


async def test_progressive_reveal_masks_places_not_yet_shown(store: Store) -> None:
    director = director_for(store)
    rnd = await voting_round(director)
    clock = {"now": time.time()}
    director.clock = lambda: clock["now"]
    left = rnd.vote_deadline - clock["now"]  # type: ignore[operator]
    director.pause()
    clock["now"] += 30.0  # the pause lasts; the time left does not run down
    assert stage_view(read_snapshot(store), clock["now"], "http://x/")["paused"] == {"remaining": left}
    director.resume()
    director.close_poll(rnd.id)
    director.reveal_next_place()
    director.reveal_next_place()
    view = stage_view(read_snapshot(store), time.time(), "http://x/")
    board = view["leaderboard"]
    assert [row.get("hidden", False) for row in board] == [True, True, True, False, False]
    hidden_text = json.dumps(board[:3])
    assert not any(f.name in hidden_text for f in store.event().finalists)
    assert view["place_reveal"]["name"] == board[3]["name"] and view["final_reveal"] is None
    assert view["paused"] is None
    set_switches(store, reveal_step=5)
    final = stage_view(read_snapshot(store), time.time(), "http://x/")
    assert final["final_reveal"]["winners"] and not any(r.get("hidden") for r in final["leaderboard"])
