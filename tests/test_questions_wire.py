"""Questions from the floor over the wire: real hub, real websockets phones and stage, the real Director.

Phones submit and upvote keyed by the hub's voter credential; nothing reaches the stage or
another phone before the MC approves it; a rejected question is never sent to any page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from audience.server import Hub
from finale.store import Store
from tests.hub_helpers import client, director_for, recv_type, running_hub, voter

SECRET = "rejected-question-text-xyzzy"


async def _state_where(ws: ClientConnection, test: Callable[[dict[str, Any]], bool],
                       timeout: float = 8.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        msg = await recv_type(ws, "state", max(0.05, deadline - time.monotonic()))
        if test(msg):
            return msg


async def _send(ws: ClientConnection, **frame: Any) -> dict[str, Any]:
    """Send one frame and return its ack or error (state broadcasts in between are skipped)."""
    await ws.send(json.dumps(frame))
    deadline = time.monotonic() + 8.0
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), max(0.05, deadline - time.monotonic())))
        if msg["type"] in ("ack", "error") and msg.get("id") == frame.get("id"):
            return dict(msg)


def _items(state: dict[str, Any]) -> list[dict[str, Any]]:
    return list(state["questions"]["items"])


@contextlib.asynccontextmanager
async def hub_on(path: str, db_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Hub]:
    """The one-hub path (SQLite), or a node without the database on a real Redis with the console's bridge."""
    if path == "sqlite":
        async with running_hub(db_path) as hub:
            yield hub
        return
    from tests.test_scale_redis import bridged

    url = request.getfixturevalue("redis_server").url
    async with bridged(db_path, url), running_hub(None, redis_url=url) as node:  # type: ignore[arg-type]
        yield node


@pytest.mark.parametrize("path", ["sqlite", "redis-node"])
async def test_questions_over_the_wire(store: Store, db_path: Path, path: str, request: pytest.FixtureRequest) -> None:
    """The same steps on one hub and on a Redis node (relayed to the bridge, decided by the same store rules)."""
    director = director_for(store)
    async with hub_on(path, db_path, request) as hub, \
            client(hub, device="phone-ask-0001") as (asker, first), \
            client(hub, device="phone-fan-0002") as (fan, _), \
            client(hub, role="stage", device="stage-000001") as (stage, _):
        assert first["questions"] == {"open": False, "items": [], "declined": [], "max_chars": 280, "approved": [],
                                      "asked": []}
        closed = await _send(asker, type="question", text="Too early?", id="q0")
        assert closed["type"] == "error" and closed["code"] == "questions_closed"

        await asyncio.to_thread(director.open_questions)
        await _state_where(asker, lambda m: m["questions"]["open"])
        good = await _send(asker, type="question", text="  How do the models handle\nmaths? ", id="q1")
        assert good["type"] == "ack" and good["status"] == "pending"
        bad = await _send(fan, type="question", text=SECRET, id="q2")
        assert bad["type"] == "ack"
        assert (await _send(fan, type="question", text="", id="q3"))["code"] == "empty"
        assert (await _send(fan, type="question", text="y" * 281, id="q4"))["code"] == "too_long"
        assert (await _send(fan, type="question", text=7, id="q5"))["code"] == "bad_message"
        hidden = await _send(fan, type="upvote", question_id=good["question_id"], id="u0")
        assert hidden["code"] == "not_found"  # pending: the fan cannot learn it exists

        stored = store.floor_question(good["question_id"])
        assert stored.voter_id == voter(hub, "phone-ask-0001") and stored.text == "How do the models handle maths?"

        await asyncio.to_thread(director.reject_question, bad["question_id"], "off topic")
        await asyncio.to_thread(director.approve_question, good["question_id"])
        for ws in (asker, fan, stage):
            seen = await _state_where(ws, lambda m: bool(_items(m)))
            assert [q["text"] for q in _items(seen)] == ["How do the models handle maths?"]
            assert seen["questions"]["declined"] == [bad["question_id"]]
            assert SECRET not in json.dumps(seen)

        own = await _send(asker, type="upvote", question_id=good["question_id"], id="u1")
        assert own["code"] == "own_question"
        up = await _send(fan, type="upvote", question_id=good["question_id"], id="u2")
        assert up == {"type": "ack", "id": "u2", "question_id": good["question_id"], "upvotes": 1}
        again = await _send(fan, type="upvote", question_id=good["question_id"], id="u3")
        assert again["code"] == "already_voted"
        shown = await _state_where(stage, lambda m: bool(_items(m)) and _items(m)[0]["upvotes"] == 1)
        assert shown["questions"]["items"][0]["starred"] is False

        await asyncio.to_thread(director.close_questions)
        await _state_where(stage, lambda m: not m["questions"]["open"] and not _items(m))
        rnd = await asyncio.to_thread(director.ask_question_as_round, good["question_id"])
        asked = await _state_where(stage, lambda m: m["round"] == rnd.id)
        assert asked["source"] == "audience" and asked["prompt"] == "How do the models handle maths?"
        late = await _send(fan, type="question", text="After the close?", id="q6")
        assert late["code"] == "questions_closed"
    kinds = [e.kind for e in store.events(kind="question*")]
    assert kinds == ["questions.opened", "question.submitted", "question.submitted", "question.rejected",
                     "question.approved", "question.upvoted", "questions.closed", "question.asked"]
    assert SECRET not in json.dumps([e.payload for e in store.events(kind="question.approved")])


async def test_the_stage_cannot_submit_a_question(store: Store, db_path: Path) -> None:
    director = director_for(store)
    await asyncio.to_thread(director.open_questions)
    async with running_hub(db_path) as hub, client(hub, role="stage", device="stage-000002") as (stage, _):
        refused = await _send(stage, type="question", text="From the stage?", id="s1")
        assert refused["code"] == "not_allowed"
    assert store.count("audience_questions") == 0
