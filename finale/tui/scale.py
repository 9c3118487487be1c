"""The console's side of Redis (`[scale] redis_url`): the bridge runs as one named worker of the app.

It publishes the show for every hub node and drains their votes into this database exactly once
(audience.scale.bridge). Redis being unreachable at the start or later is a warning toast and a
retry, never the end of the show: the nodes keep acknowledged votes in Redis until it drains them.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from textual import work

from audience.scale.bridge import Bridge
from audience.scale.link import redacted

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

RETRY_S = 2.0


class ScaleBridgeMixin:
    """`run_redis_bridge`: the publisher and drainer of a console whose hubs share a Redis."""

    redis_url: str | None
    bridge: Bridge | None

    if TYPE_CHECKING:
        def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
                   timeout: float | None = None, markup: bool = False) -> None: ...

    @work(name="redis-bridge", exclusive=True, group="scale")
    async def run_redis_bridge(self, db_path: Path) -> None:
        """Start the bridge (retrying while Redis is unreachable) and run it until the console ends."""
        url = self.redis_url
        if url is None:
            return
        warned = False
        while True:
            bridge = Bridge(db_path, url)
            try:
                await bridge.start()
            except RedisError as exc:
                await bridge.close()
                if not warned:
                    self.notify(f"Redis at {redacted(url)} is unreachable ({type(exc).__name__}); the hubs keep "
                                "votes there until it is back. Retrying.", title="Redis", severity="warning",
                                timeout=10)
                    warned = True
                await asyncio.sleep(RETRY_S)
                continue
            break
        self.bridge = bridge
        try:
            await bridge.run()
        finally:
            with contextlib.suppress(Exception):
                await bridge.close()
            self.bridge = None
