"""Fuzzing the hub (CI size): 2,000 hypothesis-generated frames from real websockets clients.

Random JSON, wrong types, huge numbers, unicode, deep nesting, truncated JSON, binary and oversize
frames go to `finale hub` running as its own process. The hub must never crash (the process lives on
and its log holds no traceback), every bad frame must get one error frame with the code the protocol
documents (or the documented close: 1009 over the hard cap), and the store must hold nothing new
except votes the hub acknowledged. The long version (100,000 frames) is `python bench/drills.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.drills.fuzz import fuzz_drill

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_2000_fuzz_frames_never_crash_the_hub_and_each_bad_one_gets_an_error(tmp_path: Path) -> None:
    result = fuzz_drill(tmp_path / "event.db", tmp_path / "hub.log", examples=100, frames_per_example=20, seed=1)
    assert result["failures"] == [] and result["unanswered_or_wrong"] == 0, result["failures"][:5]
    assert result["frames_sent"] == 2000 + 1, "the examples' frames, then the one over the hard cap (drills/fuzz.py)"
    assert (result["hub_crashes"], result["handler_failures"], result["tracebacks_in_log"]) == (0, 0, 0), result
    assert result["healthy_after"]
    errors = result["error_frames"]
    assert sum(errors.values()) > 1500 and {"bad_json", "bad_message", "unknown_type", "too_big"} <= set(errors)
    assert result["closed_oversize_1009"] > 0, "frames over the hard cap were sent and closed as documented"
    assert result["store_unexpected"] == []


@pytest.mark.parametrize("kind", [[], ["vote"], {"a": 1}])
def test_an_unhashable_type_is_an_unknown_type_not_a_crash(kind: object) -> None:
    """Found by the fuzzer: `{"type": []}` raised TypeError in the hub's handler (close 1011)."""
    import json

    from audience import protocol

    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.parse(json.dumps({"type": kind}))
    assert refused.value.code == "unknown_type"


@pytest.mark.parametrize("frame", [
    '{"type": "ping", "t": ' + "9" * 400 + "}",
    '{"type": "ping", "t": NaN}',
    '{"type": "ping", "t": -Infinity}',
    '{"type": "ping", "t": 1e999}',
    '{"type": "scores", "round": 1, "label": "A", "id": "s1", "scores": {"quality": ' + "1" * 5000 + "}}",
    '{"type": "settings", "system_prompt": "", "temperature": ' + "2" * 400 + ', "max_tokens": 9, "id": "p1"}',
])
def test_numbers_that_are_not_finite_or_too_long_are_refused_not_a_crash(frame: str) -> None:
    """Found by the fuzzer: a 400-digit score made math.isfinite raise OverflowError in the handler (1011);
    a 5,000-digit number passes Python's int-string limit and raised ValueError; NaN/Infinity are not JSON."""
    from audience import protocol

    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.parse(frame, protocol.MAX_SETTINGS_FRAME_CHARS)
    assert refused.value.code == "bad_message" and "out of range" in refused.value.message
