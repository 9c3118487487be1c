"""kill -9 the console while finalists are streaming, start it again with --resume, finish the round.

Runs the real `finale run` in tmux (a real terminal), so the crash is a real one: no clean shutdown,
answers left half-written in the store.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from finale.core.model import AnswerStatus, Phase
from finale.demo import DEMO_EVENT
from finale.store import Store
from tests.children import kill_left_behind

ROOT = Path(__file__).resolve().parent.parent


def _wait(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_console_killed_mid_ask_resumes_and_reasks_the_unfinished(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    tmux = ["tmux", "-L", f"finale-crash-{os.getpid()}"]

    def start(session: str, *args: str) -> None:
        subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "40"], check=True)
        subprocess.run([*tmux, "set-option", "-t", session, "window-size", "manual"], check=True)
        subprocess.run([*tmux, "resize-window", "-t", session, "-x", "120", "-y", "40"], check=True)
        command = (f"cd {ROOT} && exec {sys.executable} -m finale.cli run {DEMO_EVENT} --db {db} --as mc --no-hub "
                   + " ".join(args))
        subprocess.run([*tmux, "send-keys", "-t", session, command, "Enter"], check=True)

    def screen(session: str) -> str:
        return subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                              check=False).stdout

    try:
        # A session that outlives the crash keeps the tmux server up for the restart.
        subprocess.run([*tmux, "-f", "/dev/null", "new-session", "-d", "-s", "keep"], check=True)
        start("first")
        _wait("the show screen", lambda: "Question deck" in screen("first") and "strawberry" in screen("first"))
        pid = int(subprocess.run([*tmux, "list-panes", "-t", "first", "-F", "#{pane_pid}"], capture_output=True,
                                 text=True, check=True).stdout.split()[0])
        subprocess.run([*tmux, "send-keys", "-t", "first", "n"], check=True)
        # the round's header, not the next-step line's "answers are streaming", which shows while it is a draft
        _wait("answers streaming", lambda: "Round 1 · asking" in (shown := screen("first")) and "streaming" in shown)
        os.kill(pid, signal.SIGKILL)  # the crash: no cleanup, no last write
        with Store(db) as store:
            rnd = store.round(1)
            assert rnd.phase is Phase.ASKING
            cut_off = [fid for fid, a in store.answers(1).items() if a.status is not AnswerStatus.OK]
            assert cut_off, "the crash came too late: every answer was already complete"

        start("second", "--resume")
        _wait("the round screen after the restart", lambda: "Round 1 · asking" in screen("second"))
        subprocess.run([*tmux, "send-keys", "-t", "second", "r"], check=True)  # re-ask what the crash cut off
        _wait("the round answered", lambda: "Round 1 · answered" in screen("second"))
        subprocess.run([*tmux, "send-keys", "-t", "second", "C-q"], check=True)  # mid-round: asks first
        _wait("the quit question", lambda: "Quit the console mid-round?" in screen("second"))
        subprocess.run([*tmux, "send-keys", "-t", "second", "y"], check=True)
        _wait("the console to quit", lambda: "Round 1" not in screen("second"), timeout=10)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
        kill_left_behind(str(tmp_path))

    with Store(db) as store:
        assert store.round(1).phase is Phase.ANSWERED
        answers = store.answers(1)
        assert all(a.status is AnswerStatus.OK and a.text for a in answers.values())
        attempts = dict(store.conn.execute("SELECT finalist_id, attempt FROM answers WHERE round_id=1"))
        assert all(attempts[fid] == 2 for fid in cut_off)
        first_ask, re_ask = (e.payload["only"] for e in store.events(kind="round.asked"))
        assert first_ask is None and sorted(re_ask) == sorted(cut_off)
