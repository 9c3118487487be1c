"""Fuzzing the hub (CI size): 2,000 hypothesis-generated frames from real websockets clients.

Random JSON, wrong types, huge numbers, unicode, deep nesting, truncated JSON, binary and oversize
frames go to `finale hub` running as its own process. The hub must never crash (the process lives on
and its log holds no traceback), every bad frame must get one error frame with the code the protocol
documents (or the documented close: 1009 over the hard cap), and the store must hold nothing new
except votes the hub acknowledged. The long version (100,000 frames) is `python bench/drills.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from finale.config import EventConfig
from tests.drill_helpers import dump_tables, run_fuzz, voting_db, with_hub_limits
from tests.hub_helpers import HubProcess, free_port, wait_healthy

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture
def fuzz_hub(tmp_path: Path, demo_config: EventConfig) -> Iterator[HubProcess]:
    db = tmp_path / "event.db"
    voting_db(db, config=with_hub_limits(demo_config, device_messages_per_s=1e6, ip_messages_per_s=1e6))
    hub = HubProcess(db, free_port(), tmp_path / "hub.log")
    hub.start()
    yield hub
    hub.stop()


def test_2000_fuzz_frames_never_crash_the_hub_and_each_bad_one_gets_an_error(fuzz_hub: HubProcess) -> None:
    before = dump_tables(fuzz_hub.db_path)
    stats = run_fuzz(f"ws://127.0.0.1:{fuzz_hub.port}/ws", examples=100, frames_per_example=20, seed=1)
    assert stats.failures == [], stats.failures[:5]
    assert stats.frames == 2000
    assert sum(stats.errors.values()) > 1500, stats.errors
    assert {"bad_json", "bad_message", "unknown_type", "too_big"} <= set(stats.errors), stats.errors
    assert fuzz_hub.proc is not None and fuzz_hub.proc.poll() is None, "the hub process died"
    assert wait_healthy(fuzz_hub.base, 5)["ok"]
    log = fuzz_hub.log_path.read_text()
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
    after = dump_tables(fuzz_hub.db_path)
    assert set(after) == set(before)
    for table in before:
        if table in ("votes", "events"):
            continue
        assert after[table] == before[table], f"fuzzing changed {table}"
    stored = {(row[1], row[3]) for row in after["votes"]} - {(row[1], row[3]) for row in before["votes"]}
    assert stored <= stats.acked_votes, "a vote is stored that the hub never acknowledged"
    new_events = [e for e in after["events"] if e not in before["events"]]
    assert all(e[3] == "votes.recorded" for e in new_events), new_events[:3]


@pytest.mark.parametrize("kind", [[], ["vote"], {"a": 1}])
def test_an_unhashable_type_is_an_unknown_type_not_a_crash(kind: object) -> None:
    """Found by the fuzzer: `{"type": []}` raised TypeError in the hub's handler (close 1011)."""
    import json

    from audience import protocol

    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.parse(json.dumps({"type": kind}))
    assert refused.value.code == "unknown_type"
