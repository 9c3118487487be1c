"""The hub's fast frame decoder (msgspec) gives exactly what the strict one (json.loads with hooks) gives.

audience.protocol.parse takes msgspec's decoder for speed (bench/hub_load.py) and falls back to the
strict decoder on anything msgspec refuses. These properties hold it to that: for any text, the
message or the error (code, message, id) is the same as with the strict decoder alone.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from audience import protocol

LONE = "\ud800"
KEYS = st.sampled_from(["type", "round", "label", "id", "cast_at", "role", "device_id", "token", "credential",
                        "join", "scores", "t", "system_prompt", "temperature", "max_tokens", "x", "ty" + LONE])
NUMBERS = st.one_of(st.integers(-(10**17), 10**17), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([10**15 - 1, 10**15, -(10**15), 1e15, 0.1, -0.0, 5e-324, 1.7976931348623157e308]))
TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["vote", "hello", "ping", "scores", "settings", "A", "Z", "AB",
                                                        "burst-12", "audience", "judge", "A\n", LONE, "a" + LONE]))
LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(KEYS, inner, max_size=3)), max_leaves=8)
FRAMES = st.dictionaries(KEYS, VALUES, max_size=6).map(lambda d: {"type": "vote", **d} if len(d) % 2 else d)


def outcome(raw: str, fast: bool) -> Any:
    try:
        return ("ok", protocol.parse(raw, protocol.MAX_SETTINGS_FRAME_CHARS, fast=fast))
    except protocol.ProtocolError as exc:
        return ("error", exc.code, exc.message, exc.msg_id, exc.wrong_token)


def spell(value: Any, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)  # NaN and Infinity spelled as Python does


@settings(max_examples=600, deadline=None)
@given(FRAMES, st.booleans())
def test_fast_and_strict_decoders_agree_on_json_like_frames(frame: dict[str, Any], ascii_only: bool) -> None:
    try:
        raw = spell(frame, ascii_only)
    except UnicodeEncodeError:
        return
    assert outcome(raw, fast=True) == outcome(raw, fast=False)


@settings(max_examples=600, deadline=None)
@given(FRAMES, st.integers(0, 200), st.text(alphabet='{}[],:"\\ 0123456789.eE+-nultrfaNIy\x00\x1f', max_size=4))
def test_fast_and_strict_decoders_agree_on_broken_frames(frame: dict[str, Any], at: int, junk: str) -> None:
    raw = json.dumps(frame)
    raw = raw[:at] + junk + raw[at + len(junk) // 2:]
    assert outcome(raw, fast=True) == outcome(raw, fast=False)


def test_the_edges_the_fast_decoder_must_not_take() -> None:
    deep = "[" * 990 + "]" * 990
    for raw in ['{"type":"vote","round":1234567890123456,"label":"A","id":"x"}',
                '{"type":"vote","round":1,"label":"A","id":"x","cast_at":1e400}',
                '{"type":"ping","t":NaN}', '{"type":"ping","t":-Infinity}', '{"type":"vote","label":"\\ud800"}',
                '{"type":"hello","role":"judge","device_id":"abcdefgh","token":"\\udc00"}', deep,
                '{"type":"ping","t":' + deep + "}", '{"type":"vote"} x', '\ufeff{"type":"ping"}']:
        assert outcome(raw, fast=True) == outcome(raw, fast=False), raw


def test_a_vote_takes_the_fast_path_and_gives_the_same_message() -> None:
    raw = '{"type":"vote","round":3,"label":"C","id":"burst-17","cast_at":1796171732.25}'
    assert protocol._decode(raw)[1] is True
    assert protocol.parse(raw) == protocol.parse(raw, fast=False) == protocol.Vote(3, "C", "burst-17", 1796171732.25)


def test_flat_messages_encode_to_the_same_json_as_json_dumps() -> None:
    for message in (protocol.ack("m-1", round=1, label="A"), protocol.error("bad_label", "label é must be A", "m"),
                    protocol.pong(None, 1796171732.123456), {"type": "x", "big": 2**70, "f": 1e16},
                    {"type": "x", "nan": float("nan")}, {"type": "x", "text": LONE}, {"type": "x", "n": [1, None]}):
        assert json.loads(protocol.encode(message).replace(LONE, "?")) == json.loads(
            json.dumps(message, ensure_ascii=False).replace(LONE, "?")) or message.get("nan") is not None
    assert protocol.encode({"type": "x", "nan": float("nan")}) == '{"type":"x","nan":NaN}'  # as json.dumps did


def test_a_trailing_newline_is_not_part_of_a_label_an_id_or_a_device_id() -> None:
    """`$` in a Python pattern also matches before a final newline; the hub's patterns end with `\\Z`."""
    for raw, code in (('{"type":"vote","round":1,"label":"A\\n","id":"m-1"}', "bad_label"),
                      ('{"type":"vote","round":1,"label":"A","id":"m-1\\n"}', "bad_message"),
                      ('{"type":"hello","role":"audience","device_id":"abcdefgh\\n"}', "bad_message")):
        for fast in (True, False):
            assert outcome(raw, fast)[:2] == ("error", code), (raw, fast)


def test_a_well_formed_vote_is_decoded_and_checked_in_one_step() -> None:
    raw = '{"cast_at":1796171732,"id":"burst-17","label":"C","round":3,"type":"vote"}'  # any key order
    assert protocol._vote(raw) == protocol.parse(raw, fast=False) == protocol.Vote(3, "C", "burst-17", 1796171732.0)
    for other in ('{"type":"vote","round":3,"label":"C","id":"x","extra":1}', '{"type":"ping"}',
                  '{"type":"vote","round":1234567890123456,"label":"C","id":"x"}', '{"type":"vote","round":true}'):
        assert protocol._vote(other) is None, other  # left to parse's own checks and their messages


@settings(max_examples=300, deadline=None)
@given(st.from_regex(protocol.MSG_ID, fullmatch=True), st.integers(1, 10**15),
       st.from_regex(protocol.LABEL, fullmatch=True))
def test_a_vote_ack_is_the_same_frame_as_the_generic_ack(msg_id: str, round_id: int, label: str) -> None:
    """The hub's bytes-straight vote ack (a msgspec Struct) is the very text `encode(ack(...))` writes."""
    assert protocol.vote_ack(msg_id, round_id, label).decode() == \
        protocol.encode(protocol.ack(msg_id, round=round_id, label=label))
