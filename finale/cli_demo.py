"""What `finale demo` and `finale validate` check before they start: the demo hub's port, the rehearsal script.

A demo started while another program holds port 8765 used to leave the console at
"hub: blocked"; it now takes a free port and says which on the terminal. An event
file whose `[rehearsal] script` is missing used to give "I do not have a scripted
answer" for every answer; `finale validate` now refuses it with one line.
"""

from __future__ import annotations

import socket
from pathlib import Path

import click

from finale.config import EventConfig
from finale.hub_port import port_holder


def _free_port() -> int:
    """A port nothing listens on now (the kernel's pick for 127.0.0.1)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_port(port: int | None, db_path: Path, config: EventConfig) -> int:
    """The demo hub's port: the one asked for, else the event's (8765) or, when another program holds it, a free one.

    Said on the terminal (it stays there after the console), so phones and the stage are opened on the right port.
    """
    wanted = config.hub.port if port is None else port
    if wanted == 0:
        return _free_port()
    holder = port_holder(wanted, db_path)
    if holder.kind != "foreign":  # free, or a hub already serving this database (adopted)
        return wanted
    if port is not None:
        raise click.UsageError(f"--port {wanted}: {holder.describe()}; give another --port, or --port 0 for any free "
                               "one")
    chosen = _free_port()
    click.echo(f"finale demo: {holder.describe()}; the hub uses port {chosen} instead: phones at "
               f"http://127.0.0.1:{chosen}/ and the stage at http://127.0.0.1:{chosen}/stage "
               f"(or stop that program, or pass --port)", err=True)
    return chosen


def missing_script(event_file: Path, config: EventConfig) -> str | None:
    """A rehearsal script that is named (or needed by a rehearsal endpoint) but not there, said in one line.

    Without it every rehearsal answer reads "I do not have a scripted answer" and the judge scores by default.
    """
    script = event_file.parent / config.rehearsal.script
    rehearsal = [f"finalists.{f.id}" for f in config.finalists if f.endpoint.kind == "rehearsal"]
    if config.reference is not None and config.reference.endpoint.kind == "rehearsal":
        rehearsal.append("reference")
    if config.judge.kind == "rehearsal":
        rehearsal.append("judge")
    named = "script" in config.rehearsal.model_fields_set
    if script.is_file() or not (named or rehearsal):
        return None
    used = f", used by {', '.join(rehearsal[:3])}{' and more' if len(rehearsal) > 3 else ''}" if rehearsal else ""
    return (f"{event_file.name}: rehearsal.script: no such file {script}{used}; every rehearsal answer would read "
            "'I do not have a scripted answer'")
