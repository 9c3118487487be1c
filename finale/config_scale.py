"""The event file's [scale] section: the audience path across many hub processes on one Redis (audience/scale).

    [scale]
    redis_url = "redis://:password@10.0.0.5:6379/0"
    durability = "everysec"      # or "always"
    wait_replicas = 0            # with "always": acknowledge a vote only once this many replicas have it

`durability` states what the Redis server is expected to do (its own redis.conf sets it;
the hubs and the bridge read it back and /healthz warns when it differs): with AOF
`everysec`, a crash of the Redis *process* usually loses nothing acknowledged (Redis
writes the AOF before it replies, but postpones that write while a slow fsync is still
running) and a crash of its *machine* loses up to about 2 s of votes; with `always` Redis
fsyncs before it replies, and `wait_replicas` adds a WAIT.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from finale.config_endpoints import Strict


class ScaleSection(Strict):
    """Where the hubs share the audience path; no redis_url: one hub on SQLite (the default)."""

    redis_url: str | None = None
    durability: Literal["everysec", "always"] = "everysec"
    wait_replicas: int = Field(default=0, ge=0, le=16)
    wait_timeout_ms: int = Field(default=500, ge=1, le=60_000)

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("redis_url must start with redis://, rediss:// or unix:// "
                             "(for example redis://127.0.0.1:6379/0)")
        return url
