"""`finale demo` in a real terminal (tmux) from a fresh clone: the show screen is up within 2 s.

Set FINALE_RECORD_TRANSCRIPT=1 to rewrite tests/transcripts/finale-demo-start.txt from this run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.children import kill_left_behind
from tests.machine_speed import slowness

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPT = ROOT / "tests" / "transcripts" / "finale-demo-start.txt"
LIMIT_S = 2.0


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("git") is None, reason="needs tmux and git")
@pytest.mark.serial  # it measures wall-clock time: run alone, not beside the other worker
def test_finale_demo_shows_the_show_screen_within_two_seconds(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    socket = f"finale-test-{os.getpid()}"
    tmux = ["tmux", "-L", socket]
    command = f"cd {clone} && exec {sys.executable} -m finale.cli demo --db {tmp_path / 'demo.db'}"
    try:
        subprocess.run([*tmux, "-f", "/dev/null", "new-session", "-d", "-s", "demo", "-x", "120", "-y", "40"],
                       check=True)
        subprocess.run([*tmux, "set-option", "-t", "demo", "window-size", "manual"], check=True)
        subprocess.run([*tmux, "resize-window", "-t", "demo", "-x", "120", "-y", "40"], check=True)
        started = time.monotonic()
        subprocess.run([*tmux, "send-keys", "-t", "demo", command, "Enter"], check=True)
        screen = ""
        while time.monotonic() - started < 10:
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "demo"], capture_output=True, text=True,
                                    check=False).stdout
            if "Question deck" in screen and "strawberry" in screen:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        assert "Question deck" in screen, f"no show screen after {elapsed:.1f} s:\n{screen}"
        assert "LLM League Grand Finale (rehearsal)" in screen and "strawberry" in screen
        if os.environ.get("FINALE_RECORD_TRANSCRIPT"):
            time.sleep(1.0)  # the settled screen, for the record
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "demo"], capture_output=True, text=True,
                                    check=False).stdout
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
            head = (f"# `finale demo` in tmux (120x40), fresh clone, {when}\n"
                    f"# show screen up {elapsed:.2f} s after the command was typed (limit {LIMIT_S} s); "
                    "captured 1 s later\n"
                    "# command: python -m finale.cli demo --db <tmp>/demo.db\n\n")
            TRANSCRIPT.write_text(head + screen)
        limit = LIMIT_S * slowness()  # the 2 s target, on a machine as fast as the one it was set on
        assert elapsed < limit, f"show screen took {elapsed:.2f} s (limit {LIMIT_S} s x {slowness():.2f}, how much " \
            "slower this machine is: tests/machine_speed.py)"
        subprocess.run([*tmux, "send-keys", "-t", "demo", "C-q"], check=True)  # the demo's hub stops: asks
        deadline = time.monotonic() + 10
        while "Quit the console?" not in subprocess.run([*tmux, "capture-pane", "-p", "-t", "demo"],
                                                        capture_output=True, text=True, check=False).stdout:
            if time.monotonic() > deadline:
                pytest.fail("ctrl+q did not ask before stopping the demo's hub")
            time.sleep(0.1)
        subprocess.run([*tmux, "send-keys", "-t", "demo", "y"], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pane = subprocess.run([*tmux, "capture-pane", "-p", "-t", "demo"], capture_output=True, text=True,
                                  check=False).stdout
            if "Question deck" not in pane:  # back at the shell prompt
                break
            time.sleep(0.1)
        else:
            pytest.fail("finale demo did not quit on ctrl+q")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
        kill_left_behind(str(tmp_path))  # the demo's hub, when the test ended before the console stopped it
