"""Fuzzing the hub: hypothesis-generated frames from real websockets clients at `finale hub` under the supervisor.

Each frame is followed by a ping, so everything the hub answered to that frame is known; the oracle
is audience.protocol itself (a bad frame gets exactly one error with the code `protocol.parse` gives
it). Afterwards the store may hold nothing new but acknowledged votes and panel scores.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from finale.config import load_event
from finale.demo import DEMO_EVENT
from finale.store import Store
from tests.drills.checks import Dump, dump_tables
from tests.drills.hub import hub_health, supervised_hub, voting_db, with_hub_limits, ws_url

HARD_CAP = 32 * 1024  # websockets' max_size in the hub: a bigger frame closes the connection (1009)
ERROR_CODES = {"bad_json", "bad_message", "unknown_type", "too_big", "bad_role", "bad_token", "hello_first",
               "not_allowed", "rate_limited", "no_round", "wrong_round", "poll_closed", "bad_label", "not_open",
               "locked", "bad_scores", "bad_settings", "unavailable", "no_credential", "address_limit"}


def frame_strategy() -> Any:
    """Hub frames as a hostile or broken client sends them: mostly wrong, sometimes nearly right."""
    from hypothesis import strategies as st

    text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)  # a raw text frame must be UTF-8
    # Inside JSON a client may spell a lone UTF-16 surrogate ("\ud800"): it used to crash a token look-up and
    # any error frame that quoted it (close 1011). Whole strings of one, or one among other characters.
    lone = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3) | st.tuples(text, text).map(
        lambda p: p[0] + "\udc00" + p[1])
    texts = text | text | lone
    numbers = (st.integers(-5, 15) | st.integers() | st.integers(min_value=10**18, max_value=10**400)
               | st.floats(allow_nan=True, allow_infinity=True))
    scalars = st.none() | st.booleans() | numbers | texts
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(texts, inner, max_size=4), max_leaves=12)
    criteria = st.sampled_from(["generalization", "quality", "efficiency", "speed", ""])
    kinds = st.sampled_from(["hello", "vote", "scores", "settings", "ping", "launch", "", "VOTE", "ack", "error"])
    fields = {"role": st.sampled_from(["audience", "judge", "finalist", "stage", "mc", ""]) | values,
              "device_id": st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True) | values,
              "token": values, "round": st.integers(-2, 4) | values, "label": st.sampled_from("ABCDEZa") | values,
              "id": st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True) | values,
              "scores": st.dictionaries(criteria, numbers | values, max_size=4) | values,
              "t": values, "system_prompt": texts | st.text(max_size=3000) | values,
              "temperature": numbers | values, "max_tokens": numbers | values, "extra": values}
    shaped = st.fixed_dictionaries({"type": kinds | values}, optional=fields)
    # Nearly valid: each type with exactly its fields, values right more often than not.
    msg_id = fields["id"]
    round_no = st.just(1) | st.integers(-2, 4) | values
    label = st.sampled_from("ABCDE") | fields["label"]
    score = st.floats(0, 10) | st.integers(0, 10) | numbers | values
    scores = st.fixed_dictionaries({c: score for c in ("generalization", "quality", "efficiency")}) | fields["scores"]
    near = st.one_of(
        st.fixed_dictionaries({"type": st.just("vote"), "round": round_no, "label": label, "id": msg_id}),
        st.fixed_dictionaries({"type": st.just("scores"), "round": round_no, "label": label, "scores": scores,
                               "id": msg_id}),
        st.fixed_dictionaries({"type": st.just("settings"), "system_prompt": fields["system_prompt"],
                               "temperature": st.floats(0, 2) | numbers | values,
                               "max_tokens": st.integers(1, 4096) | numbers | values, "id": msg_id}),
        st.fixed_dictionaries({"type": st.just("hello"), "role": fields["role"], "device_id": fields["device_id"]},
                              optional={"token": values}),
        st.fixed_dictionaries({"type": st.just("ping")}, optional={"t": values}),
    )
    as_json = st.tuples(near | shaped | values, st.booleans()).map(lambda p: _dumps(p[0], p[1]))
    deep = st.tuples(st.integers(1, 3000), st.sampled_from(["[", "{\"a\":"])).map(
        lambda p: p[1] * p[0] + "1" + ("]" if p[1] == "[" else "}") * p[0])
    oversize = st.integers(2049, HARD_CAP + 4000).map(lambda n: json.dumps({"type": "ping", "pad": "x" * n}))
    return (as_json | as_json | text | deep | st.binary(max_size=64) | oversize
            | as_json.map(lambda f: f[: max(1, len(f) // 2)]))  # truncated JSON


def _dumps(value: object, ascii_only: bool) -> str:
    """JSON as a client sends it; a lone surrogate cannot go out as UTF-8, so that frame spells it as an escape."""
    out = json.dumps(value, ensure_ascii=ascii_only)
    try:
        out.encode()
    except UnicodeEncodeError:
        out = json.dumps(value)
    return out


@dataclass
class FuzzStats:
    """What the hub answered to fuzz frames."""

    frames: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    replies: Counter[str] = field(default_factory=Counter)  # pong, state, ack to frames that were valid
    closed_oversize: int = 0
    acked_votes: set[tuple[str, str]] = field(default_factory=set)  # (device, message id)
    acked_scores: list[dict[str, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass
class Identity:
    """Who a fuzz connection is, as far as the hub knows (not a client: the raw frames need their own socket)."""

    role: str | None = None
    device: str | None = None


def _expect(frame: str | bytes, stats: FuzzStats, replies: list[dict[str, Any]], conn: Identity) -> None:
    """Check the replies to one frame: a bad frame gets exactly one error with the code the protocol gives it.

    A valid `hello` on a fresh connection gives it a role and a device id.
    """
    from audience import protocol

    answers = [r for r in replies if r["type"] not in ("state", "tally")]
    nested = isinstance(frame, str) and frame.count("[") + frame.count("{") > 400
    if nested and [a.get("code") for a in answers] == ["bad_json"]:
        # JSON nested deeper than the hub's recursion limit is bad_json there; this process's limit
        # (raised by hypothesis) may parse it, so the oracle below cannot judge such a frame.
        stats.replies["too_deep"] += 1
        return
    try:
        msg = protocol.parse(frame, protocol.frame_limit(conn.role))
    except protocol.ProtocolError as exc:
        same = {"bad_json", "bad_message"} if exc.code in ("bad_json", "bad_message") else {exc.code}
        if len(answers) != 1 or answers[0].get("code") not in same:
            stats.failures.append(f"bad frame {frame[:80]!r}: expected one error {exc.code}, got {answers}")
        return
    if isinstance(msg, protocol.Hello) and conn.role is None and not answers:
        if not any(r["type"] == "state" for r in replies):
            stats.failures.append(f"hello {frame[:80]!r} got no state")
        stats.replies["state"] += 1
        state = next((r for r in replies if r["type"] == "state"), {})
        conn.role, conn.device = msg.role, _voter(state) or msg.device_id
        return
    if len(answers) != 1 or answers[0]["type"] not in ("error", "pong", "ack"):
        stats.failures.append(f"frame {frame[:80]!r} ({type(msg).__name__}) as {conn.role}/{conn.device}: expected "
                              f"one reply, got {replies}")
        return
    if answers[0]["type"] == "ack" and isinstance(msg, protocol.Vote) and conn.device is not None:
        stats.acked_votes.add((conn.device, msg.id))
    if answers[0]["type"] == "ack" and isinstance(msg, protocol.Scores):
        stats.acked_scores.append(msg.scores)
    stats.replies[answers[0]["type"]] += 1


def _voter(state: dict[str, Any]) -> str | None:
    """The voter id of the credential an audience hello was issued: the key its votes are stored under."""
    credential = state.get("credential")
    return credential.split(".")[1] if isinstance(credential, str) else None


def fuzz_connection(url: str, frames: list[str | bytes], stats: FuzzStats, hello_as: str | None,
                    token: str | None = None) -> None:
    """Send each frame on one real connection, each followed by a ping, and check what came back.

    `hello_as` (with the private link's `token` for a judge or finalist) greets first; None sends the
    frames to a connection that has not said hello. Documented closes are expected, and the connection
    is then reopened: 1009 for a frame over the hard cap, 1008 after a refused private-link token.
    """
    from websockets.sync.client import connect as sync_connect

    conn = Identity()
    stack = ExitStack()

    def open_ws() -> Any:
        ws = stack.enter_context(sync_connect(url, open_timeout=10, max_size=2**22, compression=None))
        conn.role = conn.device = None
        if hello_as is not None:
            device = f"fuzz{random.getrandbits(48):012x}"
            hello = {"type": "hello", "role": hello_as, "device_id": device}
            ws.send(json.dumps({**hello, "token": token} if token else hello))
            first = json.loads(ws.recv(10))
            if first["type"] != "state":
                raise AssertionError(f"hello as {hello_as} refused: {first}")
            conn.role, conn.device = hello_as, _voter(first) or device
        stats.replies[f"connected_as_{hello_as}"] += 1
        return ws

    ws = open_ws()
    try:
        for n, frame in enumerate(frames):
            stats.frames += 1
            ws.send(frame)
            replies: list[dict[str, Any]] = []
            sentinel = -7_777_777_000 - n  # a fuzz frame can be a ping too: its pong must not pass for ours
            try:
                ws.send(json.dumps({"type": "ping", "t": sentinel}))
                while True:
                    reply = json.loads(ws.recv(10))
                    if reply["type"] == "pong" and reply.get("t") == sentinel:
                        break
                    replies.append(reply)
                    if reply["type"] == "error":
                        stats.errors[reply["code"]] += 1
                        if reply["code"] not in ERROR_CODES or not reply.get("message"):
                            stats.failures.append(f"undocumented error {reply}")
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                refused = [r.get("code") for r in replies if r["type"] == "error"]
                if len(frame) > HARD_CAP and code == 1009:
                    stats.closed_oversize += 1
                elif code == 1008 and refused and refused[-1] in ("bad_token", "rate_limited"):
                    stats.replies["closed_bad_token"] += 1
                else:
                    stats.failures.append(f"connection closed ({code}) after {frame[:80]!r}; replies {replies}")
                ws = open_ws()
                continue
            if len(frame) > HARD_CAP:
                stats.failures.append(f"a {len(frame)}-character frame did not close the connection")
            _expect(frame, stats, replies, conn)
    finally:
        stack.close()


def run_fuzz(url: str, examples: int, frames_per_example: int = 20, seed: int = 0,
             tokens: dict[str, str] | None = None) -> FuzzStats:
    """`examples` hypothesis-generated lists of frames, each sent over a fresh connection to the hub.

    With `tokens` ({"judge": ..., "finalist": ...}) some connections are a panel judge's or a finalist's.
    """
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    stats = FuzzStats()
    tokens = tokens or {}
    roles = st.sampled_from(["audience", "audience", None, "stage", *tokens])

    @hypothesis_seed(seed)  # the same frames for the same seed
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(frame_strategy(), min_size=frames_per_example, max_size=frames_per_example), roles)
    def one(frames: list[str | bytes], hello_as: str | None) -> None:
        fuzz_connection(url, frames, stats, hello_as, tokens.get(hello_as or ""))

    random.seed(seed)
    one()
    # Whatever hypothesis drew (its choices shift with what ran before in the process), always try the hard cap.
    fuzz_connection(url, [json.dumps({"type": "ping", "pad": "x" * (HARD_CAP + 100)})], stats, "audience", None)
    return stats



def store_changes(before: Dump, after: Dump, stats: FuzzStats) -> list[str]:
    """What the store gained that it should not have: anything but acknowledged votes and scores (and their
    audit events)."""
    out = [f"tables changed: {sorted(set(before) ^ set(after))}"] if set(before) != set(after) else []
    # votes and scores are checked below; an audience hello is issued a voter credential, recorded for forensics
    written = {"votes", "panel_scores", "events", "sqlite_sequence", "credentials"}
    for table in sorted(set(before) & set(after) - written):
        if before[table] != after[table]:
            out.append(f"table {table} changed")

    def votes(dump: Dump) -> set[tuple[str, str]]:
        return {(row[1], row[3]) for row in dump.get("votes", [])}  # (device, message id)

    out += [f"vote {v} stored but never acknowledged" for v in sorted(votes(after) - votes(before) - stats.acked_votes)]
    acked_scores = [json.dumps(sc, sort_keys=True) for sc in stats.acked_scores]
    for row in set(after.get("panel_scores", [])) - set(before.get("panel_scores", [])):
        if json.dumps(json.loads(row[3]), sort_keys=True) not in acked_scores:
            out.append(f"panel score {row[:3]} {row[3]} stored but never acknowledged")
    allowed = {"votes.recorded", "panel.scored", "credentials.issued"}
    old_events = set(before.get("events", []))
    out += [f"event {e[3]} logged" for e in after.get("events", []) if e not in old_events and e[3] not in allowed]
    return out


def fuzz_drill(db_path: Path, log_path: Path, *, examples: int, frames_per_example: int = 20,
               seed: int = 0) -> dict[str, Any]:
    """Fuzz frames at `finale hub` under the supervisor: crashes are restarts, handler failures are in its log.

    Connections say hello as audience, stage, a panel judge or a finalist (with their real private
    tokens), or not at all. The round is open for votes, so judges' scores can be taken and
    finalists' settings are locked.
    """
    from tests.hub_helpers import free_port

    voting_db(db_path, config=with_hub_limits(load_event(DEMO_EVENT), device_messages_per_s=1e6,
                                              ip_messages_per_s=1e6))
    with Store(db_path) as store:
        tokens = {"judge": store.tokens("panelists")["panel-2"], "finalist": store.tokens("finalists")["kai"]}
    before = dump_tables(db_path)
    started = time.perf_counter()
    with supervised_hub(db_path, free_port(), log_path) as sup:
        stats = run_fuzz(ws_url(sup), examples, frames_per_example, seed, tokens)
        alive, crashes = sup.alive, sup.restarts
        healthy = hub_health(sup.url).get("ok") is True
    seconds = time.perf_counter() - started
    log = log_path.read_text(encoding="utf-8", errors="replace")
    return {"frames_sent": stats.frames, "hub_crashes": crashes + (0 if alive else 1), "healthy_after": healthy,
            "handler_failures": log.count("connection handler failed"), "tracebacks_in_log": log.count("Traceback"),
            "error_frames": dict(stats.errors.most_common()), "valid_frame_replies": dict(stats.replies),
            "acked": {"votes": len(stats.acked_votes), "scores": len(stats.acked_scores)},
            "closed_oversize_1009": stats.closed_oversize, "unanswered_or_wrong": len(stats.failures),
            "failures": stats.failures[:20], "store_unexpected": store_changes(before, dump_tables(db_path), stats),
            "frames_per_s": round(stats.frames / seconds, 1), "seconds": round(seconds, 1)}
