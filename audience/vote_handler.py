"""What the hub does with an audience phone's vote, and how it answers a phone's vote or ping the moment it is read.

A mixin of `Hub` (through audience.handlers). The vote is checked against the
core's rules by the ballot box (audience.ballot_box), which records it and
answers through a callback once it is stored: on the one-hub path when its
batch commits, with no task or future per vote. `_inline` is offered each text
frame as websockets reads it (audience.connection.HubConnection): a ping or,
on the one-hub path, a vote is answered there and then, so no task wakes for
it (bench/hub_load.py); anything else, and any frame that follows one still
being handled or a vote not yet answered, goes to the connection's handler task,
in order. Answers go out in the order of the frames.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import broadcast

from audience import protocol, state
from audience.ballot_box import Answer, BallotBox, Refusal, SqliteBallotBox
from audience.connection import HubConnection
from audience.heartbeat import Heartbeat
from audience.options import HubOptions
from finale.core.ballot import BallotPolicy, Credential
from finale.core.model import Round
from finale.core.poll import Arrival, Ballot

if TYPE_CHECKING:
    from audience.handlers import Client

log = logging.getLogger("finale.hub")
Cast = tuple[Round | None, Ballot, Credential, str, BallotPolicy, Answer]  # what BallotBox.post is given
FAULT: Refusal = ("unavailable", "the hub could not take your vote just now; it will be resent")


class VoteHandlers:
    """Audience votes, and the frames answered as soon as they are read."""

    # set by Hub.__init__
    options: HubOptions
    ballots: BallotBox | None
    inline_box: SqliteBallotBox | None = None  # the one-hub box (set by Hub.start): takes a vote without awaiting
    answered_inline = 0  # frames taken as soon as they were read (answered, or refused), for /healthz and the bench
    snap: state.Snapshot | None
    heartbeat: Heartbeat

    if TYPE_CHECKING:  # defined by HubHandlers
        def _refused_by_limits(self, c: Client) -> bool: ...
        def _close_soon(self, c: Client, code: int, reason: str) -> None: ...

    def _inline(self, c: Client, raw: str) -> bool:
        """Answer an audience phone's ping or vote the moment its frame is read (audience.connection.HubConnection).

        Only when nothing of this connection is waiting in the handler task (so frames keep their
        order), for a frame that parses as a ping or, on the one-hub path, a vote: the same steps
        as `_on_frame`, the rate limits first. False: the frame goes to the handler task instead.
        """
        ws = c.ws
        if c.closing:  # the hub is closing it (a flood, a fault): what else it sends is dropped
            return True
        if c.busy or c.unanswered or c.role != "audience" or not isinstance(ws, HubConnection) \
                or ws.queued != c.taken:
            return False
        try:
            msg = protocol.parse(raw, protocol.frame_limit(c.role))
        except Exception:  # ProtocolError, or a fault: the handler task says so, or closes 1011, as for any frame
            return False
        answerable = isinstance(msg, protocol.Ping) or (isinstance(msg, protocol.Vote) and self.inline_box is not None)
        if not answerable:
            return False
        self.answered_inline += 1
        try:
            if self._refused_by_limits(c):
                return True
            if isinstance(msg, protocol.Vote):
                self._vote_inline(c, msg)
            elif isinstance(msg, protocol.Ping):
                self._tell(c, protocol.pong(msg.t, time.time()))
        except Exception:  # a bug here must not break websockets' reading: close, and the page reconnects and resends
            log.exception("answering a frame inline failed; closing the connection (1011)")
            self._close_soon(c, 1011, "internal error; reconnect")
        return True

    def _tell(self, c: Client, message: dict[str, Any]) -> None:
        """Write a small answer (an ack, a refusal, a pong) now, without a send coroutine; nothing if closed."""
        broadcast((c.ws,), protocol.encode(message))

    async def _vote(self, c: Client, msg: protocol.Vote) -> None:
        cast = self._cast_of(c, msg)
        if cast is not None:
            assert self.ballots is not None
            try:
                await self.ballots.post(*cast)  # the core's rule, then stored; answered once stored
            except Exception:
                cast[-1](FAULT)  # never leave a vote unanswered: the frames behind it wait for its answer
                raise

    def _vote_inline(self, c: Client, msg: protocol.Vote) -> None:
        """`_vote` on the one-hub path, without awaiting (the box answers when the vote's batch commits)."""
        cast = self._cast_of(c, msg)
        if cast is not None:
            assert self.inline_box is not None
            try:
                self.inline_box.offer(*cast)
            except Exception:
                cast[-1](FAULT)
                raise

    def _cast_of(self, c: Client, msg: protocol.Vote) -> Cast | None:
        """What the ballot box is given for this vote; None (and the phone told why) when it has no credential."""
        now = time.time()  # when the hub read it; the phone's cast time counts only across a stall (core.poll)
        arrival = None if msg.cast_at is None else \
            Arrival(msg.cast_at, self.heartbeat.before(now, msg.cast_at), self.options.late_grace_s)
        voter = c.voter
        if voter is None:  # votes are keyed by the hub's credential, never by what the client calls itself
            why_not = c.no_voter[1] if c.no_voter else "it said hello without one"
            self._tell(c, protocol.error("no_credential", f"this phone has no voter credential ({why_not}); this "
                                         "vote was not counted", msg.id))
            return None
        policy = self.snap.event.ballot if self.snap else BallotPolicy()
        shown = self.snap.round if self.snap else None
        c.unanswered += 1
        return (shown, Ballot(msg.round, msg.label, msg.id, now, arrival), voter, c.origin or "", policy,
                partial(self._answer_vote, c, msg))

    def _answer_vote(self, c: Client, msg: protocol.Vote, why: Refusal | None) -> None:
        """The vote's ack, or the refusal that says why not: written at once, with no task per vote."""
        c.vote_answered()
        if why is None:
            broadcast((c.ws,), protocol.vote_ack(msg.id, msg.round, msg.label), text=True)
        else:
            self._tell(c, protocol.error(why[0], why[1], msg.id))
