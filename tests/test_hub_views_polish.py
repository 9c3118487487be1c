"""What the review pass added to the views: judges see each answer's latency, phones see the overall winner."""

from __future__ import annotations

import time

from audience.state import audience_view, judge_view, read_snapshot, stage_view
from finale.store import Store
from tests.hub_helpers import answered_round, director_for, voting_round


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
    store.set_show_state("reveal", places - 1, actor="mc")
    assert audience_view(read_snapshot(store), time.time())["final_reveal"] is None, "the winner is not out yet"
    store.set_show_state("reveal", places, actor="mc")
    snap = read_snapshot(store)
    phone = audience_view(snap, time.time())["final_reveal"]
    assert phone is not None and phone == stage_view(snap, time.time(), "http://x/")["final_reveal"]
    store.set_show_state("reveal", 0, actor="mc")
    store.set_show_state("revealed", True, actor="mc")
    assert audience_view(read_snapshot(store), time.time())["final_reveal"] == phone
