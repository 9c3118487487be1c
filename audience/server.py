"""The audience hub: a websockets server that phones, panel judges, finalists and the stage connect to.

Runs in its own process (`finale hub`), shares only the SQLite store with the
console. It writes votes (through the single batch writer), panel scores and
finalists' prompt settings; it learns of the console's commits by polling
`PRAGMA data_version` every 50 ms and then re-reading the show. Store calls run
in two dedicated threads (one reader, one writer, each with its own
connection) so the event loop never waits on the disk. See PROTOCOL.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Origin

from audience import protocol, state
from audience.broadcast import broadcast_sliced
from audience.pages import Pages, TokenGuard, text_response
from audience.ratelimit import ConnectionCounter, TokenBucket
from audience.writer import VoteWriter
from finale.config import EventConfig
from finale.core.model import PanelScore
from finale.core.panel import panel_score_refusal
from finale.core.poll import MAY_BE_REPLAY, Ballot, VoteOutcome, decide_vote, voting_open
from finale.core.show import finalist_for_label
from finale.core.tuning import SettingsError
from finale.store import ChangeWatcher, Store, StoreError, VoteIn

log = logging.getLogger("finale.hub")
T = TypeVar("T")
WS_PATH = "/ws"
# A connection refused this many messages within REFUSAL_WINDOW_S is closed (1008): it is a flood, not a phone.
MAX_REFUSALS = 50
REFUSAL_WINDOW_S = 10.0


@dataclass(frozen=True)
class HubOptions:
    """How the hub listens and what it tolerates; defaults suit a venue of a few thousand phones."""

    host: str = "127.0.0.1"
    port: int = 8765
    public_url: str = "http://127.0.0.1:8765"
    allowed_origins: tuple[str, ...] = ()
    max_connections_per_ip: int = 2000
    device_messages_per_s: float = 5.0
    ip_messages_per_s: float = 2000.0
    token_tries_per_min: int = 10
    max_size: int = 32 * 1024
    ping_interval: float = 10.0
    ping_timeout: float = 10.0
    poll_interval: float = 0.05
    tally_interval: float = 0.25
    hello_timeout: float = 15.0

    @classmethod
    def from_config(cls, config: EventConfig, *, host: str | None = None, port: int | None = None,
                    public_url: str | None = None) -> HubOptions:
        """The event file's [hub] section, with command-line overrides."""
        h = config.hub
        return cls(host=host or h.host, port=port if port is not None else h.port,
                   public_url=public_url or config.event.public_url, allowed_origins=h.allowed_origins,
                   max_connections_per_ip=h.max_connections_per_ip, device_messages_per_s=h.device_messages_per_s,
                   ip_messages_per_s=h.ip_messages_per_s, token_tries_per_min=h.token_tries_per_min)

    @property
    def join_url(self) -> str:
        return self.public_url.rstrip("/") + "/"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allowed_origins(options: HubOptions, port: int) -> list[Origin | None]:
    """The public URL's origin, the listening host:port itself, and the configured extras.

    `None` (no Origin header) is accepted: browsers always send one, so only
    non-browser clients omit it, and they could forge any value anyway.
    """
    hosts = {options.host}
    if options.host in ("127.0.0.1", "localhost", "0.0.0.0", "::"):
        hosts |= {"127.0.0.1", "localhost"}
    found: list[Origin | None] = [Origin(_origin(options.public_url))]
    found += [Origin(f"{scheme}://{h}:{port}") for h in sorted(hosts) for scheme in ("http", "https")]
    found += [Origin(o.rstrip("/")) for o in options.allowed_origins]
    return [*dict.fromkeys(found), None]


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


class Hub:
    """The running hub: connections by role, the store threads, the watcher, the writer and the tally."""

    def __init__(self, db_path: str | Path, options: HubOptions) -> None:
        self.db_path = Path(db_path)
        self.options = options
        self.reader_pool = ThreadPoolExecutor(1, thread_name_prefix="hub-read")
        self.writer_pool = ThreadPoolExecutor(1, thread_name_prefix="hub-write")
        self.store_r = Store(self.db_path)
        self.store_w = Store(self.db_path)
        self.watcher = ChangeWatcher(self.db_path)
        self.writer = VoteWriter(self.store_w, self.writer_pool)
        self.device_limit = TokenBucket(options.device_messages_per_s, options.device_messages_per_s * 4)
        self.ip_limit = TokenBucket(options.ip_messages_per_s, options.ip_messages_per_s * 4)
        self.counter = ConnectionCounter(options.max_connections_per_ip)
        self.guard = TokenGuard(options.token_tries_per_min)
        self.audience: set[Client] = set()
        self.stage: set[Client] = set()
        self.judges: dict[str, set[Client]] = {}
        self.finalists: dict[str, set[Client]] = {}
        self.pending: set[Client] = set()
        self.snap: state.Snapshot | None = None
        self.change_filter = state.ChangeFilter()
        self.refreshes = 0
        self._last: dict[str, str] = {}
        self._last_tally: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self.server: Server | None = None
        self.pages = Pages(options.join_url, self._token_owner, self.guard, self.health)
        self.longest_broadcast_slice_s = 0.0
        self._origins: list[Origin | None] = []

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        """Read the show, start listening, start the writer, watcher and tally tasks."""
        await self._read(self.change_filter.relevant, self.store_r)
        await self.refresh()
        self.server = await serve(
            self._handler, self.options.host, self.options.port, process_request=self._process_request,
            compression=None, max_size=self.options.max_size, max_queue=8, ping_interval=self.options.ping_interval,
            ping_timeout=self.options.ping_timeout, close_timeout=2, server_header="finale-hub",
        )
        self._origins = allowed_origins(self.options, self.port)  # needs the bound port (0 picks one)
        for coro in (self.writer.run(), self._watch(), self._tally()):
            self._tasks.append(asyncio.create_task(coro))
        log.info("hub listening on %s:%d, join URL %s", self.options.host, self.port, self.options.join_url)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close every connection (1001 going away), stop the tasks, close the store."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.reader_pool.shutdown(wait=True)
        self.writer_pool.shutdown(wait=True)
        self.watcher.close()
        self.store_r.close()
        self.store_w.close()

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.reader_pool, fn, *args)

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.writer_pool, fn, *args)

    def health(self) -> dict[str, Any]:
        """What /healthz reports: enough for a supervisor and a curious organiser, no secrets."""
        rnd = self.snap.round if self.snap else None
        s = self.writer.stats
        return {"ok": True, "round": rnd.id if rnd else None, "phase": rnd.phase.value if rnd else None,
                "connections": self.counter.total(), "audience": len(self.audience), "stage": len(self.stage),
                "votes_committed": s.votes, "batches": s.batches, "largest_batch": s.largest_batch,
                "slowest_commit_ms": round(s.slowest_commit_ms, 2), "queued_votes": self.writer.pending(),
                "longest_broadcast_slice_ms": round(self.longest_broadcast_slice_s * 1000, 2)}

    # -- HTTP -----------------------------------------------------------------

    def _token_owner(self, table: str, token: str) -> str | None:
        return self.snap.token_owner(table, token) if self.snap else None

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        address = _address(connection)
        if path != WS_PATH:
            return self.pages.respond(path, address)
        origin = request.headers.get("Origin")
        if origin not in self._origins:
            log.warning("refused a WebSocket from origin %r", origin)
            return text_response(HTTPStatus.FORBIDDEN, f"origin {origin} is not allowed; open the page from "
                                 f"{self.options.join_url}")
        if self.counter.full(address):
            return text_response(HTTPStatus.SERVICE_UNAVAILABLE, "too many connections from this address; "
                                 "try again shortly")
        return None

    # -- connections ----------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        client = Client(ws, _address(ws))
        self.counter.add(client.address)
        self.pending.add(client)
        try:
            async for raw in ws:
                await self._on_frame(client, raw)
        except ConnectionClosed:
            pass
        finally:
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

    async def _on_frame(self, c: Client, raw: str | bytes) -> None:
        if not self._allowed(c):
            now = time.monotonic()
            c.refusals = [t for t in c.refusals if now - t < REFUSAL_WINDOW_S] + [now]
            if len(c.refusals) > MAX_REFUSALS:
                await c.ws.close(1008, "rate limit exceeded")
                return
            await self._refuse(c, "rate_limited", f"too many messages; at most {self.options.device_messages_per_s:g}"
                               " per second per device; slow down and resend")
            return
        try:
            msg = protocol.parse(raw, protocol.frame_limit(c.role))
        except protocol.ProtocolError as exc:
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

    async def _hello(self, c: Client, msg: protocol.Hello) -> None:
        if c.role is not None:
            await self._refuse(c, "bad_message", "hello was already sent on this connection")
            return
        who = None
        if msg.role in ("judge", "finalist"):
            table = "panelists" if msg.role == "judge" else "finalists"
            if self.guard.blocked(c.address):
                await self._refuse(c, "rate_limited", "too many wrong links from this address; wait a minute")
                await c.ws.close(1008, "too many wrong links")
                return
            who = self._token_owner(table, msg.token or "")
            if who is None:
                self.guard.failed(c.address, f"{msg.role} token on the WebSocket")
                await self._refuse(c, "bad_token", "this private link is not valid; ask the organisers for yours")
                await c.ws.close(1008, "invalid link")
                return
        c.role, c.device_id, c.who = msg.role, msg.device_id, who
        self.pending.discard(c)
        if msg.role == "audience":
            self.audience.add(c)
        elif msg.role == "stage":
            self.stage.add(c)
        elif msg.role == "judge" and who is not None:
            self.judges.setdefault(who, set()).add(c)
        elif who is not None:
            self.finalists.setdefault(who, set()).add(c)
        view = self._view(c)
        if msg.role == "audience" and self.snap and self.snap.round:
            view["my_vote"] = await self._read(self.store_r.device_vote, self.snap.round.id, msg.device_id)
        await self._send(c, {**view, "server_time": time.time()})
        if msg.role == "stage":
            await self._send_tally({c}, force=True)

    def _view(self, c: Client) -> dict[str, Any]:
        assert self.snap is not None
        now = time.time()
        if c.role == "audience":
            return state.audience_view(self.snap, now)
        if c.role == "stage":
            return state.stage_view(self.snap, now, self.options.join_url)
        if c.role == "judge" and c.who:
            return state.judge_view(self.snap, c.who, now)
        assert c.who is not None
        return state.finalist_view(self.snap, c.who, now)

    # -- writes ---------------------------------------------------------------

    async def _vote(self, c: Client, msg: protocol.Vote) -> None:
        rnd = self.snap.round if self.snap else None
        now = time.time()
        ballot = Ballot(msg.round, msg.label, msg.id, now)
        decision = decide_vote(rnd, ballot)
        if decision.code in MAY_BE_REPLAY and c.device_id is not None:
            # a resend of a vote stored before the close (or the pause), whose ack was lost
            decision = decide_vote(rnd, ballot, await self._read(self.store_r.counted_vote, msg.round, c.device_id))
        why = decision.refusal
        if decision.outcome is VoteOutcome.ACCEPT and rnd is not None and c.device_id is not None:
            why = await self.writer.submit(VoteIn(rnd.id, c.device_id, msg.label, msg.id, now))
        if why is not None:
            await self._refuse(c, why[0], why[1], msg.id)
            return
        await self._send(c, protocol.ack(msg.id, round=msg.round, label=msg.label))

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
        await self._send(c, protocol.ack(msg.id, version=saved.version))

    # -- state flow -----------------------------------------------------------

    async def refresh(self) -> None:
        """Re-read the show and send each role its state if (and only if) it changed."""
        self.snap = await self._read(state.read_snapshot, self.store_r)
        self.refreshes += 1
        now = time.time()
        groups: list[tuple[str, set[Client], Callable[[state.Snapshot], dict[str, Any]]]] = [
            ("audience", self.audience, lambda s: state.audience_view(s, now)),
            ("stage", self.stage, lambda s: state.stage_view(s, now, self.options.join_url)),
        ]
        for pid, clients in self.judges.items():
            groups.append((f"judge:{pid}", clients, lambda s, p=pid: state.judge_view(s, p, now)))  # type: ignore[misc]
        for fid, clients in self.finalists.items():
            groups.append((f"finalist:{fid}", clients, lambda s, f=fid: state.finalist_view(s, f, now)))  # type: ignore[misc]
        stage_frozen = bool(self.snap.switches.frozen)
        for key, clients, view_of in groups:
            if key == "stage" and stage_frozen:
                continue  # a frozen stage keeps what it shows; it catches up when unfrozen
            view = view_of(self.snap)
            fingerprint = protocol.encode(view)
            if self._last.get(key) == fingerprint:
                continue
            self._last[key] = fingerprint
            if clients:
                frame = protocol.encode({**view, "server_time": now})
                slice_s = await broadcast_sliced([c.ws for c in list(clients)], frame)
                self.longest_broadcast_slice_s = max(self.longest_broadcast_slice_s, slice_s)

    async def _watch(self) -> None:
        """Notice other connections' commits (and the poll's deadline passing) within one poll interval."""
        was_open = voting_open(self.snap.round if self.snap else None, time.time())
        while True:
            await asyncio.sleep(self.options.poll_interval)
            try:
                changed = await self._read(self._changed)
                is_open = voting_open(self.snap.round if self.snap else None, time.time())
                if changed or is_open != was_open:
                    await self.refresh()
                    was_open = voting_open(self.snap.round if self.snap else None, time.time())
                await self._drop_silent()
            except Exception:  # keep watching whatever one refresh hit; the next one retries
                log.exception("state refresh failed")

    def _changed(self) -> bool:
        """In the reader thread: another connection committed something the pages show."""
        return self.watcher.changed() and self.change_filter.relevant(self.store_r)

    async def _drop_silent(self) -> None:
        limit = self.options.hello_timeout
        now = time.monotonic()
        for c in [c for c in self.pending if now - c.opened > limit]:
            self.pending.discard(c)
            task = asyncio.create_task(c.ws.close(1008, "no hello"))  # closing waits; the watcher must not
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _send_tally(self, clients: set[Client], force: bool = False) -> None:
        snap = self.snap
        if not clients or snap is None or snap.round is None or state.results_hidden(snap) \
                or (snap.switches.frozen and not force):
            return
        counts = await self._read(self.store_r.vote_labels, snap.round.id)
        frame = protocol.encode(state.tally_view(snap.round, counts))
        if force or frame != self._last_tally:
            if not force:
                self._last_tally = frame
            await broadcast_sliced([c.ws for c in clients], frame)

    async def _tally(self) -> None:
        """The stage's vote bars, at most once per tally interval (4 per second), only when they change."""
        while True:
            await asyncio.sleep(self.options.tally_interval)
            try:
                await self._send_tally(set(self.stage))
            except Exception:
                log.exception("tally failed")


def _address(connection: ServerConnection) -> str:
    remote = connection.remote_address
    return str(remote[0]) if remote else "unknown"


async def run_hub(db_path: str | Path, options: HubOptions, ready: Callable[[Hub], None] | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then close connections cleanly."""
    hub = Hub(db_path, options)
    await hub.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready(hub)
    try:
        await stop.wait()
    finally:
        await hub.stop()
