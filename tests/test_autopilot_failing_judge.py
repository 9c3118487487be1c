"""Issue 10, Must show 5: the autopilot finishes the show when every judgment fails.

A dress rehearsal against real endpoints is where a judge refuses its tool or is throttled. Here the
judge is an OpenAI-compatible one on a loopback port that was bound and closed (nothing listens): every
call fails. `finale run EVENT.toml --autopilot` (the installed command, a real subprocess) must re-judge
each failed answer once, waive the LLM component on the record with the judge's reason (actor
"autopilot"), finish every round, print the standings and the health table listing the failed
judgments, and exit 1 with one line saying why: never a `Usage:` banner.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from finale.autopilot.launch import free_port
from finale.config import load_event
from finale.core.model import Component, OverrideAction, Phase
from finale.demo import DEMO_EVENT
from finale.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

REHEARSAL_JUDGE = '[judge]\nkind = "rehearsal"\ndelay_ms = 250\n'


def _closed_port() -> int:
    """A loopback port that was bound and closed: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _event_with_dead_judge(tmp_path: Path) -> Path:
    """The demo event (rehearsal finalists and script) with an OpenAI-compatible judge nobody serves."""
    folder = tmp_path / "event"
    shutil.copytree(DEMO_EVENT.parent, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    event = folder / DEMO_EVENT.name
    text = event.read_text()
    assert REHEARSAL_JUDGE in text
    hub = free_port()
    judge = (f'[judge]\nkind = "openai"\nbase_url = "http://127.0.0.1:{_closed_port()}/v1"\nmodel = "dead-judge"\n'
             'max_attempts = 1\nconnect_timeout_s = 1\n')
    event.write_text(text.replace(REHEARSAL_JUDGE, judge).replace("port = 8765", f"port = {hub}")
                     .replace("http://127.0.0.1:8765", f"http://127.0.0.1:{hub}"))
    return event


def test_autopilot_with_a_judge_that_always_fails_finishes_every_round_and_exits_1(tmp_path: Path) -> None:
    event = _event_with_dead_judge(tmp_path)
    finale = shutil.which("finale", path=str(Path(sys.executable).parent))
    assert finale, "the installed `finale` command"
    done = subprocess.run([finale, "run", str(event), "--autopilot", "--phones", "8", "--judges", "2",
                           "--speed", "0.02"], capture_output=True, text=True, timeout=200)
    out, err = done.stdout, done.stderr
    assert "Usage:" not in out + err and "Traceback" not in out + err, out + err
    assert done.returncode == 1, out + err
    questions = load_event(event).questions
    n = len(questions) * 5
    # one clear line, on its own, saying why
    rounds = ", ".join(str(i + 1) for i in range(len(questions)))
    assert err.strip().splitlines() == [
        f"autopilot: {n} judgments failed and were waived on the record (rounds {rounds})"], err
    # the standings, every finalist ranked
    assert "final standings" in out
    assert all(re.search(rf"│ {place} │ \w+ \*", out) for place in range(1, 6)), out
    # the health table, listing the failed judgments by round with the judge's reason
    assert "Autopilot health" in out
    assert re.search(rf"judgments failed\s*│\s*{n}, all waived on the record", out), out
    for i in range(len(questions)):
        assert re.search(rf"round {i + 1}\s*│\s*Ray, Mia, Sol, Kai, Zoe\s*│", out), out
    assert "the judge's reason" in out and "cannot connect" in out
    assert re.search(r"sent == acknowledged == stored\s*│\s*yes", out)
    with Store(event.with_suffix(".db")) as store:
        rounds_ = store.rounds()
        assert len(rounds_) == len(questions) and all(r.phase is Phase.FINAL for r in rounds_)
        overrides = store.overrides()
        assert len(overrides) == n
        for o in overrides:
            assert (o.component, o.action, o.actor) == (Component.LLM, OverrideAction.WAIVE, "autopilot")
            assert "cannot connect" in o.reason and "dead-judge" in o.reason, o.reason
        for rnd in rounds_:  # judged, then re-judged once, never more
            saved = store.events(kind="judgment.saved", round_id=rnd.id)
            assert len(saved) == 10 and all(e.payload["status"] == "failed" for e in saved)
            assert len(store.votes(rnd.id)) == 8
