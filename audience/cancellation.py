"""Loops that end when they are cancelled, even when a library swallowed the cancellation.

CPython 3.11's `asyncio.wait_for` returns the awaited result, instead of raising, when the
cancellation arrives in the same turn of the loop as that result (gh-86296; 3.12 rewrote it on
`asyncio.timeout`). redis-py 8.1 sends each command through `wait_for` (its socket
timeout; a trace on a real redis-server put the swallowed cancellation there), so a hub's watcher or a
bridge's drain loop cancelled at that moment carried on as if nothing had happened, and
`Hub.stop` waited for it forever (seen in CI: a hub node that never stopped). The task still
says it was asked (`Task.cancelling()`), so each long-running loop calls `checkpoint()` once a
turn, and shutdown uses `cancel_and_wait`, which asks again and never waits without a bound.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("finale.hub")


def checkpoint() -> None:
    """Raise CancelledError if this task was cancelled and something it awaited swallowed it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]], what: str, grace_s: float = 5.0,
                          again_s: float = 0.5) -> set[asyncio.Task[Any]]:
    """Cancel the tasks and wait for them, cancelling again every `again_s` those that carry on.

    Returns the tasks still running after `grace_s`, named in a warning about stopping `what`:
    a stop that waits for ever is worse than one that leaves a task behind. A task that ended with an
    error on its way out has it logged here, since no one awaits it any more.
    """
    every = list(tasks)
    pending = {t for t in every if not t.done()}
    deadline = time.monotonic() + grace_s
    while pending:
        for task in pending:
            task.cancel()
        left = deadline - time.monotonic()
        if left <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(again_s, left))
    for task in every:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("%s: %s ended with an error on its way out", what, task.get_name(), exc_info=task.exception())
    if pending:
        log.warning("stopping %s left %d task(s) running: %s", what, len(pending),
                    ", ".join(sorted(t.get_name() for t in pending)))
    return pending

