"""The Redis key names of one event: one hash tag ({event id}) so every key of an event shares a slot."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

CURRENT_EVENT = "finale:event"  # the event id the bridge serves on this Redis database (nodes discover it)


@dataclass(frozen=True)
class EventKeys:
    """Where each part of one event's audience path lives in Redis."""

    event_id: str

    @property
    def prefix(self) -> str:
        return f"finale:{{{self.event_id}}}"

    @property
    def show(self) -> str:
        """Hash: the published poll (round, version, round_json) and the pages' snapshot."""
        return f"{self.prefix}:show"

    @property
    def nudge(self) -> str:
        """Pub/sub channel: the snapshot changed (a nudge may be lost; the key may not)."""
        return f"{self.prefix}:nudge"

    @property
    def secret(self) -> str:
        """The event's voter secret, for credentials and origin hashes (never logged or exported)."""
        return f"{self.prefix}:secret"

    @property
    def stream(self) -> str:
        """Stream: every counted vote, in arrival order (the drainer's input and its audit record)."""
        return f"{self.prefix}:votes"

    @property
    def credentials(self) -> str:
        """Stream: every voter credential a node issued (voter id, issue time, origin)."""
        return f"{self.prefix}:credentials"

    @property
    def nodes(self) -> str:
        """Hash: node id -> its last report (phones, Redis status, time)."""
        return f"{self.prefix}:nodes"

    @property
    def durability(self) -> str:
        """The event's [scale] durability, wait_replicas and wait_timeout_ms as JSON (never the URL)."""
        return f"{self.prefix}:durability"

    @property
    def pages(self) -> str:
        """The event file's [pages] section as JSON (languages and wording), for nodes without the database."""
        return f"{self.prefix}:pages"

    @property
    def floor(self) -> str:
        """Stream: questions and upvotes from phones on nodes without the database, for the bridge to decide."""
        return f"{self.prefix}:floor"

    def reply(self, reply_id: str) -> str:
        """The bridge's answer to one relayed question or upvote (kept for a minute)."""
        return f"{self.prefix}:reply:{reply_id}"

    def replies(self, node_id: str) -> str:
        """Pub/sub channel: a reply for this node is ready."""
        return f"{self.prefix}:replies:{node_id}"

    def credential_rate(self, origin: str) -> str:
        """Hash: the token bucket of new credentials for one origin (voting.credentials_per_address_per_min)."""
        return f"{self.prefix}:credrate:{origin}"

    def votes(self, round_id: int) -> str:
        """Hash: voter id -> "msg id TAB label TAB origin" of the counted vote."""
        return f"{self.prefix}:r{round_id}:votes"

    def tally(self, round_id: int) -> str:
        """Hash: label -> counted votes (the stage's bars)."""
        return f"{self.prefix}:r{round_id}:tally"

    def origins(self, round_id: int) -> str:
        """Hash: origin -> voters counted from it (voting.devices_per_address)."""
        return f"{self.prefix}:r{round_id}:origins"

    def vote_keys(self, round_id: int) -> list[str]:
        """The KEYS of finale_vote, in its order."""
        return [self.show, self.votes(round_id), self.tally(round_id), self.origins(round_id), self.stream]


async def announce(redis: Redis, keys: EventKeys, secret: bytes) -> None:
    """Name the event this Redis serves and store its voter secret, for nodes without the database."""
    await redis.set(keys.secret, secret.hex())  # type: ignore[misc]
    await redis.set(CURRENT_EVENT, keys.event_id)  # type: ignore[misc]
