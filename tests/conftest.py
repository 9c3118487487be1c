"""Shared fixtures: throwaway databases holding the bundled demo event."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from finale.config import EventConfig, load_event
from finale.demo import DEMO_EVENT
from finale.store import Store


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
