"""A stalled hub (SIGSTOP during a poll): votes cast before the close count, nothing cast after it does.

The shape of issue 11, scaled down: a 12 s poll, the hub stopped 3.5 s before the close, phones vote 3 s
before it (their frames wait in the kernel), the console closes the poll on time, SIGCONT 3 s after the
close. Every such vote counts (core.poll.stalled_across, by the phone's cast time: the hub's heartbeat
vouches for the gap); a vote cast after the close does not, nor one backdated once the hub runs again.
The second case leaves the hub stopped: the supervisor sees it stop answering /healthz, kills it, and
the new hub (told the old one's last heartbeat) counts the phones' resends within the grace. Real
`finale hub` processes, real websockets phones, 127.0.0.1 only; every process is continued and stopped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from finale.store import Store
from finale.supervisor import HubSupervisor
from tests.drills.hub import judged_db, wait_until
from tests.drills.phone import Phone, connect_phones
from tests.hub_helpers import HubProcess, director_for, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

POLL_S = 12.0
STOP_BEFORE_S = 3.5  # the hub stops this long before the close
VOTE_BEFORE_S = 3.0  # the phones vote this long before it, into the stopped hub
CONT_AFTER_S = 3.0  # SIGCONT this long after the close (case 1)
PHONES = 20


def _director_call(db_path: Path, act: Callable[..., object], *args: object) -> None:
    with Store(db_path) as store:
        act(director_for(store), *args)


async def _at(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.time()))


@contextmanager
def _continued(pid: Callable[[], int | None]) -> Iterator[None]:
    """Whatever happens in the test, the hub is not left stopped."""
    try:
        yield
    finally:
        running = pid()
        if running is not None:
            with suppress(ProcessLookupError):
                os.kill(running, signal.SIGCONT)


async def _poll_with_stall(db_path: Path, url: str, round_id: int, labels: list[str], hub_pid: int,
                           cont_after_s: float | None) -> tuple[list[Phone], list[bool], Phone, bool]:
    """Open the poll, stop the hub, vote into it, close on time, then (case 1) continue it.

    Returns the phones, whether each got its ack, the phone that voted after the close and its result."""
    phones = await connect_phones(url, PHONES, prefix="stall")
    late = Phone(url, "late-after-close")
    await late.connect()
    await asyncio.to_thread(_director_call, db_path, lambda d, r: d.open_poll(r, POLL_S), round_id)
    await asyncio.gather(*(p.wait_for_voting() for p in [*phones, late]))
    with Store(db_path) as store:
        deadline = store.round(round_id).vote_deadline
    assert deadline is not None and time.time() < deadline - STOP_BEFORE_S - 0.5, "the set-up took too long"
    await _at(deadline - STOP_BEFORE_S)
    os.kill(hub_pid, signal.SIGSTOP)
    await _at(deadline - VOTE_BEFORE_S)
    votes = [asyncio.create_task(p.vote(round_id, labels[i % len(labels)], cast_at=time.time()))
             for i, p in enumerate(phones)]
    await _at(deadline + 0.5)  # the console closes the poll on time; the hub is still stopped
    await asyncio.to_thread(_director_call, db_path, lambda d, r: d.close_poll(r), round_id)
    late_vote = asyncio.create_task(late.vote(round_id, labels[0], cast_at=time.time()))  # honest: after it
    if cont_after_s is not None:
        await _at(deadline + cont_after_s)
        os.kill(hub_pid, signal.SIGCONT)
    acked = list(await asyncio.wait_for(asyncio.gather(*votes), 60))
    return phones, acked, late, await asyncio.wait_for(late_vote, 60)


def _read_late(db_path: Path, round_id: int) -> tuple[int, bool]:
    """How many votes the round counts, and whether the hub read every one of them after the close."""
    with Store(db_path) as store:
        deadline = store.round(round_id).vote_deadline
        rows = store.votes(round_id)
    assert deadline is not None
    return len(rows), all(float(row["cast_at"]) > deadline for row in rows)


async def test_votes_cast_into_a_stopped_hub_before_the_close_count_and_later_ones_do_not(
        db_path: Path, tmp_path: Path) -> None:
    round_id, labels = judged_db(db_path)
    hub = HubProcess(db_path, free_port(), tmp_path / "hub.log")
    hub.start()
    assert hub.proc is not None
    pid = hub.proc.pid
    url = f"ws://127.0.0.1:{hub.port}/ws"
    phones: list[Phone] = []
    try:
        with _continued(lambda: pid):
            phones, acked, late, late_ok = await _poll_with_stall(db_path, url, round_id, labels, pid, CONT_AFTER_S)
        with Store(db_path) as store:
            deadline = store.round(round_id).vote_deadline
        assert deadline is not None
        await asyncio.sleep(0.5)  # the hub has caught up with what waited in the kernel
        backdater = Phone(url, "backdated-after-resume")
        await backdater.connect()
        backdated_ok = await backdater.vote(round_id, labels[0], cast_at=deadline - VOTE_BEFORE_S)
        await backdater.close()
        await late.close()
    finally:
        for p in phones:
            await p.close()
        hub.stop()
    assert all(acked), [p.log.refused for p in phones if p.log.refused]
    assert _read_late(db_path, round_id) == (PHONES, True), "every vote cast before the close counts, read after it"
    assert not late_ok and set(late.log.refused.values()) == {"poll_closed"}, "a vote cast after the close does not"
    assert not backdated_ok and set(backdater.log.refused.values()) == {"poll_closed"}, \
        "a cast time before the close claimed once the hub runs again is not believed"
    assert "the hub was not running for" in (tmp_path / "hub.log").read_text()


async def test_the_supervisor_replaces_a_hub_that_stops_answering_and_the_resends_count(
        db_path: Path, tmp_path: Path) -> None:
    round_id, labels = judged_db(db_path)
    port, log = free_port(), tmp_path / "hub.log"
    sup = HubSupervisor(db_path, "127.0.0.1", port, f"http://127.0.0.1:{port}", log, min_backoff_s=0.1,
                        max_backoff_s=0.5, health_interval_s=0.5, health_misses=8)
    sup.start()
    phones: list[Phone] = []
    try:
        with _continued(lambda: sup.pid):
            assert sup.wait_ready(30), log.read_text()[-2000:]
            first = sup.pid
            assert first is not None
            assert await asyncio.to_thread(wait_until, lambda: sup.health.last_body is not None, 10), "watched"
            os.kill(first, signal.SIGSTOP)  # busy for a moment: counted and shown, not killed
            assert await asyncio.to_thread(wait_until, lambda: sup.health.missed >= 1, 10)
            assert sup.health_note is not None and "checks missed" in sup.health_note
            os.kill(first, signal.SIGCONT)
            assert await asyncio.to_thread(wait_until, lambda: sup.health.missed == 0 and sup.health_note is None, 10)
            assert sup.pid == first and sup.restarts == 0
            url = f"ws://127.0.0.1:{port}/ws"
            phones, acked, late, late_ok = await _poll_with_stall(db_path, url, round_id, labels, first, None)
            await late.close()
        assert sup.pid not in (None, first) and sup.restarts == 1
        assert sup.health_note == "restarted: it stopped answering /healthz"
    finally:
        for p in phones:
            await p.close()
        sup.stop()
    assert all(acked), [p.log.refused for p in phones if p.log.refused]
    assert sum(p.log.reconnects for p in phones) >= PHONES, "the phones resent to the new hub"
    assert _read_late(db_path, round_id) == (PHONES, True), "the new hub read the resends after the close"
    assert not late_ok and set(late.log.refused.values()) == {"poll_closed"}
    text = log.read_text()
    assert f"hub pid {first} did not answer /healthz 8 times in a row" in text and "restarted hub as pid" in text
