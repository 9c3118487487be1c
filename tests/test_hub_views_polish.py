"""What the review pass added to the views: judges see latency, phones the overall winner, finalists their answer."""

from __future__ import annotations

import json
import time

from audience.state import audience_view, finalist_view, judge_view, read_snapshot, stage_view
from finale.core.model import PanelScore
from finale.store import Store, VoteIn
from tests.hub_helpers import answered_round, director_for, set_switches, voting_round


async def test_judge_answers_carry_their_timing_and_phones_do_not(store: Store) -> None:
    director = director_for(store)
    rnd = await answered_round(director)
    stored = store.answers(rnd.id)
    judge = judge_view(read_snapshot(store), "panel-1", time.time())
    by_label = {a["label"]: a for a in judge["answers"]}
    for fid, label in rnd.labels.items():
        timing = by_label[label]["timing"]
        assert timing == {"ttft_ms": stored[fid].ttft_ms, "total_ms": stored[fid].total_ms,
                          "tokens": stored[fid].tokens}
        assert timing["tokens"] > 0 and timing["total_ms"] is not None
    director.open_poll(rnd.id, 30)
    snap = read_snapshot(store)
    assert all("timing" not in a for a in audience_view(snap, time.time())["answers"])
    assert all("timing" not in a for a in stage_view(snap, time.time(), "http://x/")["answers"])


async def test_phones_get_the_overall_winner_only_once_it_is_revealed(store: Store) -> None:
    director = director_for(store)
    rnd = await voting_round(director)
    director.close_poll(rnd.id)
    assert audience_view(read_snapshot(store), time.time())["final_reveal"] is None
    places = len(store.event().finalists)
    set_switches(store, reveal_step=places - 1)
    assert audience_view(read_snapshot(store), time.time())["final_reveal"] is None, "the winner is not out yet"
    set_switches(store, reveal_step=places)
    snap = read_snapshot(store)
    phone = audience_view(snap, time.time())["final_reveal"]
    assert phone is not None and phone == stage_view(snap, time.time(), "http://x/")["final_reveal"]
    set_switches(store, reveal_step=0)
    set_switches(store, winner_revealed=True)
    assert audience_view(read_snapshot(store), time.time())["final_reveal"] == phone


async def test_finalists_see_their_own_answer_and_its_points_only_once_final(store: Store) -> None:
    director = director_for(store)
    rnd = director.new_round("capital", seed=3)
    assert finalist_view(read_snapshot(store), "ray", time.time())["my_answer"] is None
    await director.ask(rnd.id)
    await director.judge(rnd.id)
    own = store.answers(rnd.id)["ray"]
    mine = finalist_view(read_snapshot(store), "ray", time.time())["my_answer"]
    assert mine == {"round": rnd.id, "text": own.text, "status": "ok", "total": None,
                    "timing": {"ttft_ms": own.ttft_ms, "total_ms": own.total_ms, "tokens": own.tokens}}
    others = [a.text for fid, a in store.answers(rnd.id).items() if fid != "ray"]
    assert not any(text in json.dumps(mine) for text in others if text not in own.text)
    director.open_poll(rnd.id, 30)
    opened = store.round(rnd.id).vote_opened_at or time.time()
    store.record_votes([VoteIn(rnd.id, f"phone-{i:04d}", label, None, opened + 1)
                        for i, label in enumerate(sorted(rnd.labels.values()))])
    director.close_poll(rnd.id)
    for panelist in store.event().panelists:
        for fid in rnd.labels:
            store.save_panel_score(PanelScore(rnd.id, fid, panelist.id, {"generalization": 7, "quality": 7,
                                                                        "efficiency": 7}), actor="test")
    director.finalize(rnd.id)
    final = finalist_view(read_snapshot(store), "ray", time.time())["my_answer"]
    assert final is not None and isinstance(final["total"], float) and final["total"] > 0
