"""The hub protocol with real websockets clients against the real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from audience.server import Hub
from finale.store import Store
from tests.hub_helpers import (
    client,
    device_names,
    director_for,
    recv_json,
    recv_type,
    running_hub,
    voting_round,
    ws_url,
)

pytestmark = pytest.mark.timeout(60)


def rows(store: Store, round_id: int, hub: Hub | None = None) -> list[tuple[str, str]]:
    """(device, label) of the counted votes; with `hub`, voter ids read as the test phones' device names."""
    names = device_names(hub) if hub is not None else {}
    return [(names.get(v["device_id"], v["device_id"]), v["label"]) for v in store.votes(round_id)]


async def test_hello_gets_the_voting_state_with_answers_and_server_clock(store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    async with running_hub(db_path) as hub, client(hub) as (_ws, state):
        assert state["round"] == rnd.id and state["phase"] == "voting" and state["voting_open"] is True
        assert [a["label"] for a in state["answers"]] == sorted(rnd.labels.values())
        assert state["deadline"] == pytest.approx(rnd.vote_deadline)
        assert abs(state["server_time"] - time.time()) < 5
        assert state["my_vote"] is None
        assert "tally" not in state and "counts" not in json.dumps(state)


async def test_bad_frames_get_errors_and_change_nothing(store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    events_before = len(store.events())
    async with running_hub(db_path) as hub, client(hub) as (ws, _):
        cases = [
            ("{not json", "bad_json"),
            ("[1, 2]", "bad_message"),
            (json.dumps({"type": "launch", "id": "m1"}), "unknown_type"),
            (json.dumps({"type": "vote", "round": rnd.id, "label": "A"}), "bad_message"),  # no id
            (json.dumps({"type": "vote", "round": "one", "label": "A", "id": "m2"}), "bad_message"),
            (json.dumps({"type": "vote", "round": rnd.id, "label": "A", "id": "m3", "extra": 1}), "bad_message"),
            (json.dumps({"type": "vote", "round": rnd.id, "label": "Z", "id": "m4"}), "bad_label"),
            (json.dumps({"type": "vote", "round": rnd.id, "label": "<b>", "id": "m5"}), "bad_label"),
            (json.dumps({"type": "vote", "round": rnd.id + 7, "label": "A", "id": "m6"}), "wrong_round"),
            (json.dumps({"type": "scores", "round": rnd.id, "label": "A", "scores": {"quality": 5}, "id": "m7"}),
             "not_allowed"),
            ("x" * 5000, "too_big"),
        ]
        for frame, code in cases:
            await ws.send(frame)
            msg = await recv_type(ws, "error")
            assert msg["code"] == code, (frame[:60], msg)
            assert msg["message"]
        await ws.send(b"\x00\x01")
        assert (await recv_type(ws, "error"))["code"] == "bad_message"
        await ws.send(json.dumps({"type": "ping", "t": 1.5}))
        pong = await recv_type(ws, "pong")
        assert pong["t"] == 1.5, "the connection is kept after refused frames"
    assert rows(store, rnd.id) == []
    issued = len(store.events(kind="credentials.issued"))  # the phone's hello was issued a credential
    assert len(store.events()) == events_before + issued and issued <= 1


async def test_a_frame_over_the_hard_cap_closes_the_connection_with_1009(store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    async with running_hub(db_path) as hub, client(hub) as (ws, _):
        await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": "A", "id": "x" * 64_000}))
        with pytest.raises(ConnectionClosed) as closed:
            await recv_json(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert rows(store, rnd.id) == []


async def test_vote_before_hello_and_bad_hellos_are_refused(store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    async with running_hub(db_path) as hub, connect(ws_url(hub)) as ws:
        await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": "A", "id": "v1"}))
        assert (await recv_json(ws))["code"] == "hello_first"
        await ws.send(json.dumps({"type": "hello", "role": "mc", "device_id": "device-0001"}))
        assert (await recv_json(ws))["code"] == "bad_role"
        await ws.send(json.dumps({"type": "hello", "role": "audience", "device_id": "x"}))
        assert (await recv_json(ws))["code"] == "bad_message"
    assert rows(store, rnd.id) == []


async def test_same_device_twice_counts_once_the_last(store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    a, b = sorted(rnd.labels.values())[:2]
    async with running_hub(db_path) as hub:
        async with client(hub, device="phone-aaaa1") as (ws, _):
            await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": a, "id": "v1"}))
            ack = await recv_type(ws, "ack")
            assert ack == {"type": "ack", "id": "v1", "round": rnd.id, "label": a}
            assert rows(store, rnd.id, hub) == [("phone-aaaa1", a)], "acked only after the commit"
        async with client(hub, device="phone-aaaa1") as (ws, state):
            assert state["my_vote"] == a, "a reconnecting phone learns its counted vote"
            await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": b, "id": "v2"}))
            assert (await recv_type(ws, "ack"))["label"] == b
    assert rows(store, rnd.id, hub) == [("phone-aaaa1", b)]
    assert store.vote_labels(rnd.id) == {b: 1}


async def test_votes_sent_back_to_back_are_each_acknowledged_and_the_last_counts(store: Store, db_path: Path) -> None:
    """The hub reads a phone's next frame while its vote waits for the commit: nothing is lost or reordered."""
    rnd = await voting_round(director_for(store))
    labels = sorted(rnd.labels.values())
    async with running_hub(db_path) as hub:
        async with client(hub, device="phone-pipe1") as (ws, _):
            for i, label in enumerate(labels[:3]):
                await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": label, "id": f"p{i}"}))
            await ws.send(json.dumps({"type": "ping", "t": 1.0}))
            answers: list[dict[str, object]] = []
            while len(answers) < 4:
                message = await recv_json(ws)
                if message["type"] != "state":  # a broadcast may come in between
                    answers.append(message)
            inline_after_votes = hub.answered_inline
            await ws.send(json.dumps({"type": "ping", "t": 2.0}))
            assert (await recv_type(ws, "pong"))["t"] == 2.0
    in_order = [("ack", "p0"), ("ack", "p1"), ("ack", "p2"), ("pong", None)]
    assert [(a["type"], a.get("id")) for a in answers] == in_order, \
        "answers in the order of the frames, though the acks wait for the commit and the pong does not"
    assert [a["label"] for a in answers[:3]] == labels[:3]
    assert rows(store, rnd.id, hub) == [("phone-pipe1", labels[2])], "one vote per phone, the last"
    assert inline_after_votes >= 1, "the first vote was answered as its frame was read (HubConnection.inline)"
    assert hub.answered_inline == inline_after_votes + 1, "a ping with nothing in flight is answered inline"


async def test_votes_for_a_closed_poll_or_past_deadline_are_refused(store: Store, db_path: Path) -> None:
    director = director_for(store)
    rnd = await voting_round(director, window_s=60)
    label = sorted(rnd.labels.values())[0]
    async with running_hub(db_path) as hub, client(hub) as (ws, _):
        await asyncio.to_thread(director.close_poll, rnd.id)
        state = await recv_type(ws, "state")
        assert state["phase"] == "closed" and state["voting_open"] is False
        await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": label, "id": "late"}))
        err = await recv_type(ws, "error")
        assert err["code"] == "poll_closed" and err["id"] == "late"
    assert rows(store, rnd.id) == []



async def test_votes_after_the_deadline_are_refused_by_the_server_clock(store: Store, db_path: Path) -> None:
    director = director_for(store)
    opened = await voting_round(director, window_s=0.6)
    label = sorted(opened.labels.values())[0]
    async with running_hub(db_path) as hub, client(hub) as (ws, state):
        assert state["voting_open"] is True
        closed = await recv_type(ws, "state", timeout=3)  # the hub announces the deadline passing
        assert closed["voting_open"] is False and closed["phase"] == "voting"
        await ws.send(json.dumps({"type": "vote", "round": opened.id, "label": label, "id": "late2"}))
        assert (await recv_type(ws, "error"))["code"] == "poll_closed"
    assert rows(store, opened.id) == []


async def test_no_round_at_all_refuses_votes(store: Store, db_path: Path) -> None:
    async with running_hub(db_path) as hub, client(hub) as (ws, state):
        assert state["round"] is None and state["answers"] == []
        await ws.send(json.dumps({"type": "vote", "round": 1, "label": "A", "id": "v"}))
        assert (await recv_type(ws, "error"))["code"] == "no_round"


async def test_flood_is_rate_limited_then_closed(store: Store, db_path: Path) -> None:
    """Documented: refused messages get `rate_limited` and the connection is kept; a sustained flood
    (more than 50 refusals in 10 s) is closed with 1008."""
    rnd = await voting_round(director_for(store))
    label = sorted(rnd.labels.values())[0]
    async with running_hub(db_path) as hub, client(hub, device="flooder-01") as (ws, _):
        for i in range(30):
            await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": label, "id": f"f{i}"}))
        replies = [await recv_json(ws) for _ in range(30)]
        acks = [m for m in replies if m["type"] == "ack"]
        limited = [m for m in replies if m["type"] == "error" and m["code"] == "rate_limited"]
        assert 15 <= len(acks) <= 22 and len(acks) + len(limited) == 30
        await asyncio.sleep(0.5)
        await ws.send(json.dumps({"type": "ping", "t": 2}))
        assert (await recv_type(ws, "pong"))["t"] == 2, "kept open after a short burst"
        with pytest.raises(ConnectionClosed) as closed:
            for i in range(200):
                await ws.send(json.dumps({"type": "ping", "t": i}))
            while True:
                await recv_json(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert rows(store, rnd.id, hub) == [("flooder-01", label)]


@pytest.mark.serial  # it measures wall-clock time: run alone, not beside the other worker
async def test_console_changes_reach_phones_quickly(store: Store, db_path: Path) -> None:
    director = director_for(store)
    rnd = await voting_round(director)
    async with running_hub(db_path) as hub, client(hub) as (ws, _):
        started = time.perf_counter()
        await asyncio.to_thread(director.close_poll, rnd.id)
        state = await recv_type(ws, "state")
        elapsed = time.perf_counter() - started
        assert state["phase"] == "closed"
        assert elapsed < 0.5, f"state change took {elapsed * 1000:.0f} ms"
        await asyncio.to_thread(director.reveal_round, rnd.id)  # the demo event reveals at the close already
        revealed = state if state["reveal"] else await recv_type(ws, "state")
        assert {r["label"] for r in revealed["reveal"]["mapping"]} == set(rnd.labels.values())


async def test_phones_get_no_state_per_vote_and_stage_gets_only_the_vote_count_while_hidden(
        store: Store, db_path: Path) -> None:
    director = director_for(store)
    rnd = await voting_round(director)
    label = sorted(rnd.labels.values())[0]
    async with running_hub(db_path) as hub, client(hub, device="watcher-01") as (watcher, _), \
            client(hub, role="stage", device="stage-0001") as (stage, stage_state):
        assert stage_state["results_hidden"] is True  # the demo event hides results until the close
        refreshes = hub.refreshes
        for i in range(5):
            async with client(hub, device=f"voter-{i:04d}") as (ws, _):
                await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": label, "id": f"v{i}"}))
                await recv_type(ws, "ack")
        await asyncio.sleep(0.6)
        with pytest.raises(TimeoutError):
            await recv_json(watcher, timeout=0.3)
        hidden = await recv_type(stage, "tally", timeout=3)  # how many voted, not for whom
        while hidden["total"] < 5:
            hidden = await recv_type(stage, "tally", timeout=3)
        assert hidden["counts"] == {} and hidden["hidden"] is True and label not in json.dumps(hidden)
        assert hub.refreshes == refreshes, "vote batches do not re-read the show"
        await asyncio.to_thread(director.close_poll, rnd.id)
        tally = await recv_type(stage, "tally", timeout=3)
        assert tally["counts"][label] == 5 and tally["total"] == 5


async def test_judge_scores_and_tokens(store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    token = store.tokens("panelists")["panel-1"]
    label = sorted(rnd.labels.values())[0]
    fid = next(f for f, lab in rnd.labels.items() if lab == label)
    async with running_hub(db_path) as hub:
        async with connect(ws_url(hub)) as ws:
            await ws.send(json.dumps({"type": "hello", "role": "judge", "device_id": "judge-0001",
                                      "token": "not-a-token"}))
            assert (await recv_json(ws))["code"] == "bad_token"
            with pytest.raises(ConnectionClosed):
                await recv_json(ws)
        async with client(hub, role="judge", device="judge-0001", token=token) as (ws, state):
            assert state["you"] == "Dr. Ada Byrne" and state["open"] is True and state["saved"] == {}
            scores = {"generalization": 7, "quality": 8.5, "efficiency": 6}
            await ws.send(json.dumps({"type": "scores", "round": rnd.id, "label": label, "scores": scores,
                                      "id": "s1"}))
            assert (await recv_type(ws, "ack"))["id"] == "s1"
            saved = await recv_type(ws, "state")
            assert saved["saved"][label] == {k: float(v) for k, v in scores.items()}
            await ws.send(json.dumps({"type": "scores", "round": rnd.id, "label": label,
                                      "scores": {"generalization": 11, "quality": 1, "efficiency": 1}, "id": "s2"}))
            assert (await recv_type(ws, "error"))["code"] == "bad_scores"
            await ws.send(json.dumps({"type": "scores", "round": rnd.id, "label": label,
                                      "scores": {"quality": 1}, "id": "s3"}))
            err = await recv_type(ws, "error")
            assert err["code"] == "bad_scores" and "criteria" in err["message"]
    [mine] = [s for s in store.panel_scores(rnd.id) if s.panelist_id == "panel-1"]
    assert mine.finalist_id == fid and mine.scores == {"generalization": 7, "quality": 8.5, "efficiency": 6}


async def test_finalist_settings_in_draft_then_locked(store: Store, db_path: Path) -> None:
    director = director_for(store)
    token = store.tokens("finalists")["mia"]
    async with running_hub(db_path) as hub, client(hub, role="finalist", device="mia-laptop", token=token) \
            as (ws, state):
        assert state["you"] == "Mia" and state["locked"] is False
        await ws.send(json.dumps({"type": "settings", "system_prompt": "Be brief.", "temperature": 0.5,
                                  "max_tokens": 300, "id": "p1"}))
        assert (await recv_type(ws, "ack"))["version"] == 2
        await ws.send(json.dumps({"type": "settings", "system_prompt": "x", "temperature": 9,
                                  "max_tokens": 300, "id": "p2"}))
        err = await recv_type(ws, "error")
        assert err["code"] == "bad_settings" and "temperature" in err["message"]
        rnd = director.new_round("haiku", seed=5)
        await director.ask(rnd.id)
        while not (await recv_type(ws, "state"))["locked"]:
            pass
        await ws.send(json.dumps({"type": "settings", "system_prompt": "Too late", "temperature": 0.5,
                                  "max_tokens": 300, "id": "p3"}))
        assert (await recv_type(ws, "error"))["code"] == "locked"
    assert store.settings("mia").system_prompt == "Be brief." and store.settings("mia").version == 2


async def test_origin_check(store: Store, db_path: Path) -> None:
    async with running_hub(db_path, allowed_origins=("https://stage.example",)) as hub:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url(hub), origin="http://evil.example"):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
        for origin in ("http://127.0.0.1:8765", f"http://127.0.0.1:{hub.port}", "https://stage.example"):
            async with connect(ws_url(hub), origin=origin) as ws:  # type: ignore[arg-type]
                await ws.send(json.dumps({"type": "ping"}))
                assert (await recv_json(ws))["type"] == "pong"


async def test_connection_cap_per_address(store: Store, db_path: Path) -> None:
    async with running_hub(db_path, max_connections_per_ip=2) as hub:
        async with connect(ws_url(hub)), connect(ws_url(hub)):
            await asyncio.sleep(0.05)
            with pytest.raises(InvalidStatus) as refused:
                async with connect(ws_url(hub)):
                    pass
            assert refused.value.response.status_code == 503


async def test_a_frozen_stage_keeps_its_picture_until_unfrozen(store: Store, db_path: Path) -> None:
    director = director_for(store)
    rnd = await voting_round(director)
    async with running_hub(db_path) as hub, client(hub, role="stage", device="stage-0001") as (stage, _), \
            client(hub, device="phone-0001") as (phone, _):
        await asyncio.to_thread(director.toggle_freeze)
        await asyncio.to_thread(director.close_poll, rnd.id)
        assert (await recv_type(phone, "state"))["phase"] == "closed", "phones are not frozen"
        with pytest.raises(TimeoutError):  # (the vote count sent with the hello may still be queued)
            await recv_type(stage, "state", timeout=0.5)
        await asyncio.to_thread(director.toggle_freeze)
        caught_up = await recv_type(stage, "state")
        assert caught_up["phase"] == "closed" and caught_up["frozen"] is False


async def test_wrong_private_links_are_404_then_refused_while_a_valid_link_still_works(store: Store,
                                                                                       db_path: Path) -> None:
    """Others' guesses from the same address (a venue NAT) never refuse a valid link: the page and the hello."""
    import urllib.error
    import urllib.request

    good = store.tokens("finalists")["ray"]

    def status(path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{hub.port}{path}") as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    async with running_hub(db_path, token_tries_per_min=5) as hub:
        assert await asyncio.to_thread(status, f"/finalist/{good}") == 200
        codes = [await asyncio.to_thread(status, f"/finalist/guess-{i}") for i in range(7)]
        assert codes[:5] == [404] * 5 and codes[5:] == [429, 429]
        assert await asyncio.to_thread(status, f"/finalist/{good}") == 200, "the valid link is never refused"
        async with connect(ws_url(hub)) as ws:
            await ws.send(json.dumps({"type": "hello", "role": "finalist", "device_id": "device-0001",
                                      "token": good}))
            assert (await recv_json(ws))["type"] == "state"
        async with connect(ws_url(hub)) as ws:
            await ws.send(json.dumps({"type": "hello", "role": "finalist", "device_id": "device-0001",
                                      "token": "guess-ws"}))
            assert (await recv_json(ws))["code"] == "rate_limited", "a wrong one from the address is refused"
            await ws.wait_closed()
            assert (ws.close_code, ws.close_reason) == (1008, "too many wrong links")


async def test_a_resend_after_the_close_of_a_vote_stored_before_it_is_acknowledged(store: Store,
                                                                                   db_path: Path) -> None:
    """The phone lost the ack, the poll closed, the phone resends: it was counted, so it is acked, once."""
    director = director_for(store)
    rnd = await voting_round(director, window_s=60)
    a, b = sorted(rnd.labels.values())[:2]
    async with running_hub(db_path) as hub, client(hub, device="phone-resend1") as (ws, _):
        await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": a, "id": "v1"}))
        await recv_type(ws, "ack")
        await asyncio.to_thread(director.close_poll, rnd.id)
        assert (await recv_type(ws, "state"))["phase"] == "closed"
        await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": a, "id": "v1"}))
        assert await recv_type(ws, "ack") == {"type": "ack", "id": "v1", "round": rnd.id, "label": a}
        await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": b, "id": "v2"}))
        assert (await recv_type(ws, "error"))["code"] == "poll_closed"
    assert rows(store, rnd.id, hub) == [("phone-resend1", a)]
    assert len(store.events(kind="votes.recorded", round_id=rnd.id)) == 1


async def test_a_text_frame_that_is_not_utf8_closes_with_1007_and_the_hub_goes_on(store: Store, db_path: Path) -> None:
    """The frame websockets would refuse is refused the same way when the hub reads frames inline."""
    rnd = await voting_round(director_for(store))
    label = sorted(rnd.labels.values())[0]
    async with running_hub(db_path) as hub:
        async with client(hub, device="phone-utf81") as (ws, _):
            await ws.send(b'{"type": "vote", "label": "\xff\xfe"}', text=True)
            with pytest.raises(ConnectionClosed) as closed:
                await recv_type(ws, "ack")
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
        async with client(hub, device="phone-utf82") as (ws, _):
            await ws.send(json.dumps({"type": "vote", "round": rnd.id, "label": label, "id": "ok1"}))
            assert (await recv_type(ws, "ack"))["id"] == "ok1"
