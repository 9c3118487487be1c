"""Private links under attack and frames that used to crash handlers, with real websockets clients.

- A lone UTF-16 surrogate (`"\\ud800"`) in any string a client sends is `bad_message`: never close
  1011, never a traceback; in a judge's or finalist's token it counts as a wrong token.
- Must show #4: a valid judge (and finalist) keeps working while another client from the same
  address tries 100 wrong links; the guesser is refused after the allowance, the log stays short.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from audience import protocol
from audience.hublog import REPEAT_BURST, RepeatFilter
from finale.store import Store
from tests.hub_helpers import (
    client,
    director_for,
    http_status,
    recv_json,
    recv_type,
    running_hub,
    voting_round,
    ws_url,
)

pytestmark = pytest.mark.timeout(90)

LONE = "\ud800"
HELLO = {"type": "hello", "role": "audience", "device_id": "device-0001"}


@pytest.mark.parametrize("frame", [
    {**HELLO, "role": LONE},
    {**HELLO, "device_id": "dev" + LONE + "12345"},
    {**HELLO, "token": LONE},
    {**HELLO, "role": "stage", "token": "x" + LONE},
    {"type": "vote", "round": 1, "label": LONE, "id": "m1"},
    {"type": "vote", "round": 1, "label": "A", "id": "m" + LONE},
    {"type": "scores", "round": 1, "label": "A", "id": "s1", "scores": {LONE: 5}},
    {"type": "scores", "round": 1, "label": "A", "id": "s1", "scores": {"quality": [LONE]}},
    {"type": "settings", "system_prompt": "be brief " + LONE, "temperature": 0.2, "max_tokens": 9, "id": "p1"},
    {"type": "settings", "system_prompt": "x", "temperature": {"a": LONE}, "max_tokens": 9, "id": "p1"},
    {"type": "ping", "t": LONE},
    {"type": "ping", LONE: 1},
    {"type": "vote" + LONE},
])
def test_a_lone_surrogate_anywhere_is_a_bad_message_not_a_crash(frame: dict[str, Any]) -> None:
    raw = json.dumps(frame)  # ensure_ascii: the surrogate travels as the JSON escape \ud800, as a client sends it
    assert "\\ud800" in raw
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.parse(raw, protocol.MAX_SETTINGS_FRAME_CHARS)
    assert refused.value.code in ("bad_message", "bad_role", "unknown_type"), refused.value.message
    assert not refused.value.wrong_token
    error = protocol.encode(protocol.error(refused.value.code, refused.value.message))
    error.encode("utf-8")  # the error frame itself can be sent (this raised inside websockets: close 1011)


@pytest.mark.parametrize("role", ["judge", "finalist"])
def test_a_private_token_with_a_lone_surrogate_is_a_wrong_token(role: str) -> None:
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.parse(json.dumps({**HELLO, "role": role, "token": "abc" + LONE}))
    assert refused.value.code == "bad_message" and refused.value.wrong_token


def test_a_surrogate_pair_is_text() -> None:
    msg = protocol.parse(json.dumps({"type": "settings", "system_prompt": "Answer with a 🍓", "temperature": 0.2,
                                     "max_tokens": 9, "id": "p1"}), protocol.MAX_SETTINGS_FRAME_CHARS)
    assert isinstance(msg, protocol.Settings) and msg.system_prompt == "Answer with a 🍓"


async def _pong(ws: Any) -> None:
    await ws.send(json.dumps({"type": "ping", "t": 1}))
    assert (await recv_type(ws, "pong"))["t"] == 1


async def test_surrogate_frames_on_the_wire_are_refused_and_the_connection_lives(
        store: Store, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Each used to close the connection with 1011 and log a traceback."""
    director = director_for(store)
    rnd = director.new_round("capital", seed=3)  # a draft: finalists may save settings
    tokens = store.tokens("finalists")
    caplog.set_level(logging.INFO)
    async with running_hub(db_path, token_tries_per_min=3) as hub:
        async with connect(ws_url(hub)) as ws:
            for _ in range(3):  # a surrogate token is a wrong token: three use up the allowance
                await ws.send(json.dumps({**HELLO, "role": "judge", "token": LONE}))
                assert (await recv_json(ws))["code"] == "bad_message"
            await _pong(ws)
        async with connect(ws_url(hub)) as ws:
            await ws.send(json.dumps({**HELLO, "role": "judge", "token": "a-plain-guess"}))
            assert (await recv_json(ws))["code"] == "rate_limited", "the address has used its allowance"
        async with client(hub, "finalist", "finalist-dev1", tokens["ray"]) as (ws, state):
            assert state["phase"] == "draft" and state["locked"] is False
            version = store.settings("ray").version
            await ws.send(json.dumps({"type": "settings", "system_prompt": "short " + LONE, "temperature": 0.3,
                                      "max_tokens": 99, "id": "p1"}))
            refused = await recv_type(ws, "error")
            assert (refused["code"], refused["id"]) == ("bad_message", "p1")
            assert store.settings("ray").version == version, "nothing stored"
            await ws.send(json.dumps({"type": "settings", "system_prompt": "short 🍓", "temperature": 0.3,
                                      "max_tokens": 99, "id": "p2"}))
            assert (await recv_type(ws, "ack"))["id"] == "p2", "the same connection still saves"
        async with client(hub, "judge", "judge-dev-1", store.tokens("panelists")["panel-1"]) as (ws, _):
            await ws.send(json.dumps({"type": "scores", "round": rnd.id, "label": "A", "id": "s1",
                                      "scores": {LONE: 5}}))
            assert (await recv_type(ws, "error"))["code"] == "bad_message"
            await _pong(ws)
    assert store.settings("ray").system_prompt == "short 🍓"
    records = [r for r in caplog.records if r.name.startswith(("websockets", "finale.hub"))]
    assert not [r for r in records if r.exc_info or r.levelno >= logging.ERROR], [r.getMessage() for r in records]


async def _wrong_hello(url: str, role: str, token: str) -> str:
    async with connect(url) as ws:
        await ws.send(json.dumps({**HELLO, "role": role, "token": token}))
        reply = await recv_json(ws)
        await ws.wait_closed()
        assert ws.close_code == 1008
        return str(reply["code"])


async def test_a_valid_judge_keeps_working_while_the_same_address_tries_100_wrong_links(
        store: Store, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Must show #4, websockets side: before, ten wrong links blocked every judge and finalist behind the address."""
    director = director_for(store)
    rnd = await voting_round(director)
    labels = sorted(rnd.labels.values())
    judge_token, finalist_token = store.tokens("panelists")["panel-1"], store.tokens("finalists")["mia"]
    criteria = [c.id for c in store.event_config().rubric]
    caplog.set_level(logging.INFO)
    async with running_hub(db_path) as hub, client(hub, "judge", "judge-dev-1", judge_token) as (judge, _):
        base = f"http://127.0.0.1:{hub.port}"
        answers: list[object] = []
        for n in range(100):
            if n % 2:
                answers.append(await asyncio.to_thread(http_status, f"{base}/judge/wrong-{n:03d}-{'x' * 16}"))
            else:
                answers.append(await _wrong_hello(ws_url(hub), "finalist" if n % 4 else "judge", f"guess-{n}"))
            if n % 10 == 9:  # the judge who was already connected keeps saving
                label = labels[(n // 10) % len(labels)]
                await judge.send(json.dumps({"type": "scores", "round": rnd.id, "label": label, "id": f"s{n}",
                                             "scores": {c: 7 for c in criteria}}))
                assert (await recv_type(judge, "ack"))["id"] == f"s{n}"
            if n in (20, 60, 99):  # and a valid page opened now, from the same address, loads and connects
                assert await asyncio.to_thread(http_status, f"{base}/judge/{judge_token}") == 200
                assert await asyncio.to_thread(http_status, f"{base}/finalist/{finalist_token}") == 200
                async with client(hub, "judge", "judge-dev-2", judge_token) as (_, state):
                    assert state["role"] == "judge"
                async with client(hub, "finalist", "finalist-dev-2", finalist_token) as (_, state):
                    assert state["role"] == "finalist"
        assert answers[:10] == [404 if n % 2 else "bad_token" for n in range(10)]
        assert set(answers[10:]) == {429, "rate_limited"}, "the guesser is refused after its allowance"
    assert len(store.panel_scores(rnd.id)) == len(labels), "ten saves: every answer scored, then revised"
    wrong_lines = [r for r in caplog.records if "wrong private" in r.getMessage()]
    assert len(wrong_lines) == 10, "each counted guess once, the block once; none while blocked"
    assert all(judge_token not in r.getMessage() and "guess-" not in r.getMessage() for r in caplog.records)


def test_the_hub_log_shows_a_repeated_line_a_few_times_a_minute_then_counts_it() -> None:
    now = [0.0]
    f = RepeatFilter(interval_s=60, clock=lambda: now[0])

    def rec(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
        exc_info = (ValueError, ValueError("boom"), None) if exc else None
        return logging.LogRecord("finale.hub", logging.WARNING, __file__, 1, msg, args, exc_info)

    shown = [f.filter(rec("wrong private %s from %s", "judge link", f"10.0.0.{i}")) for i in range(40)]
    assert shown == [True] * REPEAT_BURST + [False] * (40 - REPEAT_BURST)
    assert [f.filter(rec("state refresh failed", exc=True)) for _ in range(3)] == [True, False, False]
    now[0] = 61.0
    later = rec("wrong private %s from %s", "judge link", "10.0.0.99")
    assert f.filter(later)
    assert later.getMessage() == ("wrong private judge link from 10.0.0.99 (and 35 more like this in the last "
                                  "61 s, not shown)")
    handshake = logging.LogRecord("websockets.server", logging.ERROR, __file__, 1, "opening handshake failed", None,
                                  (AssertionError, AssertionError(), None))
    assert f.filter(handshake) and handshake.exc_info is None, "websockets' own traceback is one line"
    assert handshake.getMessage() == "opening handshake failed: AssertionError (a client's connection; " \
                                     "traceback not shown)"
