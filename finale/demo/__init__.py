"""The bundled rehearsal event: five scripted finalists, a reference, a panel and a deck."""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).parent
DEMO_EVENT = DEMO_DIR / "event.toml"
