"""The README's deployment samples, read out of the README so the tests run what an organiser copies."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def haproxy_sample() -> str:
    """The README's HAProxy configuration block."""
    found = re.search(r"```haproxy\n(.*?)```", README.read_text(), re.S)
    assert found, "the README has an HAProxy sample"
    return found.group(1)


def health_check_regex() -> str:
    """The regular expression of the sample's `http-check expect rstring`, unquoted."""
    found = re.search(r'http-check expect rstring "((?:[^"\\]|\\.)*)"', haproxy_sample())
    assert found, "the README's HAProxy sample has an http-check expect rstring"
    return found.group(1).replace('\\"', '"')
