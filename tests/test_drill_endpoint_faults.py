"""Drill: three finalist endpoints hang, answer HTTP 500 and stream garbage while 1,000 phones wait and vote.

The endpoints are the OpenAI-compatible wire server on 127.0.0.1 (tests/wire/openai.py); the hub is
`finale hub` under the real supervisor; the phones are real websockets clients. The round must go on
(the faulty finalists get a clear status and reason, the poll opens and closes), phones must stay
answered while the MC waits on the hanging endpoint, and vote acks must keep p99 within 100 ms.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.drills.endpoint_faults import endpoint_fault_drill

pytestmark = [pytest.mark.slow, pytest.mark.serial, pytest.mark.timeout(240)]  # serial: it times pings


def test_faulty_endpoints_do_not_stop_the_round_or_slow_the_votes(tmp_path: Path) -> None:
    result = endpoint_fault_drill(tmp_path / "event.db", tmp_path / "hub.log", phones=1000, spread_s=2.0)
    assert result["answers"] == {"ray": "timeout", "mia": "error", "sol": "error", "kai": "ok", "zoe": "ok"}, result
    errors = result["answer_errors"]
    assert "idle timeout" in errors["ray"] and "HTTP 500" in errors["mia"] and "unreadable" in errors["sol"]
    assert result["phase_after"] == "closed"
    # A loop blocked on a finalist delays every ping sent meanwhile, for at least the 1.5 s idle timeout: the
    # max and several rounds in a row (100 pings at once, one round every 0.2 s) show it. A single round slowed
    # by a shared machine (seen in CI: p99 256-307 ms against a 250 ms bound, once in 2 clean runs) does not.
    pinged = result["ping_during_asking"]
    assert pinged["count"] >= 100 and pinged["max_ms"] < 1000 and pinged["rounds_over_250ms"] <= 1, result
    assert pinged["p50_ms"] < 100, result
    assert result["votes_sent"] == result["acknowledged_votes"] == result["stored_votes"] == 1000, result
    assert result["vote_rows"] == 1000
    assert (result["duplicates"], result["lost"]) == (0, 0)
    # The 100 ms p99 target is measured by bench/drills.py on a quiet machine; here a bound that only a stall
    # (the loop blocked by a hanging finalist) would break, so a busy CI machine does not fail the build.
    assert result["vote_ack"]["p99_ms"] < 250, result
