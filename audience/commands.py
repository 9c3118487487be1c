"""`finale hub`, `finale judges` and `finale finalists`: the hub's commands, added to the `finale` group.

`finale hub` runs the hub in the foreground (the console starts the same
command as a supervised child, see finale/supervisor.py). The other two print
each private link with a terminal QR code, for the organisers to hand out.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from finale.cli_options import db_option, open_event_db

DB_OPTION = db_option()
HUB_DB_OPTION = db_option("The event database (or set FINALE_DB). A hub with it is the primary: it also serves the "
                          "judges' and finalists' pages. With --redis it may be left out: the node serves phones "
                          "and stages from the show the console publishes on Redis.", required=False)
REDIS_OPTION = click.option("--redis", "redis_url", default=None, envvar="FINALE_REDIS_URL",
                            help="Share the audience path with other hubs on this Redis (default: [scale] redis_url "
                                 "of the event file; or set FINALE_REDIS_URL, which keeps a password out of the "
                                 "event file).")


def _proxies(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """--trusted-proxy entries, each an IP address or network (finale.core.forwarded)."""
    from finale.core.forwarded import BadProxy, trusted_networks

    try:
        trusted_networks(value)
    except BadProxy as exc:
        raise click.BadParameter(str(exc)) from None
    return value


URL_OPTION = click.option("--public-url", default=None,
                          help="The URL phones reach (default: event.public_url from the event file).")
LINKS_DB_OPTION = db_option("The event database (or set FINALE_DB; default with --event: EVENT_FILE with the "
                            "suffix .db, as `finale run` uses).", existing=False, required=False)
EVENT_OPTION = click.option("--event", "event_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                            help="Set the database up from this event file first (created if missing), so the "
                                 "links can be handed out before the show; tokens already issued are kept.")


@click.command("hub")
@HUB_DB_OPTION
@REDIS_OPTION
@click.option("--host", default=None, help="Address to listen on (default: hub.host from the event file).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port to listen on (default: hub.port; 0 picks a free one).")
@URL_OPTION
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the log to this file, rotated at 10 MB (3 old files kept), instead of to stderr; "
                   "the console's supervisor passes it.")
@click.option("--trusted-proxy", "trusted_proxies", multiple=True, callback=_proxies, metavar="ADDRESS",
              help="A load balancer in front of this hub (an address or a network such as 10.0.0.0/24; repeat "
                   "for several): the phone's address is the one its X-Forwarded-For names. Default: "
                   "hub.trusted_proxies from the event file, else none (the TCP peer is the phone).")
@click.option("--event-id", default=None, metavar="ID",
              help="For a node without --db: serve this event (its id is `event_id` on the primary hub's /healthz) "
                   "even when another console publishes on the same Redis. Default: the event "
                   "the last console to start announced.")
@click.option("--down-since", type=float, default=None, hidden=True,
              help="For the supervisor: the last heartbeat (epoch seconds) of the hub this one replaces, so votes "
                   "cast while no hub ran still count within voting.late_grace_seconds.")
def hub_cmd(db_path: Path | None, redis_url: str | None, host: str | None, port: int | None,
            public_url: str | None, log_file: Path | None, trusted_proxies: tuple[str, ...],
            event_id: str | None, down_since: float | None) -> None:
    """Run the audience hub: phone voting, judges' and finalists' pages, the stage page.

    With --redis, one node of many sharing the votes on Redis (see the README's deployment section).
    """
    import asyncio
    import time

    from audience.capacity import ENOUGH_PHONES, raise_open_files
    from audience.gcpolicy import keep_collections_short
    from audience.hublog import setup_hub_logging
    from audience.reach import reach_warnings
    from audience.server import Hub, HubOptions, run_hub
    from finale.core.poll import voting_open

    if event_id is not None and db_path is not None:
        raise click.UsageError("--event-id is for a node without --db: a hub with the database serves that "
                               "database's event")
    if db_path is None:
        if redis_url is None:
            raise click.UsageError("say which event: --db PATH (the event database), or --redis URL for a node "
                                   "that follows the show on Redis")
        options = HubOptions(host=host or "127.0.0.1", port=port if port is not None else 8765,
                             public_url=public_url or "http://127.0.0.1:8765", redis_url=redis_url,
                             trusted_proxies=trusted_proxies, event_id=event_id)
        _run_node(options, log_file)
        return
    with open_event_db(db_path) as store:
        config = store.event_config()
    options = HubOptions.from_config(config, host=host, port=port, public_url=public_url, down_since=down_since,
                                     redis_url=redis_url, trusted_proxies=trusted_proxies)
    config = config.model_copy(update={  # the warnings judge what this hub really does, flags included
        "hub": config.hub.model_copy(update={"host": options.host, "port": options.port or config.hub.port}),
        "event": config.event.model_copy(update={"public_url": options.public_url})})
    setup_hub_logging(log_file)  # inert, rate-limited lines; a log file is size-capped and rotated
    files = raise_open_files()  # every phone is an open file: the soft limit goes up to the hard one
    logging.getLogger("finale.hub").log(logging.INFO if files.phones >= ENOUGH_PHONES else logging.WARNING,
                                        files.line())

    background: list[asyncio.Task[None]] = []

    def ready(hub: Hub) -> None:
        click.echo(f"hub listening on http://{options.host}:{hub.port}/ ; join URL {options.join_url}", err=True)
        for warning in reach_warnings(config):
            click.echo(f"warning: {warning}", err=True)
        # no full garbage collection walks 10,000 phones' objects while a poll is open (audience/gcpolicy.py)
        background.append(asyncio.get_running_loop().create_task(keep_collections_short(
            lambda: voting_open(hub.snap.round if hub.snap else None, time.time()))))

    try:
        asyncio.run(run_hub(db_path, options, ready))
    except OSError as exc:  # the port is taken or the address is not this machine's: no usage banner, exit 1
        raise click.ClickException(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}") from None


def _run_node(options: object, log_file: Path | None) -> None:
    """A hub node without the database: phones and stages only, the show and the votes on Redis."""
    import asyncio

    from audience.capacity import raise_open_files
    from audience.hublog import setup_hub_logging
    from audience.scale.link import redacted
    from audience.scale.node import NodeStartError
    from audience.server import Hub, HubOptions, run_hub

    assert isinstance(options, HubOptions) and options.redis_url is not None
    setup_hub_logging(log_file)
    logging.getLogger("finale.hub").info(raise_open_files().line())

    def ready(hub: Hub) -> None:
        click.echo(f"hub node listening on http://{options.host}:{hub.port}/ ; event {hub.event_id} on Redis "
                   f"{redacted(options.redis_url or '')}", err=True)

    try:
        asyncio.run(run_hub(None, options, ready))
    except NodeStartError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}") from None


@click.command("drain")
@DB_OPTION
@REDIS_OPTION
def drain_cmd(db_path: Path, redis_url: str | None) -> None:
    """Publish the show on Redis for every hub node and move the votes into the database, exactly once.

    The console does this itself when the event has [scale] redis_url; run it when the console runs elsewhere.
    """
    import asyncio
    import contextlib
    import signal

    from redis.exceptions import RedisError

    from audience.scale.bridge import Bridge
    from audience.scale.link import redacted

    with open_event_db(db_path) as store:
        redis_url = redis_url or store.event_config().scale.redis_url
    if redis_url is None:
        raise click.UsageError("no Redis to drain: pass --redis URL (or set [scale] redis_url in the event file)")
    url = redis_url

    async def main() -> None:
        bridge = Bridge(db_path, url)
        await bridge.start()
        click.echo(f"draining Redis {redacted(url)} into {db_path}; publishing the show", err=True)
        task = asyncio.create_task(bridge.run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await bridge.close()
        click.echo(f"drained {bridge.stats.drained_votes} votes", err=True)

    try:
        asyncio.run(main())
    except RedisError as exc:
        raise click.ClickException(f"Redis at {redacted(url)}: {type(exc).__name__}: {exc}") from None


def _links_db(db_path: Path | None, event_file: Path | None) -> Path:
    """The database to read the links from; with --event it is set up (or created) from the event file first."""
    from finale.config import load_event
    from finale.store import Store

    if event_file is not None:
        db_path = db_path or event_file.with_suffix(".db")
        config = load_event(event_file)
        with Store(db_path) as store:
            store.setup_event(config)
        return db_path
    if db_path is None:
        raise click.UsageError("say which event: --db PATH (an event database) or --event EVENT_FILE")
    if not db_path.exists():
        raise click.UsageError(f"no database at {db_path}; pass --event EVENT_FILE to create it from the event file")
    return db_path


def _print_links(db_path: Path | None, event_file: Path | None, public_url: str | None, table: str,
                 kind: str) -> None:
    from audience.qr import qr_terminal

    db_path = _links_db(db_path, event_file)
    with open_event_db(db_path) as store:
        config = store.event_config()
        tokens = store.tokens(table)
    base = (public_url or config.event.public_url).rstrip("/")
    names = {p.id: p.name for p in (config.panelists if table == "panelists" else config.finalists)}
    for ident, token in tokens.items():
        url = f"{base}/{kind}/{token}"
        click.echo(f"{names.get(ident, ident)} ({ident}): {url}")
        click.echo(qr_terminal(url))


@click.command("judges")
@LINKS_DB_OPTION
@EVENT_OPTION
@URL_OPTION
def judges_cmd(db_path: Path | None, event_file: Path | None, public_url: str | None) -> None:
    """Print each panel judge's private link and its QR code (keep them private)."""
    _print_links(db_path, event_file, public_url, "panelists", "judge")


@click.command("finalists")
@LINKS_DB_OPTION
@EVENT_OPTION
@URL_OPTION
def finalists_cmd(db_path: Path | None, event_file: Path | None, public_url: str | None) -> None:
    """Print each finalist's private tuning link and its QR code (keep them private)."""
    _print_links(db_path, event_file, public_url, "finalists", "finalist")


HUB_COMMANDS = (hub_cmd, drain_cmd, judges_cmd, finalists_cmd)
