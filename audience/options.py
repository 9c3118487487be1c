"""How the hub listens and whom it lets in: HubOptions and the WebSocket origins it accepts.

Kept apart from the server so the CLI, the supervisor and the tests can build
options without pulling in the running hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from websockets.typing import Origin

from finale.config import EventConfig


@dataclass(frozen=True)
class HubOptions:
    """How the hub listens and what it tolerates; defaults suit a venue of a few thousand phones."""

    host: str = "127.0.0.1"
    port: int = 8765
    public_url: str = "http://127.0.0.1:8765"
    allowed_origins: tuple[str, ...] = ()
    # load balancers whose X-Forwarded-For names the phone (finale/core/forwarded.py); empty: the TCP peer is the phone
    trusted_proxies: tuple[str, ...] = ()
    max_connections_per_ip: int = 2000
    device_messages_per_s: float = 5.0
    ip_messages_per_s: float = 2000.0
    token_tries_per_min: int = 10
    max_size: int = 32 * 1024
    # a connection that stops reading costs at most: the kernel's queue (SO_SNDBUF, doubled by the kernel), the
    # transport's buffer up to its high-water mark (websockets' write_limit) or one frame, and is dropped (1013)
    # after slow_reader_s behind (audience.broadcast.Outbox, audience.connection)
    send_buffer: int = 64 * 1024
    write_limit: int = 32 * 1024
    slow_reader_s: float = 5.0
    ping_interval: float = 10.0
    ping_timeout: float = 10.0
    poll_interval: float = 0.05
    tally_interval: float = 0.25
    hello_timeout: float = 15.0
    late_grace_s: float = 30.0  # voting.late_grace_seconds: how late a stalled hub may read a vote (core.poll)
    down_since: float | None = None  # the last heartbeat of the hub this one replaces (from its supervisor)
    redis_url: str | None = None  # [scale] redis_url: votes through Redis, one node of many (audience/scale)
    event_id: str | None = None  # with redis_url and no database: which event's show to serve (default: Redis says)

    @classmethod
    def from_config(cls, config: EventConfig, *, host: str | None = None, port: int | None = None,
                    public_url: str | None = None, down_since: float | None = None,
                    redis_url: str | None = None, trusted_proxies: tuple[str, ...] = ()) -> HubOptions:
        """The event file's [hub] section, with command-line overrides."""
        h = config.hub
        return cls(host=host or h.host, port=port if port is not None else h.port,
                   public_url=public_url or config.event.public_url, allowed_origins=h.allowed_origins,
                   trusted_proxies=trusted_proxies or h.trusted_proxies,
                   max_connections_per_ip=h.max_connections_per_ip, device_messages_per_s=h.device_messages_per_s,
                   ip_messages_per_s=h.ip_messages_per_s, token_tries_per_min=h.token_tries_per_min,
                   late_grace_s=config.voting.late_grace_seconds, down_since=down_since,
                   redis_url=redis_url or config.scale.redis_url)

    @property
    def join_url(self) -> str:
        return self.public_url.rstrip("/") + "/"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allowed_origins(options: HubOptions, port: int) -> list[Origin | None]:
    """The public URL's origin, the listening host:port itself, and the configured extras.

    `None` (no Origin header) is accepted: browsers always send one, so only
    non-browser clients omit it, and they could forge any value anyway.
    """
    hosts = {options.host}
    if options.host in ("127.0.0.1", "localhost", "0.0.0.0", "::"):
        hosts |= {"127.0.0.1", "localhost"}
    found: list[Origin | None] = [Origin(_origin(options.public_url))]
    found += [Origin(f"{scheme}://{h}:{port}") for h in sorted(hosts) for scheme in ("http", "https")]
    found += [Origin(o.rstrip("/")) for o in options.allowed_origins]
    return [*dict.fromkeys(found), None]
