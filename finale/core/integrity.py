"""The integrity view's numbers and alarms, from what the store returns: nothing here reads or writes.

Three signals of a stuffed ballot, each with an alarm past the event file's threshold:
- new voter credentials per minute (a script minting identities);
- votes per origin in the round (one address voting many times; origins are keyed hashes);
- the share of the round's votes whose credentials were minted during its own poll (phones
  that appeared only to vote). In the first round most phones join when the poll opens, so
  this share means most from the second round on.
The remedy is the discount (core.discount), decided by the head judge, on the record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from finale.core.discount import VoteGroup

MINUTES_SHOWN = 10
TOP_ORIGINS = 8


@dataclass(frozen=True)
class IntegrityThresholds:
    """When the integrity view raises an alarm (the event file's `[voting]` alarm_* keys)."""

    new_credentials_per_min: int = 60
    votes_per_address: int = 3
    minted_during_poll: float = 0.5
    min_votes: int = 10  # the share alarm waits for this many votes in the round


@dataclass(frozen=True)
class Alarm:
    """One threshold crossed: what it is and what the head judge can do about it."""

    kind: str
    message: str


@dataclass(frozen=True)
class OriginVotes:
    """One origin's votes in the round and their share of it."""

    origin: str
    votes: int
    share: float


@dataclass(frozen=True)
class IntegrityReport:
    """Everything the integrity screen shows for the current round."""

    round_id: int | None
    votes: int
    per_minute: list[tuple[float, int]]  # (minute start, new credentials), oldest first
    last_minute: int
    top_origins: list[OriginVotes]
    minted_during_poll: int
    minted_share: float | None
    alarms: list[Alarm] = field(default_factory=list)


def credentials_per_minute(issued: Iterable[float], now: float,
                           minutes: int = MINUTES_SHOWN) -> list[tuple[float, int]]:
    """New credentials in each of the last `minutes` whole minutes up to `now` (the newest one still running)."""
    start = (now // 60 - (minutes - 1)) * 60
    counts = [0] * minutes
    for t in issued:
        i = int((t - start) // 60)
        if 0 <= i < minutes:
            counts[i] += 1
    return [(start + 60 * i, n) for i, n in enumerate(counts)]


def votes_by_origin(groups: Iterable[VoteGroup], top: int = TOP_ORIGINS) -> list[OriginVotes]:
    """The origins with the most votes in the round, most first (votes with no origin are left out)."""
    counts: dict[str, int] = {}
    total = 0
    for g in groups:
        total += g.n
        if g.origin is not None:
            counts[g.origin] = counts.get(g.origin, 0) + g.n
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [OriginVotes(o, n, n / total if total else 0.0) for o, n in ranked]


def minted_between(groups: Iterable[VoteGroup], start: float | None, end: float | None) -> int:
    """Votes whose credentials were issued from `start` to `end` (the round's poll)."""
    if start is None:
        return 0
    stop = end if end is not None else float("inf")
    return sum(g.n for g in groups if g.issued_at is not None and start <= g.issued_at <= stop)


def integrity_report(round_id: int | None, poll: tuple[float | None, float | None], groups: Sequence[VoteGroup],
                     issued: Iterable[float], now: float, thresholds: IntegrityThresholds) -> IntegrityReport:
    """The numbers and alarms for one round: `poll` is (opened at, deadline), `issued` recent issue times."""
    issued_at = [t for t in issued if now - 60 < t <= now + 1]
    per_minute = credentials_per_minute(list(issued), now)
    total = sum(g.n for g in groups)
    origins = votes_by_origin(groups)
    minted = minted_between(groups, poll[0], poll[1])
    share = minted / total if total else None
    alarms: list[Alarm] = []
    if len(issued_at) > thresholds.new_credentials_per_min:
        alarms.append(Alarm("credentials", f"{len(issued_at)} new voter credentials in the last minute (alarm above "
                            f"{thresholds.new_credentials_per_min}): someone may be minting phones"))
    crowded = [o for o in origins if o.votes > thresholds.votes_per_address]
    if crowded:
        alarms.append(Alarm("origin", f"origin {crowded[0].origin} has {crowded[0].votes} votes in this round (alarm "
                            f"above {thresholds.votes_per_address}); d discounts an origin's votes"))
    if share is not None and total >= thresholds.min_votes and share > thresholds.minted_during_poll:
        alarms.append(Alarm("minted", f"{share:.0%} of this round's votes come from phones that joined during its "
                            f"poll (alarm above {thresholds.minted_during_poll:.0%}); d discounts them"))
    return IntegrityReport(round_id, total, per_minute, len(issued_at), origins, minted, share, alarms)
