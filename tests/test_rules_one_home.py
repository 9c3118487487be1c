"""The rules that used to differ by path, now decided once in the core: pause, round moves, the panel window.

Real hub, real websockets phones and judge pages, real SQLite connections in
real threads; nothing patched.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from finale.core import poll
from finale.core.model import PanelScore, Phase
from finale.core.show import IllegalTransition, assign_labels
from finale.director import Director
from finale.store import Store, StoreError, VoteIn
from tests.hub_helpers import client, director_for, recv_type, running_hub, voting_round

CRITERIA = {"generalization": 7, "quality": 8, "efficiency": 6}


async def _state_where(ws: object, test: object, timeout: float = 5.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        msg = await recv_type(ws, "state", max(0.05, deadline - time.monotonic()))  # type: ignore[arg-type]
        if test(msg):  # type: ignore[operator]
            return msg


async def test_a_vote_during_a_pause_is_refused_and_the_time_left_survives_the_pause(
        store: Store, db_path: Path) -> None:
    director = director_for(store)
    rnd = await voting_round(director, window_s=40.0)
    label = sorted(rnd.labels.values())[0]
    async with running_hub(db_path) as hub, client(hub, device="phone-pause-01") as (phone, _):
        paused = await asyncio.to_thread(director.pause)
        assert paused.paused
        at_pause = store.round(rnd.id)
        assert at_pause.vote_paused_at is not None
        left_at_pause = poll.remaining(at_pause, at_pause.vote_paused_at)
        assert left_at_pause is not None and 35 < left_at_pause <= 40
        seen = await _state_where(phone, lambda m: m.get("paused") is not None)
        assert seen["voting_open"] is False and seen["paused"]["remaining"] == pytest.approx(left_at_pause)

        await phone.send(json.dumps({"type": "vote", "round": rnd.id, "label": label, "id": "v-paused"}))
        refused = await recv_type(phone, "error")
        assert refused["code"] == "poll_paused" and "paused" in refused["message"] and refused["id"] == "v-paused"
        assert store.votes(rnd.id) == [] and store.events(kind="votes.recorded") == []

        await asyncio.sleep(1.0)  # the pause lasts a while: the countdown must not run down meanwhile
        await asyncio.to_thread(director.resume)
        resumed = store.round(rnd.id)
        now = time.time()
        assert resumed.vote_paused_at is None
        assert poll.remaining(resumed, now) == pytest.approx(left_at_pause, abs=0.1)
        live = await _state_where(phone, lambda m: m.get("paused") is None and m.get("voting_open"))
        assert live["deadline"] - live["server_time"] == pytest.approx(left_at_pause, abs=0.2)  # type: ignore[operator]

        await phone.send(json.dumps({"type": "vote", "round": rnd.id, "label": label, "id": "v-after"}))
        assert (await recv_type(phone, "ack"))["id"] == "v-after"
    assert [v["label"] for v in store.votes(rnd.id)] == [label]
    kinds = [e.kind for e in store.events(round_id=rnd.id)]
    assert kinds.index("poll.paused") < kinds.index("poll.resumed")
    assert "poll.extended" not in kinds, "a resume is not an extension"
    assert {"show.paused", "show.resumed"} <= {e.kind for e in store.events(kind="show.*")}


def test_a_vote_committed_after_the_pause_but_cast_before_it_counts(store: Store) -> None:
    """The store judges a queued vote by when it was cast: before the pause it counts, during it it does not."""
    ids = list(store.event().finalist_ids)
    rnd = store.create_round("q", None, 3, assign_labels(ids, 3), "test")
    rnd = store.update_round(replace(rnd, phase=Phase.JUDGING), "test", "test.phase", expect=Phase.DRAFT)
    opened = store.move_round(rnd.id, lambda r: poll.open_poll(r, 1000.0, 30.0), "test", "poll.opened")
    store.move_round(rnd.id, lambda r: poll.pause_poll(r, 1010.0), "test", "poll.paused")
    label = sorted(opened.labels.values())[0]
    decided = store.decide_votes([VoteIn(rnd.id, "before", label, "m1", 1009.9),
                                  VoteIn(rnd.id, "during", label, "m2", 1010.1)])
    assert [d.code for d in decided] == ["", "poll_paused"]
    assert [v["device_id"] for v in store.votes(rnd.id)] == ["before"]


def _judging_round(store: Store, seed: int) -> int:
    ids = list(store.event().finalist_ids)
    rnd = store.create_round(f"race {seed}", None, seed, assign_labels(ids, seed), "test")
    store.update_round(replace(rnd, phase=Phase.JUDGING), "test", "test.phase", expect=Phase.DRAFT)
    return rnd.id


def _race(director: Director, other: Store, round_id: int, refusals: list[str]) -> None:
    """The MC voids the round while another thread writes a move it decided on a copy read before the void."""
    stale = other.round(round_id)  # the judging round a slow thread still holds
    gate = threading.Barrier(2)

    def void() -> None:
        gate.wait()
        director.void(round_id, "race test")

    def stale_write() -> None:
        gate.wait()
        try:
            other.update_round(poll.open_poll(stale, time.time(), 30), "network", "poll.opened", expect=stale.phase)
        except StoreError as exc:
            refusals.append(str(exc))
        try:
            other.move_round(round_id, lambda r: poll.close_poll(r, time.time()), "network", "poll.closed")
        except (IllegalTransition, StoreError) as exc:
            refusals.append(str(exc))

    threads = [threading.Thread(target=void), threading.Thread(target=stale_write)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)


@pytest.mark.parametrize("shared_connection", [True, False], ids=["one-store", "two-stores"])
def test_void_against_a_stale_write_from_another_thread_never_resurrects_the_round(
        store: Store, db_path: Path, shared_connection: bool) -> None:
    director = director_for(store)
    other = store if shared_connection else Store(db_path)
    refusals: list[str] = []
    try:
        for i in range(100):
            round_id = _judging_round(store, i)
            _race(director, other, round_id, refusals)
            assert store.round(round_id).phase is Phase.VOID, f"round {round_id} came back from the void"
            kinds = [e.kind for e in store.events(round_id=round_id)]
            after_void = kinds[kinds.index("round.void") + 1:]
            assert not [k for k in after_void if k.startswith("poll.")], kinds
        assert refusals, "the stale writer never lost a race"
        assert all("void" in r for r in refusals), refusals[:3]
    finally:
        if other is not store:
            other.close()


async def test_a_panel_score_before_the_answers_is_refused_the_same_way_by_the_hub_and_the_mc(
        store: Store, db_path: Path) -> None:
    director = director_for(store)
    rnd = director.new_round("capital", seed=4)  # a draft: nobody has answered yet
    fid, label = next(iter(rnd.labels.items()))
    token = store.tokens("panelists")["panel-1"]
    async with running_hub(db_path) as hub, client(hub, role="judge", device="judge-0001", token=token) as (ws, _):
        await ws.send(json.dumps({"type": "scores", "round": rnd.id, "label": label, "scores": CRITERIA,
                                  "id": "s1"}))
        by_hub = await recv_type(ws, "error")
    with pytest.raises(StoreError) as by_mc:
        director.score_panel(PanelScore(rnd.id, fid, "panel-1", CRITERIA))
    assert by_hub["code"] == by_mc.value.code == "not_open"
    assert by_hub["message"] == str(by_mc.value)
    assert "once the answers are in" in by_hub["message"]
    assert store.panel_scores(rnd.id) == [] and store.events(kind="panel.scored") == []
