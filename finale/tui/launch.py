"""`finale demo` and `finale run`: open the console on a database and supervise the audience hub."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from finale.tui.app import create_app


def start_hub(db_path: Path, event_file: Path) -> Any | None:
    """Start the hub as a supervised child process; None when this build has no hub supervisor."""
    try:
        module = importlib.import_module("finale.supervisor")
    except ImportError:
        return None
    supervisor = module.HubSupervisor(db_path=db_path, event_file=event_file)
    supervisor.start()
    return supervisor


def hub_url_of(supervisor: Any, fallback: str) -> str:
    """Where the supervised hub answers /healthz (the event's public URL unless the supervisor says)."""
    url = getattr(supervisor, "url", None)
    return str(url) if url else fallback


def run_console(db_path: Path, event_file: Path, *, seed: int = 7, time_scale: float = 1.0,
                hub_url: str | None = None, start_hub_process: bool = True) -> None:
    """Run the console until the MC quits; a supervised hub is stopped on the way out."""
    app = create_app(db_path, event_file, seed=seed, time_scale=time_scale, hub_url=hub_url)
    supervisor = None
    if hub_url is None and start_hub_process:
        supervisor = start_hub(db_path, event_file)
        if supervisor is not None:
            app.hub_url = hub_url_of(supervisor, app.config.event.public_url)
    try:
        app.run()
    finally:
        if supervisor is not None:
            supervisor.stop()
