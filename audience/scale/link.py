"""A hub node's or the bridge's connection to Redis, and what /healthz says about it.

One `redis.asyncio` client per process (its pool reconnects by itself once Redis is back);
`failed`/`succeeded` keep the link's state for /healthz and log one line per change, never
the password of the URL.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

log = logging.getLogger("finale.hub")


def redacted(url: str) -> str:
    """The URL without its password (for logs, /healthz and error messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username + ':' if parts.username else ':'}***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def text(value: object) -> str | None:
    """A reply value as text (the client decodes replies; redis-py's types also allow bytes)."""
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def connect(url: str) -> Redis:
    """The client: decoded strings, short timeouts so a lost Redis is noticed within a couple of seconds.

    A burst has more votes in flight than the pool has connections: they wait up to 2 s for one
    (a BlockingConnectionPool), where the default pool would refuse them at once (MaxConnectionsError,
    so `unavailable` with Redis perfectly well).
    """
    pool = BlockingConnectionPool.from_url(url, decode_responses=True, socket_timeout=2.0,
                                           socket_connect_timeout=2.0, health_check_interval=5,
                                           max_connections=64, timeout=2.0)
    return Redis.from_pool(pool)


@dataclass
class RedisLink:
    """The client and whether it works now."""

    url: str
    redis: Redis = field(init=False)
    ok: bool = True
    error: str | None = None
    since: float = field(default_factory=time.time)
    failures: int = 0
    persistence: dict[str, str] = field(default_factory=dict)
    durability: str = "everysec"  # what the event expects of Redis ([scale] durability, announced by the bridge)

    def __post_init__(self) -> None:
        self.redis = connect(self.url)

    def failed(self, exc: BaseException) -> None:
        """A command failed: votes are refused `unavailable` until one succeeds again."""
        self.failures += 1
        reason = f"{type(exc).__name__}: {exc}".replace(self.url, redacted(self.url))
        if self.ok:
            log.warning("Redis at %s is unavailable (%s); votes are refused until it is back", redacted(self.url),
                        reason)
            self.ok, self.since = False, time.time()
        self.error = reason

    def succeeded(self) -> None:
        """A command worked: if Redis was down, it is back."""
        if not self.ok:
            log.info("Redis at %s is back after %.1f s", redacted(self.url), time.time() - self.since)
            self.ok, self.error, self.since = True, None, time.time()

    async def check(self) -> bool:
        """PING, and read how Redis persists (for /healthz: what a Redis crash would lose)."""
        try:
            await self.redis.ping()  # type: ignore[misc]
        except RedisError as exc:
            self.failed(exc)
            return False
        self.succeeded()
        try:  # a managed Redis may forbid CONFIG: then the persistence is not known here
            conf = await self.redis.config_get("append*")  # type: ignore[misc]
        except RedisError as exc:
            self.persistence = {"unknown": f"CONFIG GET refused ({exc})"}
        else:
            self.persistence = {k: str(v) for k, v in conf.items() if k in ("appendonly", "appendfsync")}
        return True

    def warnings(self) -> list[str]:
        """Where Redis persists less than the event expects (what a crash would lose that it should not)."""
        if "unknown" in self.persistence or not self.persistence:
            return []
        if self.persistence.get("appendonly") != "yes":
            return ["Redis has appendonly no: a Redis restart loses every vote not yet drained into SQLite"]
        if self.durability == "always" and self.persistence.get("appendfsync") != "always":
            return [f"the event asks for durability always but Redis has appendfsync "
                    f"{self.persistence.get('appendfsync')}: a crash of its machine may lose about 1 s of votes"]
        return []

    def report(self) -> dict[str, Any]:
        """What /healthz and the console show about Redis."""
        return {"url": redacted(self.url), "ok": self.ok, "error": self.error, "since": self.since,
                "failures": self.failures, "persistence": self.persistence, "durability": self.durability,
                "warnings": self.warnings()}

    async def close(self) -> None:
        await self.redis.aclose()
