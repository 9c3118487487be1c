"""Can phones reach the hub? Catches the classic venue mistakes in the event file before the doors open.

Pure: looks only at `hub.host`, `hub.port` and `event.public_url` (the URL in the QR code and the private links).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from finale.config import EventConfig

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: reachable from this machine only."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def reach_warnings(config: EventConfig) -> list[str]:
    """One sentence per problem between where the hub binds and the URL phones are sent to; empty when they agree."""
    host, port = config.hub.host, config.hub.port
    url = config.event.public_url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"event.public_url {url!r} is not an http(s) URL with a host: phones cannot open it"]
    warnings = []
    if is_loopback(host) and not is_loopback(parts.hostname):
        warnings.append(f"the hub listens on {host} (this machine only) but phones are sent to {url}: "
                        'set hub.host = "0.0.0.0" (or that address) so the venue network reaches it')
    if is_loopback(parts.hostname) and not is_loopback(host):
        warnings.append(f"phones are sent to {url}, which on a phone means the phone itself: set "
                        "event.public_url to this machine's address on the venue network")
    url_port = parts.port or (443 if parts.scheme == "https" else 80)
    if url_port != port:
        warnings.append(f"event.public_url uses port {url_port} but the hub listens on {port}: fine behind a "
                        "reverse proxy, otherwise make them the same")
    return warnings
