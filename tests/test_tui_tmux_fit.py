"""Must-show #6 of issue 12: in a real terminal (tmux) at 100x30 and 120x40, through a whole round, the
next-step line is shown whole (wrapped onto its two rows, never cut), the footer shows every key of the
screen in front and the palette, and the header keeps the clock and the person at the console.

The console runs as `finale demo` in tmux; panel scores and votes arrive as the hub writes them (a
store connection of the test). What the line must say is computed from the same database by the same
code (finale.tui.guide), so the check is exactly "nothing of it is missing on the screen".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.binding import Binding

from finale.core.model import Phase
from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import audience_votes, panel_scores
from finale.store import Store
from finale.tui.app import FinaleApp
from finale.tui.guide import next_step
from finale.tui.screens.judging import JudgingScreen
from finale.tui.screens.round import RoundScreen
from finale.tui.screens.standings import StandingsScreen
from finale.tui.screens.voting import VotingScreen
from finale.tui.state import read_snapshot
from tests.children import kill_left_behind
from tests.test_tui_hub_process import _wait

ROOT = Path(__file__).resolve().parent.parent
SCREENS = {"round": RoundScreen, "judging": JudgingScreen, "voting": VotingScreen, "standings": StandingsScreen}


class Pane:
    """One tmux server with the console in a window of a fixed size."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.tmux = ["tmux", "-L", f"finale-fit-{os.getpid()}-{width}"]

    def start(self, command: str) -> None:
        size = ["-x", str(self.width), "-y", str(self.height)]
        subprocess.run([*self.tmux, "-f", "/dev/null", "new-session", "-d", "-s", "fit", *size], check=True)
        subprocess.run([*self.tmux, "set-option", "-t", "fit", "window-size", "manual"], check=True)
        subprocess.run([*self.tmux, "resize-window", "-t", "fit", *size], check=True)
        subprocess.run([*self.tmux, "send-keys", "-t", "fit", command, "Enter"], check=True)

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run([*self.tmux, "send-keys", "-t", "fit", key], check=True)
            time.sleep(0.15)

    def rows(self) -> list[str]:
        out = subprocess.run([*self.tmux, "capture-pane", "-p", "-t", "fit"], capture_output=True, text=True,
                             check=False).stdout
        return out.splitlines()

    def kill(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, check=False)


def _words(text: str) -> str:
    return " ".join(text.split())


def _footer_items(mode: str) -> list[str]:
    """Every binding the footer must show on `mode`'s screen: the screen's own, then the console's."""
    shown = [b for b in (*SCREENS[mode].BINDINGS, *FinaleApp.BINDINGS) if isinstance(b, Binding) and b.show]
    return [b.description for b in shown]


def _check_fit(pane: Pane, db: Path, mode: str) -> None:
    """The guide whole on its rows above the footer, the footer whole, the header's clock and person."""
    rows = pane.rows()
    assert len(rows) == pane.height, rows
    footer = rows[-1]
    assert footer.rstrip().endswith("^p palette"), footer
    for item in _footer_items(mode):
        assert item in footer, f"{mode}: {item!r} cut from the footer at {pane.width}x{pane.height}:\n{footer}"
    start = next(i for i, row in enumerate(rows) if row.lstrip().startswith("next:"))
    assert len(rows) - 1 - start <= 2, "the next-step line takes more than two rows:\n" + "\n".join(rows[start:])
    with Store(db) as store:
        expected = next_step(read_snapshot(store), mode).plain
    shown = _words(" ".join(rows[start:-1]))
    assert shown == _words(expected), f"{mode} at {pane.width}x{pane.height}:\nshown:    {shown}\nexpected: " \
        f"{_words(expected)}"
    assert "…" not in shown
    assert re.search(r"\d\d:\d\d:\d\d\s*$", rows[0]), f"the clock is cut from the header: {rows[0]!r}"
    assert "at the console: alice" in rows[1], rows[1]


def _phase(db: Path) -> Phase | None:
    with Store(db) as store:
        rnd = store.current_round()
        return rnd.phase if rnd is not None else None


def _judged(db: Path) -> int:
    with Store(db) as store:
        return len(store.judgments(1))


def _settle(pane: Pane, db: Path, mode: str) -> None:
    """Wait until the screen in front shows the line for the stored state (the console re-reads at 10 Hz)."""
    def shown() -> bool:
        try:
            _check_fit(pane, db, mode)
        except (AssertionError, StopIteration):
            return False
        return True
    try:
        _wait(f"the {mode} screen to settle", shown, timeout=8)
    except AssertionError:
        _check_fit(pane, db, mode)  # fail with the difference
        raise


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
@pytest.mark.parametrize("size", [(100, 30), (120, 40)], ids=["100x30", "120x40"])
def test_the_next_step_line_and_the_footer_are_never_cut(tmp_path: Path, size: tuple[int, int]) -> None:
    db = tmp_path / "fit.db"
    pane = Pane(*size)
    command = (f"cd {ROOT} && exec {sys.executable} -m finale.cli demo --db {db} --no-hub --speed 0 --as alice")
    try:
        pane.start(command)
        _wait("the show screen", lambda: any("Question deck" in r for r in pane.rows()))
        pane.keys("n")
        _wait("round 1 answered", lambda: _phase(db) is Phase.ANSWERED)
        _settle(pane, db, "round")
        pane.keys("j")
        _wait("round 1 judged", lambda: _judged(db) == 5)
        with Store(db) as hub:
            cfg = hub.event_config()
            script = load_script(DEMO_EVENT.parent / cfg.rehearsal.script)
            rnd = hub.round(1)
            for s in panel_scores(hub.event(), rnd, script, seed=7):
                hub.save_panel_score(s, actor=f"hub:{s.panelist_id}")
        _settle(pane, db, "judging")
        pane.keys("5", "o")
        _wait("round 1 voting", lambda: _phase(db) is Phase.VOTING)
        with Store(db) as hub:
            hub.record_votes(audience_votes(hub.round(1), script, seed=7, phones=30, now=time.time()), actor="hub")
        _settle(pane, db, "voting")
        pane.keys("c")
        _wait("the close to ask first", lambda: any("Close the poll for round 1 now?" in r for r in pane.rows()))
        pane.keys("y")
        _wait("round 1 closed", lambda: _phase(db) is Phase.CLOSED)
        _settle(pane, db, "standings")  # the console went on to the standings, where the final is made
        pane.keys("f", "y")
        _wait("round 1 final", lambda: _phase(db) is Phase.FINAL)
        _settle(pane, db, "standings")
    finally:
        pane.kill()
        kill_left_behind(str(tmp_path))
