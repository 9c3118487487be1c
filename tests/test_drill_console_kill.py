"""Crash drill (CI size): kill -9 the MC's process mid-round (asking, judging, voting); restart resumes.

The long version (20 kills) is `python bench/drills.py`. Here: 3 kills, one in each phase, each
followed by a check that every commit the process reported is still there, the tables agree with
the audit log and `PRAGMA integrity_check` is ok; then a last run finishes the show.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.drills.console_kill import console_kill_drill
from tests.drills.hub import new_event_db

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_killed_console_resumes_the_round_and_loses_nothing(tmp_path: Path) -> None:
    db = new_event_db(tmp_path / "event.db")
    result = console_kill_drill(db, iterations=3, seed=11, rounds=1)
    assert result["problems"] == [] and result["lost"] == 0, result
    assert result["integrity_failures"] == 0
    assert result["resumed_to_the_end"], result["finish_stderr"]
    assert result["final_rounds"] == 4  # the show goes on: one round past the three that were interrupted
    assert sum(result["killed_in_phase"].values()) == 3
    assert result["vote_rows"] > 0 and result["reported_commits"] > 10


def test_phones_keep_voting_through_a_console_crash_and_its_restart(tmp_path: Path) -> None:
    """The console's hub child lives on (its own session) when the console is killed: phones keep voting.

    A restarted console's supervisor adopts that hub (it serves the same database), and starts its own
    (phones reconnect and resend) once the orphan is gone.
    """
    import asyncio
    import os
    import signal
    import subprocess
    import sys

    from finale.store import Store
    from tests.drills.checks import check_phone_votes
    from tests.drills.hub import voting_db
    from tests.drills.phone import PhoneLog, connect_phones
    from tests.hub_helpers import free_port

    db = tmp_path / "event.db"
    round_id, labels = voting_db(db)
    port = free_port()
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}

    def console(log: str) -> tuple[subprocess.Popen[str], int]:
        proc = subprocess.Popen([sys.executable, "-m", "tests.drills", "console", str(db), str(port),
                                 str(tmp_path / log)], stdout=subprocess.PIPE, text=True, env=env, cwd=root)
        assert proc.stdout is not None
        words = proc.stdout.readline().split()
        assert words[:2] == ["ready", "True"], words
        return proc, int(words[2])

    first, orphan = console("hub1.log")
    second: subprocess.Popen[str] | None = None
    try:
        async def show() -> list[PhoneLog]:
            nonlocal second
            phones = await connect_phones(f"ws://127.0.0.1:{port}/ws", 20, "crash")
            assert all([await p.vote(round_id, labels[0]) for p in phones])
            first.send_signal(signal.SIGKILL)  # the console crashes; its hub does not
            first.wait(10)
            assert all([await p.vote(round_id, labels[1]) for p in phones]), "the orphaned hub still takes votes"
            second, adopted = await asyncio.to_thread(console, "hub2.log")  # "ready": the adopted orphan answers
            assert adopted == orphan
            os.kill(orphan, signal.SIGKILL)  # now the orphan goes too: the new console's hub takes the port
            assert all([await p.vote(round_id, labels[2]) for p in phones])
            await asyncio.gather(*(p.close() for p in phones))
            return [p.log for p in phones]

        logs = asyncio.run(show())
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        try:
            os.kill(orphan, signal.SIGKILL)
        except ProcessLookupError:
            pass
    with Store(db) as store:
        check = check_phone_votes(store, round_id, logs)
        assert (check.duplicates, check.lost, check.unsent) == (0, 0, 0) and check.acknowledged == 60
        assert {v["label"] for v in store.votes(round_id)} == {labels[2]}
    log = (tmp_path / "hub2.log").read_text()
    assert f"adopted hub pid {orphan}" in log and "has gone; starting our own" in log, log[-2000:]
