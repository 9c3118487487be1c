"""Where an audience vote goes once the hub has read it: the ballot box of one hub (SQLite) or of many (Redis).

The hub's handler builds the `Ballot` (core.poll) and posts it to its box with a callback; the box
decides with the core's rule (core.poll.decide_vote) on the round it votes against and
records the vote, and says None (acknowledge) or why not. `SqliteBallotBox` is the one-hub
path: the batch writer (audience.writer) and the voter desk's per-origin counts, the store
asking the rule again at commit. audience.scale.ballot_box.RedisBallotBox is the many-hub
path. Both answer the other reads the pages need: a phone's vote when it reconnects, and
the stage's tally.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Protocol, TypeVar

from audience.voters import VoterDesk
from audience.writer import Answer, VoteWriter, settle
from finale.core.ballot import BallotPolicy, Credential, OriginLoad
from finale.core.model import Round
from finale.core.poll import MAY_BE_REPLAY, Ballot, VoteDecision, VoteOutcome, decide_vote
from finale.store import DatabaseError, VoteIn, VoteStore

Refusal = tuple[str, str]
UNREADABLE: Refusal = ("unavailable", "the hub could not read your earlier vote just now; it will be resent")
T = TypeVar("T")
log = logging.getLogger("finale.hub")


class BallotBox(Protocol):
    """What the hub's vote handler and the stage's tally ask of wherever votes are kept."""

    async def cast(self, shown: Round | None, ballot: Ballot, voter: Credential, origin: str,
                   policy: BallotPolicy) -> Refusal | None:
        """Decide and record one vote; None once it is recorded (or was already: a replay), else why not.

        `shown` is the round this hub's pages show; the box decides on its own view of the poll.
        """
        ...

    async def post(self, shown: Round | None, ballot: Ballot, voter: Credential, origin: str,
                   policy: BallotPolicy, answer: Answer) -> None:
        """`cast`, told through `answer` (called on the loop) rather than awaited: the hub's vote handler.

        It may return before the answer: the one-hub box answers when the vote's batch commits,
        so the handler reads the phone's next frame meanwhile and no task waits per vote.
        """
        ...

    async def device_vote(self, round_id: int, voter_id: str) -> str | None:
        """The label this voter's counted vote is for, shown again on reconnect; or None."""
        ...

    async def vote_labels(self, round_id: int) -> dict[str, int]:
        """Counted votes per anonymous label (the stage's bars)."""
        ...


class SqliteBallotBox:
    """One hub's votes: decided on its view of the round, committed in batches by the single writer."""

    def __init__(self, store: VoteStore, reader: Executor, writer: VoteWriter, voters: VoterDesk) -> None:
        self.store = store  # the hub's reading connection
        self.reader = reader
        self.writer = writer
        self.voters = voters
        self._looking: set[asyncio.Task[None]] = set()  # resends waiting for their stored vote (offer)

    async def _read(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.reader, fn, *args)

    async def cast(self, rnd: Round | None, ballot: Ballot, voter: Credential, origin: str,
                   policy: BallotPolicy) -> Refusal | None:
        told: asyncio.Future[Refusal | None] = asyncio.get_running_loop().create_future()
        await self.post(rnd, ballot, voter, origin, policy, settle(told))
        return await told

    async def post(self, rnd: Round | None, ballot: Ballot, voter: Credential, origin: str,
                   policy: BallotPolicy, answer: Answer) -> None:
        self.offer(rnd, ballot, voter, origin, policy, answer)

    def offer(self, rnd: Round | None, ballot: Ballot, voter: Credential, origin: str, policy: BallotPolicy,
              answer: Answer) -> None:
        """`post` without awaiting anything, so the hub can take a vote the moment its frame is read.

        A vote that may be a resend of one stored before the close (or the pause) needs the
        stored vote first: that rare case looks it up in a task of its own and answers from there.
        """
        load = self.voters.load(rnd.id, origin, voter.voter_id, policy.devices_per_address) \
            if rnd is not None and ballot.round_id == rnd.id else None
        decision = decide_vote(rnd, ballot, None, load)
        if decision.code in MAY_BE_REPLAY:
            task = asyncio.get_running_loop().create_task(self._replay(rnd, ballot, voter, origin, load, answer))
            self._looking.add(task)
            task.add_done_callback(self._looking.discard)
            return
        self._decided(decision, rnd, ballot, voter, origin, answer)

    async def _replay(self, rnd: Round | None, ballot: Ballot, voter: Credential, origin: str,
                      load: OriginLoad | None, answer: Answer) -> None:
        """A resend of a vote stored before the close (or the pause), whose ack was lost: decided on the stored vote."""
        try:
            counted = await self._read(self.store.counted_vote, ballot.round_id, voter.voter_id)
            self._decided(decide_vote(rnd, ballot, counted, load), rnd, ballot, voter, origin, answer)
        except (DatabaseError, OSError):
            answer(UNREADABLE)
        except Exception:  # a fault, or the hub shutting down: answered all the same (the page resends)
            log.exception("a resent vote could not be decided")
            answer(UNREADABLE)

    def _decided(self, decision: VoteDecision, rnd: Round | None, ballot: Ballot, voter: Credential, origin: str,
                 answer: Answer) -> None:
        if decision.outcome is not VoteOutcome.ACCEPT or rnd is None:
            answer(decision.refusal)
            return
        round_id, voter_id = rnd.id, voter.voter_id

        def committed(why: Refusal | None) -> None:
            if why is None:
                self.voters.counted(round_id, origin, voter_id)
            answer(why)

        self.writer.post(VoteIn(round_id, voter_id, str(ballot.label), ballot.client_msg_id, ballot.cast_at,
                                ballot.arrival, origin, voter.issued_at), committed)

    async def device_vote(self, round_id: int, voter_id: str) -> str | None:
        return await self._read(self.store.device_vote, round_id, voter_id)

    async def vote_labels(self, round_id: int) -> dict[str, int]:
        return await self._read(self.store.vote_labels, round_id)
