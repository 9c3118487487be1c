"""The audience hub: a websockets server that phones, panel judges, finalists and the stage connect to.

Runs in its own process (`finale hub`), shares only the SQLite store with the
console. It writes votes (through the single batch writer), panel scores and
finalists' prompt settings; it learns of the console's commits by polling
`PRAGMA data_version` every 50 ms and then re-reading the show. Store calls run
in two dedicated threads (one reader, one writer, each with its own
connection) so the event loop never waits on the disk. See PROTOCOL.md.

This module holds the lifecycle, the HTTP side and the state flow; what each
connection and message does is in audience.handlers, the options and allowed
origins in audience.options (HubOptions is re-exported here).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar

from redis.exceptions import RedisError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Origin

from audience import capacity, protocol, state
from audience.ballot_box import BallotBox, SqliteBallotBox
from audience.broadcast import Outbox, broadcast_sliced
from audience.cancellation import cancel_and_wait, checkpoint
from audience.connection import connection_class
from audience.gcpolicy import report as gc_report
from audience.handlers import Client, HubHandlers, peer_address
from audience.health import WriteHealth
from audience.heartbeat import Heartbeat
from audience.looplag import LoopLag
from audience.options import HubOptions, allowed_origins
from audience.pages import Pages, TokenGuard, text_response
from audience.ratelimit import ConnectionCounter, TokenBucket
from audience.scale.node import ScaleNode
from audience.voters import Issued, VoterDesk
from audience.writer import VoteWriter, WriterStats
from finale.core.forwarded import trusted_networks, unforwarded
from finale.core.model import Phase
from finale.core.poll import voting_open
from finale.hub_port import file_id
from finale.store import ChangeWatcher, Store

__all__ = ["Hub", "HubOptions", "run_hub"]

log = logging.getLogger("finale.hub")
T = TypeVar("T")
WS_PATH = "/ws"
FOLLOW_S = 0.5  # a node reads the published show's version at least this often, nudged or not


class Hub(HubHandlers):
    """The running hub: connections by role, the store threads, the watcher, the writer and the tally."""

    def __init__(self, db_path: str | Path | None, options: HubOptions) -> None:
        if db_path is None and options.redis_url is None:
            raise ValueError("a hub needs the event database, or a Redis to follow the show on (redis_url)")
        self.db_path = Path(db_path) if db_path is not None else None
        self.options = options
        self.reader_pool = ThreadPoolExecutor(1, thread_name_prefix="hub-read")
        self.writer_pool = ThreadPoolExecutor(1, thread_name_prefix="hub-write")
        # the primary hub has the database: it reads the show from it and serves the private pages; a node
        # without one serves phones and stages from the show published on Redis (audience.scale)
        self._store_r = Store(self.db_path) if self.db_path else None
        self._store_w = Store(self.db_path) if self.db_path else None
        self.watcher = ChangeWatcher(self.db_path) if self.db_path else None
        self.scale = ScaleNode(options.redis_url, options.event_id) if options.redis_url else None
        self.write_health = WriteHealth()  # what cannot be stored now: /healthz not ok, one log line per interval
        self.writer = VoteWriter(self._store_w, self.writer_pool, health=self.write_health) \
            if self._store_w is not None and self.scale is None else None
        self.ballots: BallotBox | None = None  # set at start: SQLite (the writer) or Redis (the node's box)
        self.device_limit = TokenBucket(options.device_messages_per_s, options.device_messages_per_s * 4)
        self.ip_limit = TokenBucket(options.ip_messages_per_s, options.ip_messages_per_s * 4)
        self.counter = ConnectionCounter(options.max_connections_per_ip)
        self.guard = TokenGuard(options.token_tries_per_min)
        self.proxies = trusted_networks(options.trusted_proxies)  # BadProxy names a bad entry before we listen
        self._said_unforwarded = False
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
        self._stage_shown: dict[str, Any] | None = None  # the stage view the stage pages show now
        self.frozen_stage: dict[str, Any] | None = None  # taken at the freeze; every stage that connects gets it
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self.server: Server | None = None
        self.voters = VoterDesk(b"", self._record_credentials)  # its secret is read at start
        self.pages = Pages(options.join_url, self._token_owner, self.guard, self.health, join_qr=self._join_qr)
        self.longest_broadcast_slice_s = 0.0
        self.outbox = Outbox(options.slow_reader_s)  # the newest frame owed to each connection behind (slow readers)
        self.lag = LoopLag()  # the loop's own stalls, per second, for /healthz and bench/hub_churn.py
        self._origins: list[Origin | None] = []
        self.heartbeat = Heartbeat(options.down_since, options.late_grace_s)
        self.served = file_id(self.db_path) if self.db_path else None  # (device, inode) of the file opened
        self.event_id: str | None = None
        self._followed = 0.0

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        """Read the show, start listening, start the writer, watcher and tally tasks."""
        self._tasks.append(asyncio.create_task(self.heartbeat.run()))
        self._tasks.append(asyncio.create_task(self.lag.run()))
        if self._store_r is not None:
            store_r = self._store_r
            self.event_id = await self._read(store_r.event_id)
            if self.event_id is not None:  # the event file's languages and wording for the pages
                self.pages.use_pages(await self._read(lambda: store_r.event_config().pages))
            self.voters.use_secret(await self._read(store_r.voter_secret))
            await self._read(self.change_filter.relevant, store_r)
        if self.scale is not None:  # a primary announces the event on Redis; a node learns it from there
            known = (self.event_id, await self._read(self.store_r.voter_secret)) \
                if self.event_id is not None and self._store_r is not None else None
            self.voters.use_secret(await self.scale.start(known=known))
            self.event_id = self.scale.event_id
            pages = await self.scale.pages() if self._store_r is None else None
            if pages is not None:  # a node without the database: the event's languages and wording from Redis
                self.pages.use_pages(pages)
            for coro in (self.scale.run(self._phones), self.scale.listen()):
                self._tasks.append(asyncio.create_task(coro))
        if self.scale is not None:
            self.ballots = self.scale.box
            self.voters.shared_rate = self.scale.take_credential_token  # one new-credential rate for every node
        else:
            assert self._store_r is not None and self.writer is not None
            self.ballots = self.inline_box = SqliteBallotBox(self._store_r, self.reader_pool, self.writer, self.voters)
        await self.refresh()
        self.server = await serve(
            self._handler, self.options.host, self.options.port, process_request=self._process_request,
            compression=None, max_size=self.options.max_size, max_queue=8, ping_interval=self.options.ping_interval,
            ping_timeout=self.options.ping_timeout, close_timeout=2, server_header="finale-hub",
            create_connection=connection_class(self.options.send_buffer), write_limit=self.options.write_limit,
        )
        self._origins = allowed_origins(self.options, self.port)  # needs the bound port (0 picks one)
        for coro in (self._watch(), self._tally(), *([self.writer.run()] if self.writer else [])):
            self._tasks.append(asyncio.create_task(coro))
        log.info("hub listening on %s:%d, join URL %s", self.options.host, self.port, self.options.join_url)
        if self.proxies:
            log.info("phones' addresses are the X-Forwarded-For of %s (trusted proxies)",
                     ", ".join(str(n) for n in self.proxies))

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close every connection (1001 going away), stop the tasks, close the store."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        await cancel_and_wait(self._tasks, "the hub")
        await self.voters.close()
        self.reader_pool.shutdown(wait=True)
        self.writer_pool.shutdown(wait=True)
        if self.watcher is not None:
            self.watcher.close()
        for store in (self._store_r, self._store_w):
            if store is not None:
                store.close()
        if self.scale is not None:
            await self.scale.close()

    @property
    def store_r(self) -> Store:
        """The reading connection (the primary hub's; a node without the database has none)."""
        assert self._store_r is not None, "this hub node has no database"
        return self._store_r

    @property
    def store_w(self) -> Store:
        """The writing connection (panel scores, finalists' settings, votes on the one-hub path)."""
        assert self._store_w is not None, "this hub node has no database"
        return self._store_w

    @property
    def private_pages(self) -> bool:
        """Whether this hub serves the panel judges' and finalists' pages (only the one with the database)."""
        return self._store_w is not None

    def _phones(self) -> tuple[int, int]:
        return len(self.audience), len(self.stage)

    async def _record_credentials(self, issued: Issued) -> None:
        if self.scale is not None:
            await self.scale.record_credentials(issued)
        else:
            await self._write(self.store_w.record_credentials, issued)

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.reader_pool, fn, *args)

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.writer_pool, fn, *args)

    def health(self) -> dict[str, Any]:
        """What /healthz reports: enough for a supervisor and a curious organiser, no secrets.

        `ok` is false while something cannot be stored (`problems` says what and why): the hub
        answers, but phones' votes are refused until the write works again.
        """
        rnd = self.snap.round if self.snap else None
        s = self.writer.stats if self.writer else WriterStats(votes=self.scale.box.votes if self.scale else 0)
        problems = self.write_health.problems() + (self.scale.problems() if self.scale else [])
        files = capacity.current()
        return {"ok": not problems, "problems": problems, "failing": self.write_health.report(),
                "open_files_limit": files.soft, "phone_capacity": files.phones,
                "round": rnd.id if rnd else None, "phase": rnd.phase.value if rnd else None,
                "connections": self.counter.total(), "audience": len(self.audience), "stage": len(self.stage),
                "votes_committed": s.votes, "batches": s.batches, "largest_batch": s.largest_batch,
                "slowest_commit_ms": round(s.slowest_commit_ms, 2), "writer_by_second": s.by_second(),
                "queued_votes": self.writer.pending() if self.writer else 0, "answered_inline": self.answered_inline,
                "longest_broadcast_slice_ms": round(self.longest_broadcast_slice_s * 1000, 2),
                "loop": self.lag.report(), "gc": gc_report(), "slow_readers": self.outbox.report(),
                "heartbeat": self.heartbeat.last, "database": self.database(),
                "scale": self.scale.report() if self.scale else None}

    def database(self) -> dict[str, Any]:
        """Which database this hub serves, so a console adopts only a hub on its own (finale.hub_port)."""
        dev, ino = self.served or (None, None)
        if self.db_path is None:  # a node that follows the show on Redis
            return {"event_id": self.event_id, "event": self.snap.event.name if self.snap else None, "path": None,
                    "dev": None, "ino": None, "deleted": False}
        return {"event_id": self.event_id, "event": self.snap.event.name if self.snap else None,
                "path": str(self.db_path.resolve()), "dev": dev, "ino": ino,
                "deleted": self.served is None or file_id(self.db_path) != self.served}

    # -- HTTP -----------------------------------------------------------------

    def _token_owner(self, table: str, token: str) -> str | None:
        return self.snap.token_owner(table, token) if self.snap else None

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        address = peer_address(connection, self.proxies)
        if self.proxies and not self._said_unforwarded and unforwarded(
                address, request.headers.get_all("X-Forwarded-For"), self.proxies):
            self._said_unforwarded = True  # once: the balancer's configuration, not a phone's fault
            log.warning("the trusted proxy %s sent no X-Forwarded-For: every phone behind it shares its address "
                        "(HAProxy: option forwardfor; nginx: proxy_set_header X-Forwarded-For)", address)
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

    # -- state flow -----------------------------------------------------------

    async def refresh(self) -> None:
        """Re-read the show and send each role its state if (and only if) it changed."""
        if self._store_r is not None:
            self.snap = await self._read(state.read_snapshot, self._store_r)
        elif self.scale is not None and self.scale.show.snapshot is not None:
            self.snap = self.scale.show.snapshot
        if self.snap is None:
            return  # a node whose bridge has published nothing yet: phones wait for the first state
        self.refreshes += 1
        now = time.time()
        groups: list[tuple[str, set[Client], Callable[[state.Snapshot], dict[str, Any]]]] = [
            ("audience", self.audience, lambda s: state.audience_view(s, now)),
            ("stage", self.stage, lambda s: state.stage_view(s, now, self._join_url(now))),
        ]
        for pid, clients in self.judges.items():
            groups.append((f"judge:{pid}", clients, lambda s, p=pid: state.judge_view(s, p, now)))  # type: ignore[misc]
        for fid, clients in self.finalists.items():
            groups.append((f"finalist:{fid}", clients, lambda s, f=fid: state.finalist_view(s, f, now)))  # type: ignore[misc]
        stage_frozen = bool(self.snap.switches.frozen)
        for key, clients, view_of in groups:
            if key == "stage" and stage_frozen:
                # a frozen stage keeps what it shows, and a stage page loaded now gets the same picture
                # (a hub started during the freeze has none kept: it takes the picture now)
                if self.frozen_stage is None:
                    self.frozen_stage = {**(self._stage_shown or view_of(self.snap)), "frozen": True}
                continue
            view = view_of(self.snap)
            if key == "stage":
                self._stage_shown, self.frozen_stage = view, None
            fingerprint = protocol.encode(view)
            if self._last.get(key) == fingerprint:
                continue
            self._last[key] = fingerprint
            if clients:
                frame = protocol.encode({**view, "server_time": now})
                slice_s = await broadcast_sliced([c.ws for c in list(clients)], frame, outbox=self.outbox)
                self.longest_broadcast_slice_s = max(self.longest_broadcast_slice_s, slice_s)

    async def _watch(self) -> None:
        """Notice other connections' commits (and the poll's deadline passing) within one poll interval."""
        was_open = voting_open(self.snap.round if self.snap else None, time.time())
        while True:
            checkpoint()  # a cancellation redis-py swallowed still stops the watcher (audience.cancellation)
            await asyncio.sleep(self.options.poll_interval)
            try:
                changed = await self._changed()
                is_open = voting_open(self.snap.round if self.snap else None, time.time())
                if changed or is_open != was_open or self.voters.rotated(self._join_url(time.time())):
                    await self.refresh()
                    was_open = voting_open(self.snap.round if self.snap else None, time.time())
                await self._drop_silent()
                await self.outbox.catch_up()  # slow readers that drained get the newest frame
            except Exception:  # keep watching whatever one refresh hit; the next one retries
                log.exception("state refresh failed")

    async def _changed(self) -> bool:
        """Something the pages show changed: another connection's commit, or the show published on Redis."""
        if self._store_r is not None:
            return await self._read(self._committed)
        assert self.scale is not None
        if not self.scale.nudged.is_set() and self.refreshes and time.monotonic() - self._followed < FOLLOW_S:
            return False
        self.scale.nudged.clear()
        self._followed = time.monotonic()
        try:
            return await self.scale.show.changed()
        except RedisError as exc:
            self.scale.link.failed(exc)
            return False

    def _committed(self) -> bool:
        """In the reader thread: another connection committed something the pages show."""
        assert self.watcher is not None
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
        if not clients or snap is None or snap.round is None:
            return
        if snap.switches.frozen:  # the bars as they were at the freeze, to a stage page that connects now
            if force and self._last_tally is not None:
                await broadcast_sliced([c.ws for c in clients], self._last_tally, kind="tally", outbox=self.outbox)
            return
        hidden = state.results_hidden(snap)
        if hidden and snap.round.phase is not Phase.VOTING:
            return  # nothing to count yet; while voting a hidden tally still says how many voted
        assert self.ballots is not None
        counts = await self.ballots.vote_labels(snap.round.id)
        frame = protocol.encode(state.tally_view(snap.round, counts, hidden))
        if force or frame != self._last_tally:
            if not force:
                self._last_tally = frame
            await broadcast_sliced([c.ws for c in clients], frame, kind="tally", outbox=self.outbox)

    async def _tally(self) -> None:
        """The stage's vote bars, at most once per tally interval (4 per second), only when they change."""
        while True:
            checkpoint()
            await asyncio.sleep(self.options.tally_interval)
            try:
                await self._send_tally(set(self.stage))
            except Exception:
                log.exception("tally failed")


async def run_hub(db_path: str | Path | None, options: HubOptions, ready: Callable[[Hub], None] | None = None) -> None:
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
