"""Moving the Redis audience path into SQLite exactly once (audience.scale.bridge's drainer).

The hub nodes append every counted vote and every issued credential to Redis Streams. The
drainer reads each stream from the id it recorded last and writes a batch, the core's vote
rule asked again (`decide_votes`, as for one hub's batch writer), and the new last ids, in
one transaction: a batch is either all in SQLite with its marks or not at all, so after a
crash the drainer resumes exactly where the database says, and nothing is stored twice.

Only one drainer may write into a database at a time, and the store makes sure of it: a batch
carries the marks it was read after, and a batch whose marks the database has moved past (another
console, or `finale drain`, drained the same entries meanwhile) is refused whole (`DrainRaced`).
Written anyway, an older vote read before the other drainer stored a newer one would replace it.

A vote Redis acknowledged but the rule refuses here can only come from a node whose clock
disagrees with the console's beyond the poll's margins; it is not counted, and the refusal
is in the audit log (`votes.drain_refused`) so the count is explained, never silent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from finale.core.poll import VoteDecision, VoteOutcome
from finale.core.questions import FloorQuestion
from finale.store.base import StoreError
from finale.store.questions import QuestionsMixin
from finale.store.setup import SetupMixin
from finale.store.votes import VoteIn, VotesMixin

DRAINED_PREFIX = "redis_drained:"  # meta key prefix: the last stream id drained, per stream name


class DrainRaced(StoreError):
    """A drained batch read after marks this database has since moved past: another drainer stored it first."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "drain_raced")


def stream_position(entry_id: str) -> tuple[int, int]:
    """A Redis stream id ("ms-seq") as numbers, so ids compare in stream order."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class DrainMixin(VotesMixin, QuestionsMixin, SetupMixin):
    """The drainer's transaction and the marks it resumes from."""

    def drained_id(self, stream: str) -> str:
        """The last id of `stream` already in this database ("0-0" before the first)."""
        return self._meta(DRAINED_PREFIX + stream) or "0-0"

    def drain(self, votes: Sequence[VoteIn], credentials: Sequence[tuple[str, float, str]],
              marks: Mapping[str, str], unreadable: Sequence[Mapping[str, Any]] = (),
              actor: str = "redis", after: Mapping[str, str] | None = None) -> list[VoteDecision]:
        """Store a drained batch and the streams' new last ids in one transaction; one decision per vote.

        Entries this version could not read are kept whole in the audit log (`redis.unreadable`), in the
        same transaction: once the mark passes them, the bridge trims them from Redis. `after`: the marks
        the batch was read after; if this database's differ, nothing is stored (DrainRaced).
        """
        with self.transaction():
            for stream, mark in (after or {}).items():
                if (now := self.drained_id(stream)) != mark:
                    raise DrainRaced(f"{stream} was drained to {now} in this database, not {mark} as this batch "
                                     "was read after: another drainer (a second console or `finale drain`) is "
                                     "draining this event into it; this batch was not stored")
            if unreadable:
                self.log(actor, "redis.unreadable", {"entries": list(unreadable)})
            if credentials:
                self.record_credentials(credentials, actor)
            decisions = self.decide_votes(votes, actor) if votes else []
            refused = [[v.round_id, v.device_id, v.label, v.client_msg_id, d.code]
                       for v, d in zip(votes, decisions, strict=True) if d.outcome is VoteOutcome.REFUSE]
            if refused:
                self.log(actor, "votes.drain_refused", {"votes": refused})
            for stream, last in marks.items():
                self._set_meta(DRAINED_PREFIX + stream, last)
        return decisions

    def relay_floor(self, kind: str, voter_id: str, subject: object, at: float, stream: str,
                    entry_id: str) -> FloorQuestion | StoreError:
        """A question or upvote a node relayed, decided here by the same rules, and the stream's mark, at once.

        `kind` is "question" (`subject`: its text) or "upvote" (`subject`: the question id). A refusal
        is returned, not raised, so the mark still moves on: a request is answered exactly once.
        """
        with self.transaction():
            if stream_position(now := self.drained_id(stream)) >= stream_position(entry_id):
                raise DrainRaced(f"{stream} was drained to {now} in this database, not before {entry_id}: "
                                 "another drainer relayed this request already; not relayed again")
            result: FloorQuestion | StoreError
            try:
                if kind == "question":
                    result = self.submit_question(voter_id, subject, at, "hub")
                elif kind == "upvote" and isinstance(subject, int):
                    result = self.upvote_question(subject, voter_id, at, "hub")
                else:
                    result = StoreError(f"a relayed request must be a question or an upvote, not {kind!r}",
                                        "bad_message")
            except StoreError as exc:
                result = exc
            self._set_meta(DRAINED_PREFIX + stream, entry_id)
        return result
