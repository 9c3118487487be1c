"""Crash drill (CI size): kill -9 the supervised hub during a vote storm, three times.

The long version (20 kills) is `python bench/drills.py`. Phones are real websockets clients that
reconnect and resend their unacknowledged vote with the same message id; the store must then hold
every acknowledged vote exactly once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from finale.store import Store, VoteIn
from tests.drills.hub_kill import hub_kill_drill
from tests.hub_helpers import director_for, voting_round

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_killed_hub_restarts_and_every_acknowledged_vote_is_stored_once(tmp_path: Path) -> None:
    result = hub_kill_drill(tmp_path / "event.db", tmp_path / "hub.log", iterations=3, phones=60, seed=5)
    assert result["hub_restarts"] == 3, result
    assert result["acknowledged_votes"] > 100, result
    assert (result["duplicates"], result["lost"], result["stored_but_never_sent"]) == (0, 0, 0), result
    assert result["table_matches_log"] and result["integrity_failures"] == 0, result
    assert result["stored_votes"] == result["acknowledged_votes"]
    assert result["vote_rows"] == 60, "one row per phone: its last acknowledged vote"
    assert result["reconnects"] >= 60, "every phone lost the hub at least once and came back"
    log = (tmp_path / "hub.log").read_text()
    assert log.count("exited with status -9; restarting") == 3


def test_a_vote_resent_after_a_lost_ack_is_stored_and_logged_once(store: Store) -> None:
    """The hub can die between the commit and the ack; the phone then resends the same message."""
    rnd = asyncio.run(voting_round(director_for(store), window_s=600))  # the store takes votes in an open poll
    a, b = sorted(rnd.labels.values())[:2]
    now = time.time()
    first = VoteIn(rnd.id, "phone-0001", a, "phone-0001-1", now)
    assert store.record_votes([first]) == 1
    again = VoteIn(rnd.id, "phone-0001", a, "phone-0001-1", now + 2)  # resent: arrives later
    assert store.record_votes([again, again]) == 0
    changed = VoteIn(rnd.id, "phone-0001", b, "phone-0001-2", now + 3)
    assert store.record_votes([changed]) == 1
    logged = [v for e in store.events(kind="votes.recorded", round_id=rnd.id) for v in e.payload["votes"]]
    assert [v[2] for v in logged] == ["phone-0001-1", "phone-0001-2"]
    assert [(v["label"], v["client_msg_id"]) for v in store.votes(rnd.id)] == [(b, "phone-0001-2")]
