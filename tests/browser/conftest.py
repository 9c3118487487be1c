"""The browser tests' shared fixture: one Chromium per test module (tests/conftest.py launches it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import launch_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for this module's pages; a module that defines its own `browser` keeps it."""
    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()
