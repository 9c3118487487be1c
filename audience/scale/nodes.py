"""The hub nodes on one Redis: each reports itself every second; the console lists the live ones."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from audience.scale.keys import EventKeys
from audience.scale.link import text

REPORT_INTERVAL_S = 1.0
STALE_AFTER_S = 5.0  # a node not heard of for this long is not counted (killed, or cut from Redis)


@dataclass(frozen=True)
class NodeReport:
    """One node as it last reported itself."""

    node_id: str
    phones: int
    stage: int
    votes: int
    redis_ok: bool
    at: float

    def live(self, now: float) -> bool:
        return now - self.at < STALE_AFTER_S


async def report(redis: Redis, keys: EventKeys, node: NodeReport) -> None:
    """Write this node's report (the bridge and the console read them)."""
    await redis.hset(keys.nodes, node.node_id, json.dumps(node.__dict__))  # type: ignore[misc]


def parse_reports(raw: dict[str, str]) -> list[NodeReport]:
    """Reports as stored; an unreadable one (another version, a hand edit) is skipped, not fatal."""
    nodes = []
    for value in raw.values():
        try:
            fields: dict[str, Any] = json.loads(value)
            nodes.append(NodeReport(str(fields["node_id"]), int(fields["phones"]), int(fields["stage"]),
                                    int(fields["votes"]), bool(fields["redis_ok"]), float(fields["at"])))
        except (ValueError, KeyError, TypeError):
            continue
    return sorted(nodes, key=lambda n: n.node_id)


async def live_nodes(redis: Redis, keys: EventKeys, now: float | None = None) -> list[NodeReport]:
    """The nodes heard of within STALE_AFTER_S, by id."""
    at = time.time() if now is None else now
    raw = await redis.hgetall(keys.nodes)  # type: ignore[misc]
    return [n for n in parse_reports({str(k): str(text(v)) for k, v in raw.items()}) if n.live(at)]
