"""Questions from the floor on a hub node without the database: relayed through Redis to the console's bridge.

Votes need Redis's atomic script because they come by the thousand per second; questions come
a few per minute and their rules (open, length, filter, rate limit, one upvote) read the
moderation state that only SQLite holds. So a node appends the phone's request to a stream,
the bridge decides it with the store's own method (finale.store.drain.relay_floor, the core's
rules inside the same transaction as the stream's mark: answered exactly once) and answers on a
reply key plus a pub/sub nudge to that node; the node waits a few seconds for it, then tells the
phone `unavailable` (the console is not running) and the phone may send again.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass

from redis.exceptions import RedisError

from audience.scale.keys import EventKeys
from audience.scale.link import RedisLink, text

REPLY_WAIT_S = 6.0
REPLY_TTL_S = 60


@dataclass(frozen=True)
class FloorReply:
    """The bridge's answer: the question (id, status, upvotes), or the refusal's code and message."""

    question_id: int | None = None
    status: str | None = None
    upvotes: int | None = None
    code: str | None = None
    message: str | None = None


UNAVAILABLE = FloorReply(code="unavailable", message="the console did not answer in time; send it again in a moment")


class FloorRelay:
    """A node's side: send a request, wait for its reply (the nudge, or the reply key when the nudge is lost)."""

    def __init__(self, link: RedisLink, keys: EventKeys, node_id: str) -> None:
        self.link = link
        self.keys = keys
        self.node_id = node_id
        self._waiting: dict[str, asyncio.Future[None]] = {}

    def nudged(self, reply_id: str) -> None:
        """The reply to `reply_id` is there (called by the node's subscriber)."""
        fut = self._waiting.get(reply_id)
        if fut is not None and not fut.done():
            fut.set_result(None)

    async def ask(self, kind: str, voter_id: str, subject: str | int, at: float) -> FloorReply:
        """Relay one question or upvote and wait for the bridge's decision."""
        reply_id = secrets.token_hex(8)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[reply_id] = fut
        try:
            await self.link.redis.xadd(self.keys.floor, {  # type: ignore[misc]
                "kind": kind, "voter": voter_id, "subject": json.dumps(subject), "at": repr(at),
                "reply": reply_id, "node": self.node_id})
            deadline = time.monotonic() + REPLY_WAIT_S
            while time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(asyncio.shield(fut), 0.5)
                except TimeoutError:
                    pass
                raw = text(await self.link.redis.get(self.keys.reply(reply_id)))  # type: ignore[misc]
                if raw is not None:
                    return FloorReply(**json.loads(raw))
        except RedisError as exc:
            self.link.failed(exc)
        finally:
            self._waiting.pop(reply_id, None)
        return UNAVAILABLE


async def answer(link: RedisLink, keys: EventKeys, reply_id: str, node_id: str, reply: FloorReply) -> None:
    """The bridge's side: store the reply for a while and nudge the node that waits for it."""
    await link.redis.set(keys.reply(reply_id), json.dumps(reply.__dict__), ex=REPLY_TTL_S)  # type: ignore[misc]
    await link.redis.publish(keys.replies(node_id), reply_id)  # type: ignore[misc]
