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
