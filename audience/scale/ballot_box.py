"""The many-hub ballot box: votes decided by the core on the published poll, recorded by one Redis function.

A node asks core.poll.decide_vote on the round the console published (audience.scale.show),
then calls `finale_vote` (functions.lua), which records the vote only if the poll's version
is still that one, keeps one vote per credential per round (the later arrival replaces it),
treats a resend of the counted vote as a replay, counts voters per origin exactly as the
SQLite store does, and appends the vote to the stream the drainer moves into SQLite. The
phone is acknowledged only after Redis answered. When Redis cannot be reached the vote is
refused `unavailable` (the page resends it) and the link says so on /healthz.
"""

from __future__ import annotations

import json
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from audience.ballot_box import Answer
from audience.scale.batcher import CallBatcher
from audience.scale.keys import EventKeys
from audience.scale.library import ensure_library
from audience.scale.link import RedisLink, text
from audience.scale.show import ShowFollower, poll_version
from finale.core.ballot import BallotPolicy, Credential, OriginLoad, origin_refusal
from finale.core.model import Round
from finale.core.poll import MAY_BE_REPLAY, Ballot, VoteOutcome, decide_vote, voting_open

log = logging.getLogger("finale.hub")
Refusal = tuple[str, str]
UNAVAILABLE: Refusal = ("unavailable", "the vote could not be recorded just now (the hub lost its store); "
                        "it will be resent")


NOT_PUBLISHED: Refusal = ("unavailable", "the show is not published on this hub's Redis yet (the console is "
                         "starting); the vote will be resent")


PUBLISHING: Refusal = ("unavailable", "the poll is still being opened on every hub; the vote will be resent")


NOT_REPLICATED: Refusal = ("unavailable", "the vote is not on enough Redis replicas yet; it will be resent")


def _counted(entry: str | None) -> tuple[str | None, str] | None:
    """(client message id, label) of a stored "msg TAB label TAB origin" entry."""
    if entry is None:
        return None
    msg, label, _origin = entry.split("\t", 2)
    return (msg or None, label)


class RedisBallotBox:
    """Votes through Redis: any node, any phone, one vote per credential per round."""

    def __init__(self, link: RedisLink, keys: EventKeys, show: ShowFollower) -> None:
        self.link = link
        self.keys = keys
        self.show = show
        self.votes = 0  # recorded by this node (for /healthz and the benchmark)
        self.batcher = CallBatcher(link.redis)  # a burst's votes share one pipeline (group commit)
        self.wait_replicas = 0  # [scale] wait_replicas: acknowledge only once this many replicas have the vote
        self.wait_timeout_ms = 500

    @property
    def redis(self) -> Redis:
        return self.link.redis

    async def post(self, shown: Round | None, ballot: Ballot, voter: Credential, origin: str,
                   policy: BallotPolicy, answer: Answer) -> None:
        answer(await self.cast(shown, ballot, voter, origin, policy))  # Redis answers each vote: nothing to batch here

    async def cast(self, shown: Round | None, ballot: Ballot, voter: Credential, origin: str,
                   policy: BallotPolicy) -> Refusal | None:
        fresh = False  # whether the poll was read from Redis for this vote
        try:
            for _attempt in range(4):  # a `stale` answer: the console published a newer poll; decide again on it
                if not self.show.poll.version:  # nothing seen published yet: look again before refusing
                    await self.show.read_poll()
                    fresh = True
                version = self.show.poll.version
                rnd = self.show.poll.round
                if not version:  # nothing published yet: the console's bridge has not started
                    return NOT_PUBLISHED
                decision = decide_vote(rnd, ballot)
                if decision.code in MAY_BE_REPLAY:  # a resend of the counted vote whose ack was lost
                    entry = await self.batcher.call("HGET", self.keys.votes(ballot.round_id), voter.voter_id)
                    decision = decide_vote(rnd, ballot, _counted(text(entry)))
                if decision.outcome is VoteOutcome.REPLAY:
                    return None
                if decision.outcome is not VoteOutcome.ACCEPT or rnd is None:
                    if fresh and shown is not None and voting_open(shown, ballot.cast_at) \
                            and poll_version(shown) != version:  # the primary read SQLite a moment before Redis
                        return PUBLISHING
                    if fresh:
                        return decision.refusal
                    await self.show.read_poll()  # refused on the poll this node last saw: ask on the newest one
                    fresh = True
                    continue
                answer = await self._record(rnd, version, ballot, voter, origin, policy.devices_per_address)
                self.link.succeeded()
                if answer[0] == "stale":
                    await self.show.read_poll()
                    fresh = True
                    continue
                if answer[0] == "address_limit":
                    crowded = origin_refusal(rnd.id, OriginLoad(int(answer[1]), policy.devices_per_address))
                    return crowded or UNAVAILABLE
                if self.wait_replicas and not await self._replicated():
                    return NOT_REPLICATED  # recorded on the primary: the resend is a replay, waited for again
                if answer[0] == "ok":
                    self.votes += 1
                return None  # "ok" or "replay"
        except RedisError as exc:
            self.link.failed(exc)
            return UNAVAILABLE
        return ("unavailable", "the poll kept changing while this vote was recorded; it will be resent")

    async def _replicated(self) -> bool:
        """WAIT until `wait_replicas` replicas have every write so far (durability "always" with replicas)."""
        confirmed = await self.redis.wait(self.wait_replicas, self.wait_timeout_ms)  # type: ignore[misc]
        return int(confirmed) >= self.wait_replicas

    async def _record(self, rnd: Round, version: str, ballot: Ballot, voter: Credential, origin: str,
                      limit: int) -> list[str]:
        arrival = json.dumps(ballot.arrival._asdict()) if ballot.arrival is not None else ""
        args = [str(rnd.id), version, voter.voter_id, str(ballot.label), ballot.client_msg_id or "",
                repr(ballot.cast_at), origin, repr(voter.issued_at), str(limit), arrival]
        keys = self.keys.vote_keys(rnd.id)
        command = ("FCALL", "finale_vote", len(keys), *keys, *args)
        try:
            answer = await self.batcher.call(*command)
        except ResponseError as exc:
            if "function" not in str(exc).lower():
                raise
            await ensure_library(self.redis)  # a Redis restarted without its functions: load them, once
            answer = await self.batcher.call(*command)
        return [str(text(a)) for a in answer]

    async def device_vote(self, round_id: int, voter_id: str) -> str | None:
        try:
            # every phone asks this on its hello: a burst of reconnects shares round trips like votes do
            counted = _counted(text(await self.batcher.call("HGET", self.keys.votes(round_id), voter_id)))
        except RedisError as exc:
            self.link.failed(exc)
            return None
        return counted[1] if counted else None

    async def vote_labels(self, round_id: int) -> dict[str, int]:
        try:
            raw = await self.redis.hgetall(self.keys.tally(round_id))  # type: ignore[misc]
        except RedisError as exc:
            self.link.failed(exc)
            return {}
        return {str(text(label)): int(n) for label, n in raw.items() if int(n) > 0}
