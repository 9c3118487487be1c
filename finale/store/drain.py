"""Moving the Redis audience path into SQLite exactly once (audience.scale.bridge's drainer).

The hub nodes append every counted vote and every issued credential to Redis Streams. The
drainer reads each stream from the id it recorded last and writes a batch, the core's vote
rule asked again (`decide_votes`, as for one hub's batch writer), and the new last ids, in
one transaction: a batch is either all in SQLite with its marks or not at all, so after a
crash the drainer resumes exactly where the database says, and nothing is stored twice.

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


class DrainMixin(VotesMixin, QuestionsMixin, SetupMixin):
    """The drainer's transaction and the marks it resumes from."""

    def drained_id(self, stream: str) -> str:
        """The last id of `stream` already in this database ("0-0" before the first)."""
        return self._meta(DRAINED_PREFIX + stream) or "0-0"

    def drain(self, votes: Sequence[VoteIn], credentials: Sequence[tuple[str, float, str]],
              marks: Mapping[str, str], unreadable: Sequence[Mapping[str, Any]] = (),
              actor: str = "redis") -> list[VoteDecision]:
        """Store a drained batch and the streams' new last ids in one transaction; one decision per vote.

        Entries this version could not read are kept whole in the audit log (`redis.unreadable`), in the
        same transaction: once the mark passes them, the bridge trims them from Redis.
        """
        with self.transaction():
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
