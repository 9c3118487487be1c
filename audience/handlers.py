"""What the hub does with each WebSocket: hello and roles, the rate limits, and each message a client may send.

A mixin of `Hub` (audience.server), kept apart so the server module holds only the
lifecycle, the HTTP side and the state flow. A panel score or a settings change
is checked here against the core's rules and then written through the store,
which asks the same rules again inside its transaction; votes, and the frames
answered as soon as they are read, are audience.vote_handler's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from audience import protocol, state
from audience.ballot_box import BallotBox
from audience.connection import HubConnection
from audience.health import WriteHealth
from audience.heartbeat import Heartbeat
from audience.options import HubOptions
from audience.pages import TokenGuard
from audience.questions_handler import QuestionHandlers
from audience.ratelimit import ConnectionCounter, TokenBucket
from audience.vote_handler import VoteHandlers
from audience.voters import VoterDesk
from finale.core.ballot import BallotPolicy, Credential
from finale.core.forwarded import Network, client_address
from finale.core.model import PanelScore
from finale.core.panel import panel_score_refusal
from finale.core.show import finalist_for_label
from finale.core.tuning import SettingsError
from finale.store import DatabaseError, Store, StoreError

T = TypeVar("T")
# A connection refused this many messages within REFUSAL_WINDOW_S is closed (1008): it is a flood, not a phone.
MAX_REFUSALS = 50
REFUSAL_WINDOW_S = 10.0


@dataclass(eq=False)
class Client:
    """One open WebSocket and who it said it is."""

    ws: ServerConnection
    address: str
    opened: float = field(default_factory=time.monotonic)
    role: str | None = None
    device_id: str | None = None
    who: str | None = None  # panelist or finalist id
    refusals: list[float] = field(default_factory=list)
    voter: Credential | None = None  # the audience phone's verified or newly issued credential (audience.voters)
    origin: str | None = None  # the keyed hash of `address` its votes are stored under
    no_voter: tuple[str, str] | None = None  # why this phone has no credential: the code and message its votes get
    taken: int = 0  # messages the handler task has read from websockets' queue (HubConnection.queued: put there)
    busy: bool = False  # the handler task is handling one: later frames wait their turn in the queue
    closing: bool = False  # the hub has started to close it (a flood, 1008; a fault, 1011)
    unanswered: int = 0  # votes given to the ballot box and not answered yet: later frames are answered after them
    _answered: asyncio.Event | None = None

    def vote_answered(self) -> None:
        """One of its votes is answered (acknowledged or refused)."""
        self.unanswered = max(0, self.unanswered - 1)  # a vote answered twice (a fault path) must not block the rest
        if not self.unanswered and self._answered is not None:
            self._answered.set()

    async def answered_all(self) -> None:
        """Wait until every vote it sent so far is answered, or the connection is gone (the rare frame that
        follows a vote in flight)."""
        while self.unanswered > 0 and self.ws.state is not State.CLOSED:
            self._answered = answered = asyncio.Event()
            waits = {asyncio.ensure_future(answered.wait()), asyncio.ensure_future(self.ws.wait_closed())}
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
        self._answered = None


def peer_address(connection: ServerConnection, proxies: Sequence[Network] = ()) -> str:
    """The client's IP address as the rate limits and the connection counter key it: the TCP peer, or
    whom a trusted load balancer says it forwarded (finale.core.forwarded)."""
    remote = connection.remote_address
    peer = str(remote[0]) if remote else "unknown"
    if not proxies or connection.request is None:
        return peer
    return client_address(peer, connection.request.headers.get_all("X-Forwarded-For"), proxies)


class HubHandlers(QuestionHandlers, VoteHandlers):
    """The per-connection and per-message half of `Hub`: who is connected, and what their messages do."""

    # set by Hub.__init__
    options: HubOptions
    ballots: BallotBox | None
    device_limit: TokenBucket
    ip_limit: TokenBucket
    counter: ConnectionCounter
    guard: TokenGuard
    proxies: tuple[Network, ...]
    audience: set[Client]
    stage: set[Client]
    judges: dict[str, set[Client]]
    finalists: dict[str, set[Client]]
    pending: set[Client]
    _closing: set[asyncio.Task[None]]
    snap: state.Snapshot | None
    write_health: WriteHealth
    frozen_stage: dict[str, Any] | None
    heartbeat: Heartbeat
    voters: VoterDesk

    if TYPE_CHECKING:  # defined by Hub (audience.server): the store threads, the token lookup, the stage tally
        @property
        def store_w(self) -> Store: ...
        @property
        def private_pages(self) -> bool: ...
        async def _read(self, fn: Callable[..., T], *args: Any) -> T: ...
        async def _write(self, fn: Callable[..., T], *args: Any) -> T: ...
        def _token_owner(self, table: str, token: str) -> str | None: ...
        async def _send_tally(self, clients: set[Client], force: bool = False) -> None: ...

    # -- connections ----------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        client = Client(ws, peer_address(ws, self.proxies))
        self.counter.add(client.address)
        self.pending.add(client)
        if isinstance(ws, HubConnection):
            ws.inline = partial(self._inline, client)
        try:
            async for raw in ws:
                client.taken += 1
                if client.closing:  # being closed by the hub (a flood, a fault): the rest is dropped
                    continue
                client.busy = True
                try:
                    if client.unanswered:  # answers go out in the order of the frames
                        await client.answered_all()
                    await self._on_frame(client, raw)
                finally:
                    client.busy = False
        except ConnectionClosed:
            pass
        finally:
            if isinstance(ws, HubConnection):
                ws.inline = None
            self.counter.remove(client.address)
            self._forget(client)

    def _forget(self, c: Client) -> None:
        self.pending.discard(c)
        self.audience.discard(c)
        self.stage.discard(c)
        for groups in (self.judges, self.finalists):
            if c.who in groups:
                groups[c.who].discard(c)
                if not groups[c.who]:
                    del groups[c.who]

    async def _send(self, c: Client, message: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):
            await c.ws.send(protocol.encode(message))

    async def _refuse(self, c: Client, code: str, message: str, msg_id: str | None = None) -> None:
        await self._send(c, protocol.error(code, message, msg_id))

    def _allowed(self, c: Client) -> bool:
        device_ok = self.device_limit.allow(c.device_id or f"conn:{id(c)}")
        return device_ok and self.ip_limit.allow(c.address)

    def _refused_by_limits(self, c: Client) -> bool:
        """Over the device's or the address's rate: refused (said so), and a flood's connection closed (1008)."""
        if self._allowed(c):
            return False
        now = time.monotonic()
        c.refusals = [t for t in c.refusals if now - t < REFUSAL_WINDOW_S] + [now]
        if len(c.refusals) > MAX_REFUSALS:
            self._close_soon(c, 1008, "rate limit exceeded")
            return True
        self._tell(c, protocol.error("rate_limited", "too many messages; at most "
                                     f"{self.options.device_messages_per_s:g} per second per device; slow down "
                                     "and resend"))
        return True

    def _close_soon(self, c: Client, code: int, reason: str) -> None:
        """Start closing the connection (once), in a task: the close waits for the peer, the caller must not."""
        if c.closing:
            return
        c.closing = True
        task = asyncio.get_running_loop().create_task(c.ws.close(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _on_frame(self, c: Client, raw: str | bytes) -> None:
        if self._refused_by_limits(c):
            return
        try:
            msg = protocol.parse(raw, protocol.frame_limit(c.role))
        except protocol.ProtocolError as exc:
            if exc.wrong_token and c.role is None:  # a token that is not even text is a wrong one
                self.guard.wrong(c.address, "token on the WebSocket (not valid text)")
            await self._refuse(c, exc.code, exc.message, exc.msg_id)
            return
        if isinstance(msg, protocol.Ping):
            await self._send(c, protocol.pong(msg.t, time.time()))
        elif isinstance(msg, protocol.Hello):
            await self._hello(c, msg)
        elif c.role is None:
            await self._refuse(c, "hello_first", "send hello (role, device_id) before anything else")
        elif type(msg).__name__.lower() not in protocol.ALLOWED[c.role]:
            await self._refuse(c, "not_allowed", f"the {c.role} role cannot send {type(msg).__name__.lower()}",
                               getattr(msg, "id", None))
        elif isinstance(msg, protocol.Vote):
            await self._vote(c, msg)
        elif isinstance(msg, protocol.Scores):
            await self._scores(c, msg)
        elif isinstance(msg, protocol.Settings):
            await self._settings(c, msg)
        elif isinstance(msg, protocol.Question):
            await self._question(c, msg)
        elif isinstance(msg, protocol.Upvote):
            await self._upvote(c, msg)

    async def _hello(self, c: Client, msg: protocol.Hello) -> None:
        if c.role is not None:
            await self._refuse(c, "bad_message", "hello was already sent on this connection")
            return
        who = None
        if msg.role in ("judge", "finalist") and not self.private_pages:
            await self._refuse(c, "wrong_hub", f"the {msg.role}s' private pages are served by the primary hub "
                               "(the one with the event database); open the link you were given")
            await c.ws.close(1008, "private pages are on the primary hub")
            return
        if msg.role in ("judge", "finalist"):
            table = "panelists" if msg.role == "judge" else "finalists"
            who = self._token_owner(table, msg.token or "")  # first: others' guesses never refuse a valid token
            if who is None:
                if self.guard.wrong(c.address, f"{msg.role} token on the WebSocket"):
                    await self._refuse(c, "rate_limited", "too many wrong links from this address; wait a minute "
                                       "and check the link you were given")
                    await c.ws.close(1008, "too many wrong links")
                else:
                    await self._refuse(c, "bad_token", "this private link is not valid; ask the organisers for yours")
                    await c.ws.close(1008, "invalid link")
                return
        c.role, c.device_id, c.who = msg.role, msg.device_id, who
        self.pending.discard(c)
        admitted = await self._admit(c, msg) if msg.role == "audience" else {}
        asked = self.snap.round.id if self.snap and self.snap.round else None
        if msg.role == "audience" and asked is not None and c.voter is not None and "my_vote" not in admitted:
            assert self.ballots is not None
            my_vote = await self.ballots.device_vote(asked, c.voter.voter_id)
            still = self.snap is not None and self.snap.round is not None and self.snap.round.id == asked
            admitted["my_vote"] = my_vote if still else None  # a round asked meanwhile has no vote of it yet
        # No await from here to the reply: a broadcast must not reach the client before its hello's answer
        # (the answer carries the phone's credential; a state broadcast does not).
        if msg.role == "audience":
            self.audience.add(c)
        elif msg.role == "stage":
            self.stage.add(c)
        elif msg.role == "judge" and who is not None:
            self.judges.setdefault(who, set()).add(c)
        elif who is not None:
            self.finalists.setdefault(who, set()).add(c)
        await self._send(c, {**self._view(c), **admitted, "server_time": time.time()})
        if msg.role == "stage":
            await self._send_tally({c}, force=True)

    def _view(self, c: Client) -> dict[str, Any]:
        assert self.snap is not None
        now = time.time()
        if c.role == "audience":
            return state.audience_view(self.snap, now)
        if c.role == "stage":  # during a freeze, the picture taken at the freeze (Hub.refresh keeps it)
            return self.frozen_stage or state.stage_view(self.snap, now, self._join_url(now))
        if c.role == "judge" and c.who:
            return state.judge_view(self.snap, c.who, now)
        assert c.who is not None
        return state.finalist_view(self.snap, c.who, now)

    def _join_url(self, now: float) -> str:
        """The join URL the stage shows now (with `voting.presence`, with the current join code)."""
        return self.voters.join_url(self.options.join_url, self.snap.event.ballot if self.snap else BallotPolicy(), now)

    def _join_qr(self, code: str) -> str | None:
        """The join URL a `/qr/<code>.svg` image encodes, when the code is a fresh one; else None (404)."""
        policy = self.snap.event.ballot if self.snap else BallotPolicy()
        fresh = self.voters.join_code_ok(code, policy)
        return self.voters.join_url_with(self.options.join_url, code) if fresh else None

    async def _admit(self, c: Client, msg: protocol.Hello) -> dict[str, Any]:
        """The phone's voter credential (kept, or issued under the layered limits) for its first state."""
        assert self.snap is not None
        admission = await self.voters.admit(c.address, msg.credential, msg.join, self.snap.event.ballot)
        c.voter, c.origin = admission.credential, self.voters.origin(c.address)
        c.no_voter = admission.error if admission.credential is None else None
        error = admission.error
        answer = {"credential": admission.token,
                  "credential_error": None if error is None else {"code": error[0], "message": error[1]}}
        if admission.new:  # minted just now, so it has no vote anywhere: no look-up (a hall of phones joins at once)
            answer["my_vote"] = None
        return answer

    # -- writes ---------------------------------------------------------------

    async def _scores(self, c: Client, msg: protocol.Scores) -> None:
        rnd = self.snap.round if self.snap else None
        fid = finalist_for_label(rnd.labels, msg.label) if rnd is not None else None
        refused = panel_score_refusal(rnd, msg.round, fid)
        if refused is not None or rnd is None or fid is None or c.who is None:
            code, message = refused or ("bad_label", "this answer is not in the round")
            await self._refuse(c, code, message, msg.id)
            return
        try:  # the store asks the same rule again inside its transaction
            await self._write(self.store_w.save_panel_score, PanelScore(rnd.id, fid, c.who, msg.scores),
                              f"judge:{c.who}")
        except StoreError as exc:
            await self._refuse(c, exc.code, str(exc), msg.id)
            return
        except (DatabaseError, OSError) as exc:  # the disk or the database failed: loud, and the page saves again
            self.write_health.failed("panel scores", exc)
            await self._refuse(c, "unavailable", "your scores could not be stored (the hub cannot write); "
                               "save them again in a moment", msg.id)
            return
        self.write_health.stored("panel scores")
        await self._send(c, protocol.ack(msg.id, round=rnd.id, label=msg.label, scores=msg.scores))

    async def _settings(self, c: Client, msg: protocol.Settings) -> None:
        assert c.who is not None
        try:
            saved = await self._write(self.store_w.save_settings, c.who, msg.system_prompt, msg.temperature,
                                      msg.max_tokens, f"finalist:{c.who}")
        except SettingsError as exc:
            await self._refuse(c, "bad_settings", str(exc), msg.id)
            return
        except StoreError as exc:
            await self._refuse(c, "locked", str(exc), msg.id)
            return
        except (DatabaseError, OSError) as exc:
            self.write_health.failed("finalists' settings", exc)
            await self._refuse(c, "unavailable", "your settings could not be stored (the hub cannot write); "
                               "save them again in a moment", msg.id)
            return
        self.write_health.stored("finalists' settings")
        await self._send(c, protocol.ack(msg.id, version=saved.version))

