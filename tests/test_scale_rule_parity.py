"""The Redis function guards the same vote rule as the SQLite store: property-tested against a real redis-server.

Random sequences of votes (a few voters, labels, message ids that repeat, networks that share
an address) go both ways: through `Store.decide_votes` (the one-hub path) and through the Redis
ballot box (core.poll.decide_vote on the published poll, then functions.lua). Each vote gets the
same outcome on both (accepted, a replay, or the same refusal code), and the counted votes end
up the same: the later arrival replaces, a replay is not stored again, and no network has more
than `voting.devices_per_address` voters counted.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audience.scale.ballot_box import RedisBallotBox
from audience.scale.keys import EventKeys
from audience.scale.library import ensure_library
from audience.scale.link import RedisLink
from audience.scale.show import ShowFollower, publish
from audience.state import read_snapshot
from finale.config import load_event
from finale.core.ballot import BallotPolicy, Credential
from finale.core.poll import Ballot, VoteOutcome
from finale.demo import DEMO_EVENT
from finale.store import Store, VoteIn
from tests.hub_helpers import director_for, voting_round
from tests.redis_server import RedisServer

VOTE = st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 2), st.integers(0, 2))  # voter, label, msg, net


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(votes=st.lists(VOTE, min_size=1, max_size=25))
def test_redis_and_sqlite_decide_every_vote_alike(votes: list[tuple[int, int, int, int]], tmp_path: Path,
                                                 redis_server: RedisServer) -> None:
    asyncio.run(_both_ways(votes, tmp_path / f"parity-{time.monotonic_ns()}.db", redis_server.url))


async def _both_ways(votes: list[tuple[int, int, int, int]], db: Path, url: str) -> None:
    store = Store(db)
    store.setup_event(load_event(DEMO_EVENT))
    rnd = await voting_round(director_for(store), window_s=600)
    labels = [*sorted(rnd.labels.values()), "Z"]  # Z is no label of the round: refused both ways
    policy = store.event().ballot
    link = RedisLink(url)
    await link.redis.flushdb()  # type: ignore[misc]
    await ensure_library(link.redis)
    keys = EventKeys(store.event_id() or "")
    await publish(link.redis, keys, read_snapshot(store))
    show = ShowFollower(link.redis, keys)
    await show.read_poll()
    box = RedisBallotBox(link, keys, show)
    now = time.time()
    for step, (who, lab, msg, net) in enumerate(votes):
        voter, label, msg_id, origin = f"voter{who}", labels[lab], f"m{who}-{msg}", f"net{net}"
        sqlite = store.decide_votes([VoteIn(rnd.id, voter, label, msg_id, now + step, None, origin, now)])[0]
        recorded_before = box.votes
        refusal = await box.cast(rnd, Ballot(rnd.id, label, msg_id, now + step), Credential(voter, now), origin,
                                 BallotPolicy(devices_per_address=policy.devices_per_address))
        redis_outcome = refusal[0] if refusal else ("accept" if box.votes > recorded_before else "replay")
        sqlite_outcome = sqlite.code if sqlite.outcome is VoteOutcome.REFUSE else sqlite.outcome.value
        assert redis_outcome == sqlite_outcome, f"vote {step} {voter} {label} {msg_id} {origin}"
    counted = {r["device_id"]: (r["label"], r["client_msg_id"], r["origin"]) for r in store.votes(rnd.id)}
    raw = await link.redis.hgetall(keys.votes(rnd.id))  # type: ignore[misc]
    in_redis = {}
    for v, entry in raw.items():
        msg, label, origin = entry.split("\t")
        in_redis[v] = (label, msg, origin)
    assert in_redis == counted
    assert await box.vote_labels(rnd.id) == store.vote_labels(rnd.id)
    await box.batcher.close()
    await link.close()
    store.close()
