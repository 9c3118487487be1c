"""Crash drill (CI size): kill -9 the MC's process mid-round (asking, judging, voting); restart resumes.

The long version (20 kills) is `python bench/drills.py`. Here: 3 kills, one in each phase, each
followed by a check that every commit the process reported is still there, the tables agree with
the audit log and `PRAGMA integrity_check` is ok; then a last run finishes the show.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.drill_helpers import console_kill_drill, new_event_db

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
