"""A hub process as one node of many on Redis: its link, the followed show, its ballot box, its report.

`finale hub --redis URL` makes the hub a node. With `--db` as well it is the primary: it reads
the show from SQLite and also serves the panel judges' and finalists' private pages; without
it the node serves phones and stages from the show the console's bridge published. Either way
the audience's votes and the stage's tally go through Redis (audience.scale.ballot_box).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from redis.exceptions import RedisError

from audience.cancellation import checkpoint
from audience.scale.ballot_box import RedisBallotBox
from audience.scale.floor import FloorRelay
from audience.scale.keys import CURRENT_EVENT, EventKeys, announce
from audience.scale.library import ensure_library
from audience.scale.link import RedisLink, redacted, text
from audience.scale.nodes import REPORT_INTERVAL_S, NodeReport, live_nodes, report
from audience.scale.show import ShowFollower, describe
from audience.voters import Issued
from finale.config_pages import PagesSection

log = logging.getLogger("finale.hub")


class NodeStartError(Exception):
    """The node cannot start: Redis unreachable, or no event published on it (says which and what to do)."""


class ScaleNode:
    """Everything one hub process needs to be a node on a shared Redis."""

    def __init__(self, url: str, event_id: str | None = None) -> None:
        self.link = RedisLink(url)
        self.event_id = event_id
        # unique per hub, even for several hubs in one process
        self.node_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
        self._keys: EventKeys | None = None
        self._show: ShowFollower | None = None
        self._box: RedisBallotBox | None = None
        self.floor: FloorRelay | None = None  # questions from the floor, relayed to the console's bridge
        self.nudged = asyncio.Event()
        self.peers: list[NodeReport] = []  # every live node on this Redis (this one included), for /healthz

    @property
    def keys(self) -> EventKeys:
        assert self._keys is not None, "ScaleNode.start() first"
        return self._keys

    @property
    def show(self) -> ShowFollower:
        assert self._show is not None, "ScaleNode.start() first"
        return self._show

    @property
    def box(self) -> RedisBallotBox:
        assert self._box is not None, "ScaleNode.start() first"
        return self._box

    async def start(self, wait_s: float = 30.0, known: tuple[str, bytes] | None = None) -> bytes:
        """Connect, learn the event, load the functions; the voter secret.

        A node without the database learns the event and its secret from Redis (the bridge, or the
        primary hub, announced them); the primary passes them as `known` and announces them itself,
        so the nodes can start before the console does.
        """
        redis = self.link.redis
        deadline = time.monotonic() + wait_s
        secret: str | None = None
        event_id: str | None = None
        while True:
            try:
                await ensure_library(redis)
                if known is not None:
                    await announce(redis, EventKeys(known[0]), known[1])
                event_id = self.event_id or text(await redis.get(CURRENT_EVENT))
                if event_id:
                    secret = text(await redis.get(EventKeys(event_id).secret))
                problem = None if event_id and secret else \
                    "no event is published on it yet: start the console (or `finale drain`) with the same Redis"
            except RedisError as exc:
                problem = f"it cannot be reached ({type(exc).__name__}: {exc})"
            if problem is None:
                break
            if time.monotonic() > deadline:
                raise NodeStartError(f"Redis at {redacted(self.link.url)}: {problem}")
            await asyncio.sleep(0.25)
        assert event_id and secret
        self.event_id = event_id
        self._keys = EventKeys(event_id)
        self._show = ShowFollower(redis, self._keys)
        self._box = RedisBallotBox(self.link, self._keys, self._show)
        self.floor = FloorRelay(self.link, self._keys, self.node_id)
        await self.link.check()
        try:
            await self._show.changed()
            await self._show.read_poll()
        except RedisError as exc:
            self.link.failed(exc)
        return bytes.fromhex(secret)

    async def pages(self) -> PagesSection | None:
        """The event's [pages] section as the bridge announced it (None before, or if unreadable)."""
        try:
            raw = text(await self.link.redis.get(self.keys.pages))  # type: ignore[misc]
            return PagesSection.model_validate_json(raw) if raw else None
        except (RedisError, ValidationError):
            return None

    async def record_credentials(self, issued: Issued) -> None:
        """Append issued credentials to the credentials stream (the bridge drains it into SQLite)."""
        await asyncio.gather(*(self.box.batcher.call("XADD", self.keys.credentials, "*", "voter", voter_id,
                                                     "issued_at", repr(issued_at), "origin", origin)
                               for voter_id, issued_at, origin in issued))

    async def take_credential_token(self, origin: str, per_min: int) -> bool | None:
        """One token of the origin's new-credential rate, shared by every node (finale_take_token, on Redis's
        clock); None when Redis cannot say, and the hub falls back on its own bucket."""
        try:
            taken = await self.box.batcher.call("FCALL", "finale_take_token", 1, self.keys.credential_rate(origin),
                                                repr(per_min / 60.0), per_min)
        except (RedisError, OSError) as exc:
            self.link.failed(exc)
            return None
        self.link.succeeded()
        return bool(int(taken))

    async def _durability(self) -> None:
        """The event's durability settings as the bridge announced them (defaults until it has)."""
        raw = text(await self.link.redis.get(self.keys.durability))  # type: ignore[misc]
        try:
            policy = json.loads(raw) if raw else {}
            self.link.durability = str(policy.get("durability", "everysec"))
            self.box.wait_replicas = int(policy.get("wait_replicas", 0))
            self.box.wait_timeout_ms = int(policy.get("wait_timeout_ms", 500))
        except (ValueError, TypeError, AttributeError):
            log.warning("ignored unreadable durability settings on Redis")

    async def run(self, counts: Callable[[], tuple[int, int]]) -> None:
        """Every second: check Redis and report this node (phones and stages connected, votes recorded)."""
        while True:
            checkpoint()  # a cancellation redis-py swallowed still stops it (audience.cancellation)
            if await self.link.check():
                with contextlib.suppress(RedisError):
                    await self._durability()
                phones, stages = counts()
                with contextlib.suppress(RedisError):
                    await report(self.link.redis, self.keys, NodeReport(
                        self.node_id, phones, stages, self.box.votes, self.link.ok, time.time()))
                    self.peers = await live_nodes(self.link.redis, self.keys)
            await asyncio.sleep(REPORT_INTERVAL_S)

    async def listen(self) -> None:
        """Wake the watcher on each nudge; a lost nudge only costs the watcher's own poll interval."""
        while True:
            checkpoint()
            try:
                async with self.link.redis.pubsub() as sub:
                    await sub.subscribe(self.keys.nudge, self.keys.replies(self.node_id))
                    async for message in sub.listen():
                        checkpoint()
                        if message.get("type") != "message":
                            continue
                        if text(message.get("channel")) == self.keys.nudge:
                            self.nudged.set()
                        elif self.floor is not None:
                            self.floor.nudged(str(text(message.get("data"))))
            except RedisError:
                await asyncio.sleep(1.0)  # the link's own check reports it; subscribe again when it is back

    def problems(self) -> list[str]:
        """What this node cannot do now (its /healthz turns `ok: false`, the console's header red)."""
        if self.link.ok:
            return []
        return [f"Redis at {redacted(self.link.url)} is unavailable ({self.link.error}); votes are refused "
                "(the pages resend them) until it is back"]

    def report(self) -> dict[str, Any]:
        """The node's part of /healthz."""
        return {"node": self.node_id, "event_id": self.event_id, "redis": self.link.report(),
                "poll": describe(self.show.poll) if self._show else None,
                "votes_recorded": self._box.votes if self._box else 0,
                "pipelines": self._box.batcher.batches if self._box else 0,
                "largest_pipeline": self._box.batcher.largest if self._box else 0,
                "nodes": [{"node": n.node_id, "phones": n.phones, "stages": n.stage} for n in self.peers]}

    async def close(self) -> None:
        if self._box is not None:
            await self._box.batcher.close()
        with contextlib.suppress(RedisError):
            await self.link.redis.hdel(self.keys.nodes, self.node_id)  # type: ignore[misc]
        await self.link.close()
