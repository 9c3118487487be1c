"""`finale hub`, `finale judges` and `finale finalists`: the hub's commands, added to the `finale` group.

`finale hub` runs the hub in the foreground (the console starts the same
command as a supervised child, see finale/supervisor.py). The other two print
each private link with a terminal QR code, for the organisers to hand out.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

DB_OPTION = click.option("--db", "db_path", required=True, envvar="FINALE_DB",
                         type=click.Path(exists=True, dir_okay=False, path_type=Path),
                         help="The event database (or set FINALE_DB).")
URL_OPTION = click.option("--public-url", default=None,
                          help="The URL phones reach (default: event.public_url from the event file).")


@click.command("hub")
@DB_OPTION
@click.option("--host", default=None, help="Address to listen on (default: hub.host from the event file).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port to listen on (default: hub.port; 0 picks a free one).")
@URL_OPTION
def hub_cmd(db_path: Path, host: str | None, port: int | None, public_url: str | None) -> None:
    """Run the audience hub: phone voting, judges' and finalists' pages, the stage page."""
    import asyncio
    import time

    from audience.gcpolicy import keep_collections_short
    from audience.server import Hub, HubOptions, run_hub
    from audience.state import voting_open
    from finale.cli import _open_event_db

    with _open_event_db(db_path) as store:
        options = HubOptions.from_config(store.event_config(), host=host, port=port, public_url=public_url)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    background: list[asyncio.Task[None]] = []

    def ready(hub: Hub) -> None:
        click.echo(f"hub listening on http://{options.host}:{hub.port}/ ; join URL {options.join_url}", err=True)
        # no full garbage collection walks 10,000 phones' objects while a poll is open (audience/gcpolicy.py)
        background.append(asyncio.get_running_loop().create_task(keep_collections_short(
            lambda: voting_open(hub.snap.round if hub.snap else None, time.time()))))

    try:
        asyncio.run(run_hub(db_path, options, ready))
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}") from None


def _print_links(db_path: Path, public_url: str | None, table: str, kind: str) -> None:
    from audience.qr import qr_terminal
    from finale.cli import _open_event_db

    with _open_event_db(db_path) as store:
        config = store.event_config()
        tokens = store.tokens(table)
    base = (public_url or config.event.public_url).rstrip("/")
    names = {p.id: p.name for p in (config.panelists if table == "panelists" else config.finalists)}
    for ident, token in tokens.items():
        url = f"{base}/{kind}/{token}"
        click.echo(f"{names.get(ident, ident)} ({ident}): {url}")
        click.echo(qr_terminal(url))


@click.command("judges")
@DB_OPTION
@URL_OPTION
def judges_cmd(db_path: Path, public_url: str | None) -> None:
    """Print each panel judge's private link and its QR code (keep them private)."""
    _print_links(db_path, public_url, "panelists", "judge")


@click.command("finalists")
@DB_OPTION
@URL_OPTION
def finalists_cmd(db_path: Path, public_url: str | None) -> None:
    """Print each finalist's private tuning link and its QR code (keep them private)."""
    _print_links(db_path, public_url, "finalists", "finalist")


HUB_COMMANDS = (hub_cmd, judges_cmd, finalists_cmd)
