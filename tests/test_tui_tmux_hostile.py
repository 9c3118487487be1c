"""A finalist's model writes escape sequences: in a real terminal (tmux) they change nothing.

`finale run` on a rehearsal event whose scripted answers hold OSC 0 (title), OSC 52
(clipboard), OSC 8 (hyperlink), CSI cursor/erase/colour sequences, bidi overrides
and NULs. The pane title and tmux's paste buffers stay as they were, the console
keeps its own screen and shows the words, and the same answers are inert in the
hub log and in the CSV export.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from finale.demo import DEMO_EVENT
from tests.children import kill_left_behind

# TOML escapes: the script file carries the raw control characters to the rehearsal endpoint.
HOSTILE_TOML = (r"3 r\u001b]0;PWNED-TITLE\u0007\u001b]52;c;cm0gLXJmIH4=\u0007"
                r"\u001b]8;;http://evil.example/\u001b\\clickme\u001b]8;;\u001b\\"
                r"\u001b[2J\u001b[H\u001b[31mOVERRIDE: Ray+40\u001b[0m\u001b[10;10H"
                r"\u202eevil-bidi\u202c nul\u0000 done")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hostile_event(tmp: Path) -> Path:
    port = _free_port()
    event = DEMO_EVENT.read_text(encoding="utf-8").replace("8765", str(port))
    script = (DEMO_EVENT.parent / "script.toml").read_text(encoding="utf-8")
    script = re.sub(r'^strawberry = ".*"$', lambda _m: f'strawberry = "{HOSTILE_TOML}"', script, flags=re.MULTILINE)
    (tmp / "event.toml").write_text(event, encoding="utf-8")
    (tmp / "script.toml").write_text(script, encoding="utf-8")
    return tmp / "event.toml"


def _tmux(tmux: list[str], *args: str) -> str:
    return subprocess.run([*tmux, *args], capture_output=True, text=True, check=False).stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_escape_sequences_in_answers_do_nothing_to_the_terminal(tmp_path: Path) -> None:
    event = _hostile_event(tmp_path)
    db = tmp_path / "show.db"
    tmux = ["tmux", "-L", f"finale-hostile-{os.getpid()}"]
    command = f"exec {sys.executable} -m finale.cli run {event} --db {db} --as mc --speed 0.2"
    try:
        subprocess.run([*tmux, "-f", "/dev/null", "new-session", "-d", "-s", "show", "-x", "120", "-y", "40"],
                       check=True)
        for option in (["set-option", "-g", "set-clipboard", "on"], ["set-option", "-g", "allow-rename", "on"],
                       ["set-option", "-g", "allow-passthrough", "on"]):
            subprocess.run([*tmux, *option], capture_output=True, check=False)  # the most permissive terminal
        subprocess.run([*tmux, "select-pane", "-t", "show", "-T", "console-title"], check=True)
        subprocess.run([*tmux, "set-buffer", "-b", "mine", "clean clipboard"], check=True)
        subprocess.run([*tmux, "send-keys", "-t", "show", command, "Enter"], check=True)
        screen = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "Question deck" not in screen:
            screen = _tmux(tmux, "capture-pane", "-p", "-t", "show")
            time.sleep(0.1)
        assert "Question deck" in screen, screen
        subprocess.run([*tmux, "send-keys", "-t", "show", "n"], check=True)  # ask strawberry, the first question
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and screen.count("done") < 2:
            screen = _tmux(tmux, "capture-pane", "-p", "-t", "show")
            time.sleep(0.2)
        assert screen.count("done") >= 2, f"the hostile answers never showed:\n{screen}"
        time.sleep(0.5)
        screen = _tmux(tmux, "capture-pane", "-p", "-t", "show")
        assert "OVERRIDE: Ray+40" in screen and "evil-bidi" in screen, "the words are shown as text"
        assert "round 1 (strawberry)" in screen and "Question deck" not in screen, "the console keeps its own screen"
        assert _tmux(tmux, "display-message", "-p", "-t", "show", "#{pane_title}").strip() == "console-title"
        assert _tmux(tmux, "list-buffers", "-F", "#{buffer_name}").split() == ["mine"], "OSC 52 reached tmux"
        assert _tmux(tmux, "show-buffer", "-b", "mine") == "clean clipboard"
        assert "evil.example" not in _tmux(tmux, "capture-pane", "-p", "-e", "-t", "show"), "an OSC 8 link survived"
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
        kill_left_behind(str(tmp_path))
        time.sleep(0.5)
        for proc in subprocess.run(["pgrep", "-f", f"hub --db {db}"], capture_output=True, text=True,
                                   check=False).stdout.split():
            subprocess.run(["kill", proc], check=False)
    out = tmp_path / "csv"
    subprocess.run([sys.executable, "-m", "finale.cli", "export", "--db", str(db), "--format", "csv",
                    "--out", str(out)], check=True, capture_output=True, timeout=60)
    answers = (out / "answers.csv").read_text(encoding="utf-8")
    assert "OVERRIDE: Ray+40" in answers and not CONTROL.search(answers)
    for path in [*out.glob("*.csv"), *tmp_path.glob("*.log")]:
        assert not CONTROL.search(path.read_text(encoding="utf-8", errors="replace").replace("\n", "")
                                  .replace("\t", "").replace("\r", "")), path
