"""The hub's log: inert, size-capped and rotated, repeated lines and tracebacks rate limited.

Why each part: a client controls what it sends, and some of it reaches the log
(an Origin header, an exception's text), so every line is made inert and a
message can never start a fake line of its own. One client once grew the log by
4 GB an hour with pipelined bad HTTP requests, each a websockets traceback, and
an exhausted open-files limit wrote 74,073 accept tracebacks: so a kind of line
(its logger, level and message template) is let through a few times per
interval, then counted, and the next one let through says how many were not
shown; websockets' own handshake-failure tracebacks become one summarised line
per interval. A supervised hub writes to a file that rotates at a size cap.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from finale.core.text import inert, one_line

LOG_MAX_BYTES = 10 * 1024 * 1024  # per file; with LOG_BACKUPS old files the log holds at most 40 MB
LOG_BACKUPS = 3
REPEAT_INTERVAL_S = 60.0
REPEAT_BURST = 5  # lines of one kind per interval (tracebacks: 1) before the rest are only counted
MAX_KINDS = 1000  # kinds tracked at once; message templates are few, this only bounds a surprise
# websockets' tracebacks for connections that failed before they were ours: the client's fault, one line enough.
WEBSOCKETS_SUMMARISED = frozenset({"opening handshake failed", "unexpected internal error",
                                   "closing handshake failed"})
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class InertFormatter(logging.Formatter):
    """Each record as one inert line; a traceback follows on indented lines, so no text forges a record."""

    def format(self, record: logging.LogRecord) -> str:
        line = logging.makeLogRecord(record.__dict__)
        line.msg, line.args = one_line(record.getMessage()), None
        text = inert(super().format(line))
        first, *rest = text.split("\n")
        return "\n".join([first, *(r if r.startswith(" ") else "  " + r for r in rest)])


@dataclass
class _Kind:
    start: float
    shown: int = 0
    hidden: int = 0


class RepeatFilter(logging.Filter):
    """At most `burst` records of one kind per `interval_s` (one if it carries a traceback); the rest are counted.

    The first record of a kind after its interval carries the count of those not shown.
    """

    def __init__(self, interval_s: float = REPEAT_INTERVAL_S, burst: int = REPEAT_BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval_s = interval_s
        self.burst = burst
        self.clock = clock
        self._kinds: dict[tuple[str, int, str], _Kind] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        template = str(record.msg)
        summarise = record.name.startswith("websockets") and template in WEBSOCKETS_SUMMARISED
        if summarise:
            exc = record.exc_info[1] if record.exc_info else None
            detail = one_line(str(exc))[:200] if exc is not None else ""
            cause = "" if exc is None else f": {type(exc).__name__}" + (f": {detail}" if detail else "")
            record.msg = f"{record.getMessage()}{cause} (a client's connection; traceback not shown)"
            record.args, record.exc_info, record.exc_text = None, None, None
        key = (record.name, record.levelno, template)
        now = self.clock()
        kind = self._kinds.get(key)
        if kind is None:
            if len(self._kinds) >= MAX_KINDS:
                self._kinds.clear()
            kind = self._kinds[key] = _Kind(now)
        elif now - kind.start >= self.interval_s:
            hidden, elapsed = kind.hidden, now - kind.start
            kind.start, kind.shown, kind.hidden = now, 0, 0
            if hidden:
                record.msg = f"{record.getMessage()} (and {hidden} more like this in the last {elapsed:.0f} s, " \
                             "not shown)"
                record.args = None
        limit = 1 if record.exc_info or summarise else self.burst
        if kind.shown >= limit:
            kind.hidden += 1
            return False
        kind.shown += 1
        return True


class RotatingHubLog(logging.handlers.RotatingFileHandler):
    """A size-capped, rotated log file that also receives the process's stdout and stderr.

    The supervisor points the child's stdout and stderr at the log file; after each rotation they
    are pointed at the new file, so a stray print or a fatal traceback lands in the current file
    (whose size the next rotation check sees) rather than growing a rotated one forever.
    """

    def __init__(self, path: Path, max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS,
                 capture_std: bool = True) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.capture_std = capture_std
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._capture()

    def _capture(self) -> None:
        if not self.capture_std or self.stream is None:
            return
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        for fd in (1, 2):
            os.dup2(self.stream.fileno(), fd)

    def doRollover(self) -> None:
        super().doRollover()
        self._capture()


def setup_hub_logging(log_file: Path | None, *, max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS,
                      interval_s: float = REPEAT_INTERVAL_S) -> logging.Handler:
    """The hub process's logging: to `log_file` (rotated) or to stderr; inert, rate limited; returns the handler.

    websockets' per-connection INFO lines (open, closed, response sent) are left out: with
    thousands of phones they are the log, and the hub's own lines say what matters.
    """
    handler: logging.Handler = logging.StreamHandler(sys.stderr) if log_file is None \
        else RotatingHubLog(log_file, max_bytes, backups)
    handler.setFormatter(InertFormatter(FORMAT))
    handler.addFilter(RepeatFilter(interval_s))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("websockets").setLevel(logging.WARNING)
    return handler
