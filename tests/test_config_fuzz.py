"""Fuzzed event files: every input either validates or gives a ConfigError naming a key; nothing else."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from finale.config import ConfigError, EventConfig, parse_event
from finale.demo import DEMO_EVENT

BASE: dict[str, Any] = tomllib.loads(DEMO_EVENT.read_text())

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40), st.sampled_from(["sagemaker", "bedrock", "openai", "rehearsal", "", "ray", "A"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10),
                                                                                           inner, max_size=4),
                      max_leaves=12)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(BASE)


def _check(data: Any) -> None:
    try:
        result = parse_event(data)
    except ConfigError as exc:
        lines = str(exc).splitlines()
        assert lines and all(line.startswith("event.toml: ") and line.count(": ") >= 2 for line in lines), lines
    else:
        assert isinstance(result, EventConfig)
        result.to_core()


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PATHS), values)
def test_replacing_any_value_gives_a_valid_event_or_a_clear_error(path: tuple[Any, ...], value: Any) -> None:
    data = copy.deepcopy(BASE)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    _check(data)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PATHS))
def test_deleting_any_key_gives_a_valid_event_or_a_clear_error(path: tuple[Any, ...]) -> None:
    data = copy.deepcopy(BASE)
    node = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    _check(data)


@settings(max_examples=200, deadline=None)
@given(values)
def test_arbitrary_documents_give_a_clear_error(value: Any) -> None:
    _check(value if isinstance(value, dict) else {"event": value})


RAW = DEMO_EVENT.read_bytes()


@st.composite
def damaged_files(draw: st.DrawFn) -> bytes:
    """The demo event file as bytes, cut short or with bytes replaced, inserted or deleted (any bytes)."""
    data = bytearray(RAW)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["cut", "replace", "insert", "delete"]))
        chunk = draw(st.binary(min_size=1, max_size=8) | st.text(max_size=8).map(str.encode))
        if op == "cut":
            del data[at:]
        elif op == "replace":
            data[at:at + len(chunk)] = chunk
        elif op == "insert":
            data[at:at] = chunk
        else:
            del data[at:at + len(chunk)]
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(damaged_files())
def test_a_damaged_event_file_loads_or_gives_a_clear_error(raw: bytes) -> None:
    """The file as the CLI reads it: bad bytes and bad TOML are one clear error, never a traceback."""
    import tempfile
    from pathlib import Path

    from finale.config import load_event

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "event.toml"
        path.write_bytes(raw)
        try:
            config = load_event(path)
        except ConfigError as exc:
            lines = str(exc).splitlines()
            assert lines and all(line.startswith("event.toml: ") for line in lines), lines
        else:
            config.to_core()


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path: Any) -> None:
    """Found by the damaged-file fuzzer: a Latin-1 byte raised UnicodeDecodeError (a traceback)."""
    import pytest

    from finale.config import load_event

    path = tmp_path / "event.toml"
    path.write_bytes(RAW.replace(b"rehearsal)", "répétition)".encode("latin-1"), 1))
    with pytest.raises(ConfigError, match=r"^event\.toml: not UTF-8 text \(byte \d+\); save the event file as UTF-8"):
        load_event(path)
