"""Which address a phone has behind a load balancer (finale.core.forwarded): X-Forwarded-For is believed
only from a trusted proxy, and only up to the first hop that is not one."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finale.core.forwarded import BadProxy, client_address, trusted_networks, unforwarded

PROXIES = trusted_networks(["10.0.0.5", "10.1.0.0/16"])
ipv4 = st.ip_addresses(v=4).map(str)


def test_an_untrusted_peer_is_the_phone_whatever_it_claims() -> None:
    assert client_address("198.51.100.9", ["203.0.113.7"], PROXIES) == "198.51.100.9"


def test_a_trusted_proxy_names_the_phone() -> None:
    assert client_address("10.0.0.5", ["203.0.113.7"], PROXIES) == "203.0.113.7"
    assert client_address("10.0.0.5", ["203.0.113.7:51234"], PROXIES) == "203.0.113.7"  # a port is dropped
    assert client_address("::ffff:10.0.0.5", ["[2001:db8::1]:443"], PROXIES) == "2001:db8::1"


def test_the_rightmost_untrusted_hop_is_the_phone_through_chained_proxies() -> None:
    # the phone wrote "1.2.3.4" itself; the edge balancer appended the phone's real address, the inner one its own
    assert client_address("10.0.0.5", ["1.2.3.4, 203.0.113.7, 10.1.2.3"], PROXIES) == "203.0.113.7"
    assert client_address("10.0.0.5", ["1.2.3.4", "203.0.113.7"], PROXIES) == "203.0.113.7"  # repeated header


def test_no_header_garbage_or_only_proxies_stop_at_the_last_believed_hop() -> None:
    assert client_address("10.0.0.5", [], PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", ["203.0.113.7, not-an-address"], PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", ["10.1.0.9"], PROXIES) == "10.1.0.9"
    assert client_address("10.0.0.5", ["203.0.113.7"], ()) == "10.0.0.5", "nothing trusted: the TCP peer"


def test_a_bad_entry_is_named_with_what_is_expected() -> None:
    with pytest.raises(BadProxy, match=r"'balancer' is not an IP address or network \(expected e\.g\. 10\.0\.0\.5"):
        trusted_networks(["10.0.0.5", "balancer"])
    with pytest.raises(BadProxy, match=r"'0\.0\.0\.0/0' trusts every address: any phone could then choose"):
        trusted_networks(["0.0.0.0/0"])


@given(peer=ipv4, claimed=st.lists(ipv4, max_size=4))
def test_only_a_trusted_peer_can_move_the_address(peer: str, claimed: list[str]) -> None:
    if not any(ipaddress.ip_address(peer) in net for net in PROXIES):
        assert client_address(peer, [", ".join(claimed)], PROXIES) == peer


@given(forged=st.lists(ipv4, max_size=4), phone=ipv4)
def test_what_a_phone_writes_left_of_the_balancers_entry_changes_nothing(forged: list[str], phone: str) -> None:
    if any(ipaddress.ip_address(phone) in net for net in PROXIES):
        return  # a phone inside the proxies' own network is not what the balancer fronts
    assert client_address("10.0.0.5", [", ".join([*forged, phone])], PROXIES) == phone


def test_a_trusted_proxy_without_the_header_is_noticed() -> None:
    assert unforwarded("10.0.0.5", [], PROXIES) and unforwarded("10.0.0.5", [" "], PROXIES)
    assert not unforwarded("10.0.0.5", ["203.0.113.7"], PROXIES)
    assert not unforwarded("198.51.100.9", [], PROXIES), "a phone reaching the hub directly is not a proxy"
