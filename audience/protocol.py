"""The hub's wire format: validation of what clients send, encoding of what the hub sends.

Pure functions, no I/O: every frame a client sends goes through `parse` and
either becomes one typed message or a `ProtocolError` whose code and message
say what was wrong and what is expected. The hub turns that error into an
`error` frame and changes nothing. See audience/PROTOCOL.md.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from audience.json_text import INT_LIMIT, MAX_INT_DIGITS, BadJson, BadNumber, decode, lone_surrogate
from finale.core.ranges import SCORE_RANGE_TEXT, ScoreError, check_score
from finale.core.text import one_line

ROLES = ("audience", "judge", "finalist", "stage")
DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}\Z")  # \Z: `$` would also take a trailing newline
MSG_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")
LABEL = re.compile(r"^[A-Z]\Z")
MAX_TOKEN_CHARS = 128
MAX_CREDENTIAL_CHARS = 128  # a voter credential is 86 characters (core.ballot)
MAX_JOIN_CHARS = 16  # a join code is 8
# Per-message cap in characters; websockets' own `max_size` is the hard cap above it.
MAX_FRAME_CHARS = 2048
MAX_SETTINGS_FRAME_CHARS = 24_000

# What each role may send besides `hello` and `ping`.
ALLOWED: dict[str, frozenset[str]] = {
    "audience": frozenset({"vote", "question", "upvote"}),
    "judge": frozenset({"scores"}),
    "finalist": frozenset({"settings"}),
    "stage": frozenset(),
}
TYPES = ("hello", "vote", "scores", "settings", "question", "upvote", "ping")
MAX_QUESTION_CHARS = 1000  # a hard cap before the core's (core.questions: 280 by default, the event file's)


class ProtocolError(ValueError):
    """A client frame the hub refuses; `code` is machine-readable, `message` for people.

    `wrong_token` is set for a judge's or finalist's hello whose token can be no one's (it is not
    text): the hub counts it as a wrong private link, like any other wrong token.
    """

    def __init__(self, code: str, message: str, msg_id: str | None = None, *, wrong_token: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.msg_id = msg_id
        self.wrong_token = wrong_token


@dataclass(frozen=True)
class Hello:
    """First frame of every connection: who is speaking.

    An audience phone also sends the voter `credential` the hub issued it (kept in localStorage),
    and the `join` code from the stage's QR link when it has one (core.ballot).
    """

    role: str
    device_id: str
    token: str | None = None
    credential: str | None = None
    join: str | None = None


@dataclass(frozen=True)
class Vote:
    """An audience vote for one anonymised answer; `cast_at` is when the phone says it was tapped (server clock)."""

    round: int
    label: str
    id: str
    cast_at: float | None = None


@dataclass(frozen=True)
class Scores:
    """A panel judge's scores (core.ranges: 0 to 10) per criterion for one anonymised answer."""

    round: int
    label: str
    scores: dict[str, float]
    id: str


@dataclass(frozen=True)
class Settings:
    """A finalist's proposed prompt settings (checked again by finale.core.tuning)."""

    system_prompt: object
    temperature: object
    max_tokens: object
    id: str


@dataclass(frozen=True)
class Question:
    """An audience question from the floor (core.questions checks it: open, length, filter, rate limit)."""

    text: str
    id: str


@dataclass(frozen=True)
class Upvote:
    """An audience upvote of an approved question from the floor, by its id on the board."""

    question_id: int
    id: str


@dataclass(frozen=True)
class Ping:
    """Heartbeat; `t` is the client's clock, echoed so it can measure the round trip."""

    t: float | None = None


Message = Hello | Vote | Scores | Settings | Question | Upvote | Ping

_FIELDS: dict[str, frozenset[str]] = {
    "hello": frozenset({"type", "role", "device_id", "token", "credential", "join"}),
    "vote": frozenset({"type", "round", "label", "id", "cast_at"}),
    "scores": frozenset({"type", "round", "label", "scores", "id"}),
    "settings": frozenset({"type", "system_prompt", "temperature", "max_tokens", "id"}),
    "question": frozenset({"type", "text", "id"}),
    "upvote": frozenset({"type", "question_id", "id"}),
    "ping": frozenset({"type", "t"}),
}


def _msg_id(obj: dict[str, Any]) -> str | None:
    value = obj.get("id")
    return value if isinstance(value, str) and MSG_ID.match(value) else None


def _need(obj: dict[str, Any], key: str, what: str, msg_id: str | None) -> Any:
    if key not in obj:
        raise ProtocolError("bad_message", f"{obj['type']}: missing field {key!r}; expected {what}", msg_id)
    return obj[key]


def _round(obj: dict[str, Any], msg_id: str | None) -> int:
    value = _need(obj, "round", "the round number", msg_id)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ProtocolError("bad_message", f"{obj['type']}: round must be a positive whole number; got {value!r}",
                            msg_id)
    return value


def _label(obj: dict[str, Any], msg_id: str | None) -> str:
    value = _need(obj, "label", "an answer label such as \"A\"", msg_id)
    if not isinstance(value, str) or not LABEL.match(value):
        raise ProtocolError("bad_label", f"{obj['type']}: label must be one capital letter; got {value!r}", msg_id)
    return value


def _cast_at(obj: dict[str, Any], msg_id: str | None) -> float | None:
    value = obj.get("cast_at")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ProtocolError("bad_message", f"vote: cast_at must be the server-clock time the vote was tapped "
                            f"(seconds since 1970); got {value!r}", msg_id)
    return float(value)


def _id(obj: dict[str, Any]) -> str:
    value = obj.get("id")
    if not isinstance(value, str) or not MSG_ID.match(value):
        raise ProtocolError("bad_message", f"{obj['type']}: id must be 1-64 letters, digits or -_.:; got {value!r}")
    return value


def _check_text(obj: dict[str, Any], kind: str, msg_id: str | None) -> None:
    """Refuse (bad_message) a frame whose text holds a lone surrogate; a private-link token that does is a wrong one."""
    where = lone_surrogate(obj)
    if where is None:
        return
    if kind == "hello" and where == "the field 'token'" and obj.get("role") in ("judge", "finalist"):
        raise ProtocolError("bad_message", "hello: the token is not valid text (it holds a lone UTF-16 surrogate); "
                            "expected the token from your private link", wrong_token=True)
    raise ProtocolError("bad_message", f"{kind}: {where} holds a lone UTF-16 surrogate (half of a pair), which is "
                        "not text; expected valid Unicode", msg_id)


_FAST_ENCODE = msgspec.json.Encoder().encode
_FLAT = (str, int, float, bool, type(None))  # the values `encode` gives msgspec


class _VoteFrame(msgspec.Struct, tag="vote", tag_field="type", forbid_unknown_fields=True):
    """A vote frame exactly as `parse` takes it: msgspec decodes and checks one in C (bench/hub_load.py).

    Anything it refuses goes on to `parse`'s own checks, whose errors say what is wrong.
    """

    round: Annotated[int, msgspec.Meta(ge=1, lt=INT_LIMIT)]
    label: Annotated[str, msgspec.Meta(pattern=LABEL.pattern)]
    id: Annotated[str, msgspec.Meta(pattern=MSG_ID.pattern)]
    cast_at: Annotated[int, msgspec.Meta(gt=0, lt=INT_LIMIT)] | Annotated[float, msgspec.Meta(gt=0)] | None = None


_VOTE_DECODE = msgspec.json.Decoder(_VoteFrame).decode


def _vote(raw: str) -> Vote | None:
    """The vote, when `raw` is a well-formed one; else None."""
    try:
        frame = _VOTE_DECODE(raw)
    except (msgspec.MsgspecError, ValueError, RecursionError):
        return None
    return Vote(frame.round, frame.label, frame.id, None if frame.cast_at is None else float(frame.cast_at))


def _decode(raw: str, fast: bool = True) -> tuple[Any, bool]:
    """The frame's JSON value (audience.json_text), or the ProtocolError that says what is wrong with it."""
    try:
        return decode(raw, fast)
    except BadNumber as exc:
        raise ProtocolError("bad_message", f"number {exc} is out of range; numbers must be finite and have at most "
                            f"{MAX_INT_DIGITS} digits") from None
    except BadJson:
        raise ProtocolError("bad_json", "frame is not valid JSON; expected one JSON object") from None


def parse(raw: str | bytes, limit: int = MAX_FRAME_CHARS, *, fast: bool = True) -> Message:
    """One client frame to one message, or `ProtocolError` saying what is wrong (`fast`: see `_decode`)."""
    if isinstance(raw, bytes | bytearray | memoryview):
        raise ProtocolError("bad_message", "expected a JSON text frame; got a binary frame")
    if len(raw) > limit:
        raise ProtocolError("too_big", f"frame of {len(raw)} characters; at most {limit} are accepted")
    vote = _vote(raw) if fast else None
    if vote is not None:
        return vote
    obj, clean = _decode(raw, fast)
    if not isinstance(obj, dict):
        raise ProtocolError("bad_message", f"expected a JSON object with a \"type\"; got {type(obj).__name__}")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:  # a list or object as type is not hashable
        raise ProtocolError("unknown_type", f"unknown message type {kind!r}; expected one of {', '.join(TYPES)}",
                            _msg_id(obj))
    msg_id = _msg_id(obj)
    if not _FIELDS[kind].issuperset(obj):
        extra = sorted(set(obj) - _FIELDS[kind])
        raise ProtocolError("bad_message", f"{kind}: unknown field(s) {', '.join(map(repr, extra))}; expected only "
                            f"{', '.join(sorted(_FIELDS[kind]))}", msg_id)
    if not clean:
        _check_text(obj, kind, msg_id)
    if kind == "hello":
        return _hello(obj)
    if kind == "vote":  # a valid msg_id is the id; _id says why one is not
        return Vote(_round(obj, msg_id), _label(obj, msg_id), msg_id or _id(obj), _cast_at(obj, msg_id))
    if kind == "scores":
        return Scores(_round(obj, msg_id), _label(obj, msg_id), _scores(obj, msg_id), _id(obj))
    if kind == "settings":
        return Settings(_need(obj, "system_prompt", "text", msg_id), _need(obj, "temperature", "a number", msg_id),
                        _need(obj, "max_tokens", "a whole number", msg_id), _id(obj))
    if kind == "question":
        return Question(_question_text(obj, msg_id), _id(obj))
    if kind == "upvote":
        return Upvote(_question_id(obj, msg_id), _id(obj))
    t = obj.get("t")
    if t is not None and (isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t)):
        raise ProtocolError("bad_message", f"ping: t must be a number (the client's clock); got {t!r}")
    return Ping(float(t) if t is not None else None)


def _question_text(obj: dict[str, Any], msg_id: str | None) -> str:
    value = _need(obj, "text", "the question as text", msg_id)
    if not isinstance(value, str):
        raise ProtocolError("bad_message", f"question: text must be a string; got {type(value).__name__}", msg_id)
    if len(value) > MAX_QUESTION_CHARS:
        raise ProtocolError("too_long", f"question: {len(value)} characters; far more than a question may hold",
                            msg_id)
    return value


def _question_id(obj: dict[str, Any], msg_id: str | None) -> int:
    value = _need(obj, "question_id", "the id of a question on the board", msg_id)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ProtocolError("bad_message", f"upvote: question_id must be a positive whole number; got {value!r}",
                            msg_id)
    return value


def _hello(obj: dict[str, Any]) -> Hello:
    role = _need(obj, "role", f"one of {', '.join(ROLES)}", None)
    if role not in ROLES:
        raise ProtocolError("bad_role", f"hello: role must be one of {', '.join(ROLES)}; got {role!r}")
    device = _need(obj, "device_id", "8-64 letters, digits, - or _", None)
    if not isinstance(device, str) or not DEVICE_ID.match(device):
        raise ProtocolError("bad_message", f"hello: device_id must be 8-64 letters, digits, - or _; got {device!r}")
    token = obj.get("token")
    if role in ("judge", "finalist"):
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            raise ProtocolError("bad_token", f"hello: the {role} page needs the token from its private link")
    elif token is not None:
        raise ProtocolError("bad_message", f"hello: the {role} role takes no token")
    credential, join = _voter_fields(obj, role)
    return Hello(role, device, token, credential, join)


def _voter_fields(obj: dict[str, Any], role: str) -> tuple[str | None, str | None]:
    """The audience hello's credential and join code: text of a bounded size (the hub checks what they say)."""
    out: list[str | None] = []
    for key, limit in (("credential", MAX_CREDENTIAL_CHARS), ("join", MAX_JOIN_CHARS)):
        value = obj.get(key)
        if value is not None and role != "audience":
            raise ProtocolError("bad_message", f"hello: the {role} role takes no {key}")
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= limit):
            raise ProtocolError("bad_message", f"hello: {key} must be the text the hub gave this phone "
                                f"(1-{limit} characters); got {str(value)[:40]!r}")
        out.append(value)
    return out[0], out[1]


def _scores(obj: dict[str, Any], msg_id: str | None) -> dict[str, float]:
    expected = f"an object of criterion -> score from {SCORE_RANGE_TEXT}"
    value = _need(obj, "scores", expected, msg_id)
    if not isinstance(value, dict) or not value:
        raise ProtocolError("bad_scores", f"scores: expected {expected}", msg_id)
    try:
        return {str(crit): check_score(str(crit), score) for crit, score in value.items()}
    except ScoreError as exc:
        raise ProtocolError("bad_scores", f"scores: {exc}", msg_id) from None


def frame_limit(role: str | None) -> int:
    """How many characters one frame from this role may hold (finalists send a system prompt)."""
    return MAX_SETTINGS_FRAME_CHARS if role == "finalist" else MAX_FRAME_CHARS


def encode(message: dict[str, Any]) -> str:
    """A hub message as one compact JSON text frame (encoded once, sent to many).

    A flat message of plain finite values (an ack, an error, a pong) goes through msgspec, a tenth of
    json.dumps' time, to the same JSON value; anything else, or what msgspec refuses, through json.dumps.
    """
    if all(type(k) is str and type(v) in _FLAT and (type(v) is not float or math.isfinite(v))
           for k, v in message.items()):
        with contextlib.suppress(TypeError, ValueError, OverflowError):  # an int beyond 64 bits, a lone surrogate
            return _FAST_ENCODE(message).decode()
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def error(code: str, message: str, msg_id: str | None = None) -> dict[str, Any]:
    """The `error` message; `id` echoes the refused message's id when it had one."""
    # one_line: a message may quote what the client sent; it must encode (no lone surrogate) and stay one line
    out: dict[str, Any] = {"type": "error", "code": code, "message": one_line(message)}
    if msg_id is not None:
        out["id"] = msg_id
    return out


def ack(msg_id: str, **fields: Any) -> dict[str, Any]:
    """The `ack` message: the client's message id, sent once the change is committed."""
    return {"type": "ack", "id": msg_id, **fields}


class _VoteAck(msgspec.Struct, tag="ack", tag_field="type"):
    """The ack of a vote as `encode(ack(id, round=..., label=...))` writes it, encoded straight to bytes."""

    id: str
    round: int
    label: str


def vote_ack(msg_id: str, round_id: int, label: str) -> bytes:
    """The frame acknowledging a stored vote (the hub's hottest answer: a Struct, no dict and no check per key)."""
    return _FAST_ENCODE(_VoteAck(msg_id, round_id, label))


def pong(t: float | None, server_time: float) -> dict[str, Any]:
    """Reply to `ping`, carrying the server clock so pages can correct countdowns."""
    return {"type": "pong", "t": t, "server_time": server_time}
