"""`finale demo` and `finale run`: open the console on a database and supervise the audience hub."""

from __future__ import annotations

from pathlib import Path

from finale.supervisor import HubSupervisor
from finale.tui.app import create_app


def run_console(db_path: Path, event_file: Path, *, seed: int = 7, time_scale: float = 1.0,
                hub_url: str | None = None, start_hub_process: bool = True) -> None:
    """Run the console until the MC quits; a supervised hub is stopped on the way out."""
    app = create_app(db_path, event_file, seed=seed, time_scale=time_scale, hub_url=hub_url)
    supervisor: HubSupervisor | None = None
    if hub_url is None and start_hub_process:
        supervisor = HubSupervisor(db_path, event_file=event_file)  # the store now holds the event setup
        supervisor.start()
        app.use_hub(supervisor.url)
    try:
        app.run()
    finally:
        if supervisor is not None:
            supervisor.stop()
