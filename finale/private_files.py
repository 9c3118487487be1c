"""Files that hold the show's data (exports, reports) are created readable by their owner only, like the database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def open_private(path: Path, newline: str | None = None) -> Iterator[IO[str]]:
    """Open `path` for writing text, created (or narrowed, if it existed) to mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
        yield fh


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600."""
    with open_private(path) as fh:
        fh.write(text)
