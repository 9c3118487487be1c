"""Start the hub (a supervised `finale hub` child on a free port, or one already running) and run the autopilot."""

from __future__ import annotations

import asyncio
import resource
import socket
from pathlib import Path

from finale.autopilot.show import AutopilotResult, check_judges, run_autopilot
from finale.config import EventConfig
from finale.store import Store
from finale.supervisor import HubSupervisor


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the hub binds it a moment later)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check_free(host: str, port: int) -> None:
    """Refuse a port another program listens on: its /healthz would pass for our hub's.

    A RuntimeError, not a ValueError: the arguments are fine, the machine's state is in the way.
    """
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the hub binds: TIME_WAIT is no obstacle
        try:
            s.bind((host, port))
        except OSError:
            raise RuntimeError(f"{host}:{port} is already in use (another hub?); stop it, change hub.port in the "
                             "event file, or pass --hub-url to use a hub that is already running") from None


def raise_open_files(needed: int) -> None:
    """Lift the soft limit on open files towards the hard one: every phone is a socket (the hub child inherits)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < needed:
        raise ValueError(f"{needed} phones need about {needed} open files but this system allows {want}; "
                         "raise `ulimit -n` or use fewer phones")


def run_autopilot_show(db_path: Path, config: EventConfig, event_dir: Path, *, phones: int, judges: int, seed: int,
                       time_scale: float, hub_url: str | None = None, host: str = "127.0.0.1",
                       port: int | None = None) -> AutopilotResult:
    """Set up the event in a database without rounds, start the hub unless given one, run the show, stop the hub."""
    check_judges(config, judges)
    if phones < 1:
        raise ValueError("--phones must be at least 1 with --autopilot: a round is final only once votes are cast")
    raise_open_files(phones + 256)
    with Store(db_path) as store:
        store.setup_event(config)
        if store.rounds():
            raise ValueError(f"{db_path} already holds rounds; the autopilot needs a new database (pass a new --db)")
    supervisor: HubSupervisor | None = None
    if hub_url is None:
        bind = host if host not in ("0.0.0.0", "::") else "127.0.0.1"
        if port:
            _check_free(bind, port)
        port = port or free_port(bind)
        supervisor = HubSupervisor(db_path, host=host, port=port, public_url=f"http://{host}:{port}")
        supervisor.start()
        if not supervisor.wait_ready(30):
            supervisor.stop()
            raise RuntimeError(f"the audience hub did not come up within 30 s; see {supervisor.log_path}")
        hub_url = supervisor.url
    try:
        with Store(db_path) as store:
            return asyncio.run(run_autopilot(store, config, event_dir, hub_url, phones=phones, judges=judges,
                                             seed=seed, time_scale=time_scale))
    finally:
        if supervisor is not None:
            supervisor.stop()
