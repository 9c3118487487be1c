"""A frame's JSON text to a value: the strict decoder and msgspec's fast one, held to the same answer.

The strict decoder is json.loads with hooks that refuse what JSON has no exact value
for (NaN, Infinity, integers of more than MAX_INT_DIGITS digits). msgspec decodes a
frame in a tenth of that time; what it accepts, json.loads accepts with the same value
(tests/test_protocol_fast.py), and it refuses NaN, Infinity, numbers beyond a double
and lone surrogates, so a value with no over-long integer needs neither check.
audience.protocol turns the errors here into its `ProtocolError`s.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import msgspec

MAX_INT_DIGITS = 15  # integers beyond this are not exact as JSON doubles; no field needs them
INT_LIMIT = 10**MAX_INT_DIGITS  # an integer this large has more digits than the strict decoder takes
_SURROGATE = re.compile("[\ud800-\udfff]")
_FAST_DECODE = msgspec.json.Decoder().decode
_FAST_MAX_OPENERS = 256  # brackets and braces: nesting far from the recursion limit, where json.loads stops


class BadNumber(ValueError):
    """A JSON number the hub does not take: NaN, Infinity, or beyond double precision (its text is the message)."""


class BadJson(ValueError):
    """Text that is not JSON at all."""


def _int(text: str) -> int:
    # Found by fuzzing: a huge integer made math.isfinite/float() raise OverflowError in the handler (close 1011).
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise BadNumber(f"{text[:20]}... ({len(text)} digits)" if len(text) > 24 else text)
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadNumber(text[:24])
    return value


def _constant(name: str) -> float:
    raise BadNumber(name)  # NaN, Infinity, -Infinity: Python reads them, JSON has no such numbers


def _short_ints(value: Any) -> bool:
    """No integer in `value` has more than MAX_INT_DIGITS digits (walked without recursion)."""
    stack = [[value]]
    while stack:
        container = stack.pop()
        for item in container.values() if type(container) is dict else container:
            kind = type(item)
            if kind is int:
                if not -INT_LIMIT < item < INT_LIMIT:
                    return False
            elif kind is dict or kind is list:
                stack.append(item)
    return True


def decode(raw: str, fast: bool = True) -> tuple[Any, bool]:
    """The JSON value, and whether it is known to hold no refused number and no lone surrogate.

    Raises BadNumber or BadJson. Anything msgspec refuses takes the strict decoder, whose errors
    say what is wrong; `fast=False` always does (the tests' reference).
    """
    if fast and raw.count("[") + raw.count("{") <= _FAST_MAX_OPENERS:
        try:
            obj = _FAST_DECODE(raw)
        except (ValueError, RecursionError):  # msgspec.DecodeError, UnicodeEncodeError
            pass
        else:
            if _short_ints(obj):
                return obj, True
    try:
        return json.loads(raw, parse_int=_int, parse_float=_float, parse_constant=_constant), False
    except BadNumber:
        raise
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise BadJson("not JSON") from None


def lone_surrogate(obj: dict[str, Any]) -> str | None:
    """The top-level field holding a lone UTF-16 surrogate somewhere (in a value or a key), else None.

    JSON may spell one (`"\\ud800"`); Python keeps it, but no UTF-8 encoder takes it, so it would
    fail later in a store look-up, an error frame or the database. Walked without recursion.
    """
    for key, value in obj.items():
        stack: list[Any] = [key, value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                if _SURROGATE.search(item):
                    return f"the field {key!r}" if not _SURROGATE.search(key) else "a field name"
            elif isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return None
