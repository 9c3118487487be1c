"""Shared fixtures: throwaway databases holding the bundled demo event; the one Chromium launch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from finale.config import EventConfig, load_event
from finale.demo import DEMO_EVENT
from finale.store import Store

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

pytest_plugins = ["tests.redis_server"]  # the `redis_server` fixture: a real redis-server on loopback

# Every browser test runs Debian's chromium (`make browsers`), headless, with these switches.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync")


def launch_chromium(pw: Playwright) -> Browser:
    """The one Chromium launch of the browser tests; a clear failure when the browser is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browsers` (installs Debian chromium and chromium-driver)")
    return pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for a test module's pages (one per module); a module that defines its own `browser` keeps it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


@pytest.fixture
def demo_config() -> EventConfig:
    return load_event(DEMO_EVENT)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "event.db"


@pytest.fixture
def store(db_path: Path, demo_config: EventConfig) -> Iterator[Store]:
    """A fresh database with the demo event set up."""
    s = Store(db_path)
    s.setup_event(demo_config)
    yield s
    s.close()
