"""`finale demo` and `finale run`: open the console on a database and supervise the audience hub."""

from __future__ import annotations

import threading
from pathlib import Path

from finale.supervisor import HubSupervisor
from finale.tui.app import create_app


class _HubStarter:
    """Starts the hub once the first screen is up, never after the console has begun shutting down."""

    def __init__(self, supervisor: HubSupervisor) -> None:
        self.supervisor = supervisor
        self._lock = threading.Lock()
        self._closing = False

    def start(self) -> None:
        with self._lock:
            if not self._closing:
                self.supervisor.start()

    def stop(self) -> None:
        with self._lock:
            self._closing = True
            self.supervisor.stop()

    def detach(self) -> None:
        with self._lock:
            self._closing = True
            self.supervisor.detach()


def run_console(db_path: Path, event_file: Path, *, seed: int = 7, time_scale: float = 1.0,
                hub_port: int | None = None,
                hub_url: str | None = None, start_hub_process: bool = True, operator: str | None = None) -> None:
    """Run the console until the MC quits; a supervised hub is stopped on the way out.

    `operator` is the person at the console, on the record for every intent (default: the login name).
    """
    app = create_app(db_path, event_file, seed=seed, time_scale=time_scale, hub_url=hub_url, operator=operator)
    starter: _HubStarter | None = None
    if hub_url is None and start_hub_process:
        local = f"http://127.0.0.1:{hub_port}" if hub_port else None  # a demo moved off the event's port
        starter = _HubStarter(HubSupervisor(db_path, port=hub_port, public_url=local,
                                            event_file=event_file))  # the store holds the event setup now
        app.use_hub(starter.supervisor.url)
        app.after_first_paint = starter.start  # the hub's start-up must not delay the first screen
        app.hub_watch = starter.supervisor
        app.on_terminal_lost = starter.detach
    try:
        app.run()
    finally:
        if starter is not None:
            starter.stop()
