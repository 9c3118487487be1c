"""Loading the Redis function library (functions.lua) that records votes and publishes the show."""

from __future__ import annotations

from importlib import resources

from redis.asyncio import Redis

LIBRARY = "finale"


def library_code() -> str:
    """The Lua source shipped with the package."""
    return resources.files("audience.scale").joinpath("functions.lua").read_text(encoding="utf-8")


async def ensure_library(redis: Redis) -> None:
    """Load (or replace with this version) the `finale` library; every node and the bridge may call it."""
    await redis.function_load(library_code(), replace=True)  # type: ignore[misc]
