"""The console's side of Redis: publish the show for every node, drain the votes into SQLite, list the nodes.

Run by the console when the event has `[scale] redis_url` (or on its own: `finale drain`).
- Publish: like a hub, it notices commits that change what pages show (ChangeWatcher and
  audience.state.ChangeFilter), reads one snapshot, and writes it with the poll's version
  in one Redis function call (audience.scale.show). Once a second it checks that Redis
  still holds that version (a Redis restarted empty gets it again) and the event's id and
  voter secret, which nodes start from.
- Drain: it reads the votes and credentials streams from the ids SQLite recorded last and
  writes each batch with its new marks in one transaction (finale.store.drain), so every
  acknowledged vote reaches SQLite exactly once, and scoring, the audit log, export, the
  report and `finale verify` keep reading SQLite only. Once a batch is committed, the
  streams are trimmed up to their marks: Redis keeps only what SQLite does not have yet
  (and each stream's last drained entry), so its memory does not grow with the show.
- Nodes: the live nodes' reports (phones, stages, votes) for the console's header.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from redis.exceptions import RedisError

from audience.cancellation import checkpoint
from audience.scale.floor import FloorReply, answer
from audience.scale.keys import EventKeys, announce
from audience.scale.library import ensure_library
from audience.scale.link import RedisLink, text
from audience.scale.nodes import NodeReport, live_nodes
from audience.scale.show import publish
from audience.state import ChangeFilter, Snapshot, read_snapshot
from finale.core.poll import Arrival
from finale.store import ChangeWatcher, DrainRaced, Store, StoreError, VoteIn, stream_position

log = logging.getLogger("finale.bridge")
T = TypeVar("T")
BATCH = 5000
CHECK_S = 1.0


@dataclass
class BridgeStats:
    """What the bridge did, for the console's header, /healthz-like reports and the tests."""

    published: int = 0
    drained_votes: int = 0
    drained_credentials: int = 0
    refused_at_drain: int = 0
    unreadable: int = 0
    raced: int = 0  # batches refused because another drainer had stored them (two drainers on one database)
    missed: dict[str, int] = field(default_factory=dict)  # stream -> entries trimmed before this database had them
    last_drain_at: float | None = None
    nodes: list[NodeReport] = field(default_factory=list)


def missed_by(mark: str, first: str | None, last: str, added: int, length: int) -> bool:
    """Whether a stream lost, to an earlier drain's trim, entries after `mark` (a copy or backup of the database
    that is behind the one drained): the trim keeps the mark's own entry, so the first entry left is never newer."""
    if added - length <= 0:
        return False
    return stream_position(first if first is not None else last) > stream_position(mark)


def vote_from_entry(fields: dict[str, str]) -> VoteIn:
    """A stream entry as the vote the store decides; ValueError/KeyError for an entry this version did not write."""
    arrival = json.loads(fields["arrival"]) if fields.get("arrival") else None
    return VoteIn(
        round_id=int(fields["round"]), device_id=fields["voter"], label=fields["label"],
        client_msg_id=fields.get("msg") or None, cast_at=float(fields["cast_at"]),
        arrival=Arrival(float(arrival["sent_at"]), float(arrival["heartbeat_at"]), float(arrival["grace_s"]))
        if arrival else None,
        origin=fields.get("origin") or None,
        issued_at=float(fields["issued_at"]) if fields.get("issued_at") else None)


class Bridge:
    """Publisher, drainer and node list of one event on one Redis."""

    def __init__(self, db_path: str | Path, url: str, poll_interval: float = 0.05) -> None:
        self.db_path = Path(db_path)
        self.link = RedisLink(url)
        self.poll_interval = poll_interval
        self.reader = Store.open_existing(self.db_path)
        self.writer = Store.open_existing(self.db_path)
        self.watcher = ChangeWatcher(self.db_path)
        self.reader_pool = ThreadPoolExecutor(1, thread_name_prefix="bridge-read")
        self.writer_pool = ThreadPoolExecutor(1, thread_name_prefix="bridge-write")
        self.filter = ChangeFilter()
        self.stats = BridgeStats()
        self._keys: EventKeys | None = None
        self._secret = b""
        self._pages = "{}"
        self._durability = "{}"
        self._version: str | None = None
        self._dirty = True  # publish at the next look
        self._published_at = 0.0

    @property
    def keys(self) -> EventKeys:
        assert self._keys is not None, "Bridge.start() first"
        return self._keys

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.reader_pool, fn, *args)

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.writer_pool, fn, *args)

    async def start(self) -> None:
        """Name the event on Redis, load the functions, publish the show once (raises RedisError if unreachable)."""
        event_id = await self._read(self.reader.event_id)
        if event_id is None:
            raise ValueError(f"{self.db_path} holds no event; set it up first (finale run --event FILE)")
        self._keys = EventKeys(event_id)
        self._secret = await self._read(self.reader.voter_secret)
        config = await self._read(self.reader.event_config)
        self._pages = config.pages.model_dump_json()
        self._durability = config.scale.model_dump_json(exclude={"redis_url"})
        await ensure_library(self.link.redis)
        await self._announce()
        await self._read(self.filter.relevant, self.reader)
        await self._publish()

    async def _announce(self) -> None:
        await announce(self.link.redis, self.keys, self._secret)
        await self.link.redis.set(self.keys.pages, self._pages)  # type: ignore[misc]
        await self.link.redis.set(self.keys.durability, self._durability)  # type: ignore[misc]

    async def _publish(self) -> None:
        snap: Snapshot = await self._read(read_snapshot, self.reader)
        self._version = await publish(self.link.redis, self.keys, snap)
        self._published_at = time.monotonic()
        self._dirty = False
        self.stats.published += 1

    def _committed(self) -> bool:
        return self.watcher.changed() and self.filter.relevant(self.reader)

    async def run(self) -> None:
        """Publish, drain and list nodes until cancelled; Redis outages are waited out, not fatal."""
        await asyncio.gather(self._publish_loop(), self._drain_loop(), self._check_loop())

    async def _publish_loop(self) -> None:
        while True:
            checkpoint()  # a cancellation redis-py swallowed still stops the bridge (audience.cancellation)
            await asyncio.sleep(self.poll_interval)
            try:
                if await self._read(self._committed):
                    self._dirty = True
                if self._dirty:
                    await self._publish()
                    self.link.succeeded()
            except RedisError as exc:
                self.link.failed(exc)
                self._dirty = True
                await asyncio.sleep(0.5)

    async def _check_loop(self) -> None:
        """Once a second: Redis still holds our show (a restarted Redis gets it again), and the live nodes."""
        while True:
            checkpoint()
            await asyncio.sleep(CHECK_S)
            try:
                held = text(await self.link.redis.hget(self.keys.show, "snapshot_version"))  # type: ignore[misc]
                if held != self._version:
                    await ensure_library(self.link.redis)
                    await self._announce()
                    self._dirty = True
                self.stats.nodes = await live_nodes(self.link.redis, self.keys)
                self.link.succeeded()
            except RedisError as exc:
                self.link.failed(exc)

    async def _drain_loop(self) -> None:
        marks = {name: await self._read(self.reader.drained_id, name)
                 for name in (self.keys.stream, self.keys.credentials, self.keys.floor)}
        await self._check_marks(marks)
        while True:
            checkpoint()  # xread blocks 200 ms at a time: most cancellations arrive inside it
            try:
                answer = await self.link.redis.xread(marks, count=BATCH, block=200)  # type: ignore[arg-type]
                self.link.succeeded()
            except RedisError as exc:
                self.link.failed(exc)
                await asyncio.sleep(0.5)
                continue
            if answer:
                await self._drain_batch(list(answer), marks)

    async def _drain_batch(self, answer: list[Any], marks: dict[str, str]) -> None:
        """Store one XREAD answer read after `marks`, then move `marks` on and trim; see `_raced` for two drainers."""
        after = {name: marks[name] for name in (self.keys.stream, self.keys.credentials)}
        votes: list[VoteIn] = []
        credentials: list[tuple[str, float, str]] = []
        new_marks = dict(marks)
        floor: list[tuple[str, dict[str, str]]] = []
        unreadable: list[dict[str, Any]] = []  # kept whole in the audit log: the trim removes them from Redis
        for stream, entries in answer:
            name = str(text(stream))
            if name == self.keys.floor:
                floor += [(str(text(entry_id)), fields) for entry_id, fields in entries]
                continue
            for entry_id, fields in entries:
                new_marks[name] = str(text(entry_id))
                try:
                    if name == self.keys.stream:
                        votes.append(vote_from_entry(fields))
                    else:
                        credentials.append((fields["voter"], float(fields["issued_at"]), fields["origin"]))
                except (ValueError, KeyError, TypeError):
                    self.stats.unreadable += 1
                    unreadable.append({"stream": name, "id": str(text(entry_id)), "fields": fields})
                    log.warning("skipped an unreadable entry %s of %s (not written by this version of finale); "
                                "kept in the audit log as redis.unreadable", entry_id, name)
        try:
            for entry_id, fields in floor:
                if not await self._relay_floor(entry_id, fields):
                    unreadable.append({"stream": self.keys.floor, "id": entry_id, "fields": fields})
                marks[self.keys.floor] = new_marks[self.keys.floor] = entry_id
            while True:  # the disk may be full a while: keep the batch and retry; Redis keeps the stream meanwhile
                try:
                    decisions = await self._write(partial(self.writer.drain, after=after), votes, credentials,
                                                  new_marks, unreadable)
                    break
                except DrainRaced:
                    raise
                except Exception as exc:
                    log.warning("could not store %d drained votes (%s: %s); retrying", len(votes),
                                type(exc).__name__, exc)
                    checkpoint()  # a cancellation swallowed earlier in the batch still stops the retries
                    await asyncio.sleep(1.0)
        except DrainRaced as raced:
            await self._raced(raced, marks)
            return
        marks.update(new_marks)
        await self._trim(marks)
        refused = sum(1 for d in decisions if d.refusal is not None)
        self.stats.drained_votes += len(votes) - refused
        self.stats.refused_at_drain += refused
        self.stats.drained_credentials += len(credentials)
        self.stats.last_drain_at = time.time()
        if refused:
            log.warning("%d votes acknowledged by Redis were refused by the rule at the drain (node clocks?)",
                        refused)
        if votes:
            self._dirty = True  # standings and tallies after the close follow the drained votes

    async def _raced(self, raced: DrainRaced, marks: dict[str, str]) -> None:
        """Another drainer stored this batch first: say so, take the database's marks and read on from there.

        Nothing of the batch was stored, so each entry is still in this database once, by whoever stored it.
        """
        self.stats.raced += 1
        log.error("two drainers on one event database: %s", raced)
        marks.update({name: await self._read(self.reader.drained_id, name) for name in marks})

    async def _check_marks(self, marks: dict[str, str]) -> None:
        """Say loudly if Redis trimmed entries this database never had (it is a copy, or a backup, behind the
        database the event was drained into): they are in that database's audit log, not in this one."""
        for name, mark in marks.items():
            try:
                info = await self.link.redis.xinfo_stream(name)
            except RedisError:  # no such stream yet, or Redis away: nothing trimmed that could be missed
                continue
            first, added, length = info.get("first-entry"), int(info["entries-added"]), int(info["length"])
            if missed_by(mark, str(text(first[0])) if first else None, str(text(info["last-generated-id"])),
                         added, length):
                self.stats.missed[name] = added - length
                log.error("Redis trimmed entries of %s after this database's mark %s (up to %d of them): they were "
                          "drained into another database of this event (a copy or a backup of it?); drain the event "
                          "into the one database it was drained into", name, mark, self.stats.missed[name])

    async def _trim(self, marks: dict[str, str]) -> None:
        """Drop from each stream the entries before its mark, which SQLite now holds (XTRIM MINID).

        The mark's own entry stays, so the stream's first entry still says how far the drain got. A
        failure is only logged: the next batch trims the same entries and more.
        """
        try:
            async with self.link.redis.pipeline(transaction=False) as pipe:
                for name, last in marks.items():
                    if last != "0-0":
                        pipe.xtrim(name, minid=last, approximate=False)
                await pipe.execute()
        except RedisError as exc:
            log.info("could not trim the drained streams (%s); the next batch does", type(exc).__name__)

    async def _relay_floor(self, entry_id: str, fields: dict[str, str]) -> bool:
        """Decide one relayed question or upvote with the store's rules and answer the node that waits.

        False for an entry this version cannot read (the caller keeps it in the audit log).
        """
        try:
            kind, voter, at = fields["kind"], fields["voter"], float(fields["at"])
            subject = json.loads(fields["subject"])
            reply_id, node = fields["reply"], fields["node"]
        except (KeyError, ValueError, TypeError):
            self.stats.unreadable += 1
            log.warning("skipped an unreadable floor request %s", entry_id)
            return False
        while True:
            try:
                result = await self._write(self.writer.relay_floor, kind, voter, subject, at, self.keys.floor,
                                           entry_id)
                break
            except DrainRaced:
                raise
            except Exception as exc:  # the disk: retry; the node tells its phone `unavailable` meanwhile
                log.warning("could not store a relayed %s (%s: %s); retrying", kind, type(exc).__name__, exc)
                checkpoint()
                await asyncio.sleep(1.0)
        reply = FloorReply(code=result.code, message=str(result)) if isinstance(result, StoreError) else \
            FloorReply(question_id=result.id, status=result.status.value, upvotes=result.upvotes)
        with contextlib.suppress(RedisError):
            await answer(self.link, self.keys, reply_id, node, reply)
        self._dirty = True
        return True

    def report(self) -> dict[str, Any]:
        """What the console's header shows: Redis, the nodes and their phones, the drain."""
        return {"redis": self.link.report(), "nodes": [n.__dict__ for n in self.stats.nodes],
                "phones": sum(n.phones for n in self.stats.nodes), "drained_votes": self.stats.drained_votes,
                "refused_at_drain": self.stats.refused_at_drain, "published": self.stats.published,
                "missed": self.stats.missed, "raced": self.stats.raced}

    async def close(self) -> None:
        """Stop using the database and Redis (cancel `run` first)."""
        self.reader_pool.shutdown(wait=True)
        self.writer_pool.shutdown(wait=True)
        self.watcher.close()
        self.reader.close()
        self.writer.close()
        with contextlib.suppress(RedisError):
            await self.link.close()


async def run_bridge(db_path: str | Path, url: str, ready: Callable[[Bridge], None] | None = None) -> None:
    """`finale drain`: run the bridge until cancelled (SIGINT/SIGTERM)."""
    bridge = Bridge(db_path, url)
    await bridge.start()
    if ready is not None:
        ready(bridge)
    try:
        await bridge.run()
    finally:
        await bridge.close()
