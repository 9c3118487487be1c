"""The show state on Redis: what the console publishes and every hub node serves.

The bridge (audience.scale.bridge) reads the show from SQLite (audience.state.read_snapshot),
strips what only the primary hub's private pages need (private-link tokens, settings
history), and writes it with the poll's version in one Redis function call
(functions.lua `finale_publish`): a key that may not be lost, plus a pub/sub nudge that
may. A node keeps the newest snapshot and the published round; each vote is decided on
that round and recorded only if the poll's version is still the one published
(`stale` otherwise: the node reads the poll again and asks the core again).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace

from pydantic import TypeAdapter, ValidationError
from redis.asyncio import Redis

from audience.scale.keys import EventKeys
from audience.scale.link import text
from audience.state import Snapshot
from finale.core.model import Round

SNAPSHOT = TypeAdapter(Snapshot)
ROUND = TypeAdapter(Round | None)


class ShowStateError(Exception):
    """The published show state cannot be read (missing, or not what this version of finale writes)."""


@dataclass(frozen=True)
class PublishedPoll:
    """The round votes are decided on, and the version of its poll that Redis holds."""

    round: Round | None
    version: str


def poll_version(rnd: Round | None) -> str:
    """A short digest of everything about a round that decides a vote: any change is a new version."""
    if rnd is None:
        return "none"
    fields = {"id": rnd.id, "phase": rnd.phase.value, "labels": rnd.labels, "opened": rnd.vote_opened_at,
              "deadline": rnd.vote_deadline, "paused": rnd.vote_paused_at}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def public_snapshot(snap: Snapshot) -> Snapshot:
    """The snapshot without what only the primary hub's private pages use (tokens, settings history)."""
    return replace(snap, tokens={}, settings_history={})


def publish_args(snap: Snapshot) -> list[str]:
    """ARGV of finale_publish for one snapshot (keys: the event's show hash)."""
    public = public_snapshot(snap)
    raw = SNAPSHOT.dump_json(public).decode()
    rnd = snap.round
    return [str(rnd.id) if rnd else "", poll_version(rnd), ROUND.dump_json(rnd).decode(), raw,
            hashlib.sha256(raw.encode()).hexdigest()[:16]]


async def publish(redis: Redis, keys: EventKeys, snap: Snapshot) -> str:
    """Write the snapshot and its poll atomically, then nudge the nodes; returns the snapshot's version."""
    args = publish_args(snap)
    await redis.fcall("finale_publish", 1, keys.show, *args, keys.nudge, repr(time.time()))  # type: ignore[misc]
    return args[4]


def decode_round(raw: str | None) -> Round | None:
    """The published round (None before anything is published), or a ShowStateError saying what is wrong."""
    if raw is None:
        return None
    try:
        return ROUND.validate_json(raw)
    except ValidationError as exc:
        raise ShowStateError(f"the published round is not readable ({exc.error_count()} errors)") from exc


class ShowFollower:
    """A node's copy of the published show: the snapshot for the pages and the poll for the votes."""

    def __init__(self, redis: Redis, keys: EventKeys) -> None:
        self.redis = redis
        self.keys = keys
        self.snapshot_version: str | None = None
        self.snapshot: Snapshot | None = None
        self.poll = PublishedPoll(None, "")

    async def read_poll(self) -> PublishedPoll:
        """The poll as Redis holds it now (after a `stale` answer)."""
        raw, version = await self.redis.hmget(self.keys.show, ["round_json", "version"])  # type: ignore[misc]
        self.poll = PublishedPoll(decode_round(text(raw)), text(version) or "")
        return self.poll

    async def changed(self) -> bool:
        """Whether the published snapshot differs from the one held; if so, hold the new one."""
        version = await self.redis.hget(self.keys.show, "snapshot_version")  # type: ignore[misc]
        if version is None or version == self.snapshot_version:
            return False
        raw, round_json, poll_v, version = await self.redis.hmget(  # type: ignore[misc]
            self.keys.show, ["snapshot", "round_json", "version", "snapshot_version"])
        if raw is None:
            return False
        try:
            snap = SNAPSHOT.validate_json(raw)
        except ValidationError as exc:
            raise ShowStateError(f"the published show is not readable ({exc.error_count()} errors)") from exc
        self.snapshot, self.snapshot_version = snap, text(version)
        self.poll = PublishedPoll(decode_round(text(round_json)), text(poll_v) or "")
        return True


def describe(poll: PublishedPoll) -> dict[str, object]:
    """The published poll for /healthz."""
    rnd = poll.round
    return {"version": poll.version, "round": rnd.id if rnd else None, "phase": rnd.phase.value if rnd else None}
