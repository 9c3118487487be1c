"""The `--db` option of every command, and opening the database it names, in one place.

Both finale/cli.py and audience/commands.py use it; it lives apart from finale.cli so
the hub's commands need not import the console's command module (import-linter
keeps audience off finale.cli).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from finale.store import Store, StoreError

F = TypeVar("F", bound=Callable[..., object])

DB_ENVVAR = "FINALE_DB"
EXISTING_DB_HELP = f"The event database (or set {DB_ENVVAR})."


def db_option(help_text: str | None = EXISTING_DB_HELP, *, existing: bool = True, required: bool = True,
              envvar: bool = True) -> Callable[[F], F]:
    """The `--db PATH` option (parameter `db_path`, a Path to a file, never a folder).

    `existing`: the file must be there already (click says so otherwise); `envvar`: FINALE_DB
    may give it instead. Commands that create a database pass existing=False, required=False.
    """
    return click.option("--db", "db_path", required=required, envvar=DB_ENVVAR if envvar else None,
                        help=help_text,
                        type=click.Path(exists=existing, dir_okay=False, path_type=Path))


def open_event_db(db_path: Path) -> Store:
    """The existing event database `--db` names, or one usage error saying what is wrong with the argument.

    Nothing is created or written when it is refused (Store.open_existing probes read-only).
    """
    try:
        return Store.open_existing(db_path)
    except StoreError as exc:
        raise click.UsageError(str(exc)) from None
