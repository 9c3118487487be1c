"""Which address a phone has when the hub stands behind a load balancer: pure, no I/O.

Why: every per-address rule (credentials a minute, voting devices per round,
connections, wrong private links) keys on the client's address. Behind
HAProxy or nginx the TCP peer is the balancer, so without this every phone in
the hall would share one address and `voting.devices_per_address` would count
two votes for the whole event. A balancer says who its client was in
`X-Forwarded-For`; anyone else can write that header too, so it is believed
only from a peer listed in `[hub] trusted_proxies` (or `finale hub
--trusted-proxy`), and only up to the first hop that is not itself a trusted
proxy: the rightmost untrusted entry is the client, whatever a phone put to the
left of it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class BadProxy(ValueError):
    """A trusted-proxy entry that is not an IP address or network."""


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Parse `10.0.0.5`, `10.0.0.0/24` or `fd00::/8`; `BadProxy` names the entry that is neither."""
    networks = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            raise BadProxy(f"trusted proxy {entry!r} is not an IP address or network (expected e.g. 10.0.0.5 "
                           "or 10.0.0.0/24)") from None
        if network.prefixlen == 0:
            raise BadProxy(f"trusted proxy {entry!r} trusts every address: any phone could then choose the address "
                           "its votes count under; list the load balancers' own addresses")
        networks.append(network)
    return tuple(networks)


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _plain(address: Address) -> Address:
    """::ffff:10.0.0.5 (an IPv4 peer on a dual-stack socket) is 10.0.0.5."""
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address


def _trusted(address: Address, networks: Sequence[Network]) -> bool:
    return any(_plain(address) in net for net in networks)


def client_address(peer: str, forwarded_for: Sequence[str], networks: Sequence[Network]) -> str:
    """The client's address: `peer`, unless `peer` is a trusted proxy that says whom it forwarded.

    `forwarded_for` holds the X-Forwarded-For header values in order (a header may be repeated).
    Walking from the right, trusted proxies are skipped and the first other valid address is the
    client; an entry that is not an address ends the walk there (the hop that wrote it is the last
    one believed), as does a chain of trusted proxies only.
    """
    here = _address(peer)
    if here is None or not networks or not _trusted(here, networks):
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    believed = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return believed
        believed = str(_plain(address))
        if not _trusted(address, networks):
            return believed
    return believed


def unforwarded(peer: str, forwarded_for: Sequence[str], networks: Sequence[Network]) -> bool:
    """A trusted proxy that did not say whom it forwarded: every phone behind it would share its address
    (a balancer without `option forwardfor`); the hub says so in its log."""
    here = _address(peer)
    return here is not None and _trusted(here, networks) and not any(v.strip() for v in forwarded_for)
