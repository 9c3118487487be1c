"""The hub's open connections per address (audience.ratelimit.ConnectionCounter): its running total.

/healthz reports the total on every request (a supervisor, the console and the benchmark ask it
several times a second), so it is kept as connections open and close rather than summed over
every address. Whatever the order of opens and closes, including a close the counter never saw
open, the total is the number of connections still open, and each address's cap still holds.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from audience.ratelimit import ConnectionCounter

ADDRESSES = ["10.0.0.1", "10.0.0.2", "192.168.1.7", "2001:db8::1"]
events = st.lists(st.tuples(st.booleans(), st.sampled_from(ADDRESSES)), max_size=200)


@given(events)
def test_the_total_is_the_connections_still_open_whatever_the_order(steps: list[tuple[bool, str]]) -> None:
    counter, still_open = ConnectionCounter(cap=3), dict.fromkeys(ADDRESSES, 0)
    for opens, address in steps:
        if opens:
            counter.add(address)
            still_open[address] += 1
        else:  # a close of a connection never counted (the handler's finally after a refusal) changes nothing
            counter.remove(address)
            still_open[address] = max(0, still_open[address] - 1)
        assert counter.total() == sum(still_open.values())
        assert all(counter.full(a) == (n >= 3) for a, n in still_open.items())
