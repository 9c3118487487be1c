"""The audience poll: open, pause, resume, extend, close, and whether a vote counts.

A poll runs on the server's clock. Pausing keeps the time left exactly (the
deadline moves on by however long the pause lasted); a vote cast while paused
is refused. `decide_vote` is the one rule for a vote, used by the hub when a
phone sends it, by the store when it commits it and when it filters resends,
so a vote is judged the same everywhere: by when it was cast, not when it was
written.

A vote is timed when it reaches the hub. One exception (`Arrival`): a vote that
reaches the hub after the close because the hub itself was not running (stopped,
or restarted by its supervisor) counts by the phone's own cast time, within a
short grace, and only where the hub can vouch for the gap: see `stalled_across`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import NamedTuple

from finale.core.ballot import OriginLoad, origin_refusal
from finale.core.model import Phase, Round
from finale.core.show import IllegalTransition, transition

Refusal = tuple[str, str]


def open_poll(rnd: Round, now: float, window_s: float) -> Round:
    """Move a judged round to voting with a deadline on the server's clock."""
    if window_s <= 0:
        raise ValueError(f"the vote window must be positive; got {window_s}")
    moved = transition(rnd, Phase.VOTING)
    return replace(moved, vote_opened_at=now, vote_deadline=now + window_s, vote_paused_at=None)


def _require_open(rnd: Round, what: str) -> float:
    if rnd.phase is not Phase.VOTING or rnd.vote_deadline is None:
        raise IllegalTransition(rnd.id, rnd.phase, Phase.VOTING, f"only an open poll can be {what}")
    return rnd.vote_deadline


def is_paused(rnd: Round | None) -> bool:
    """The round's poll is open but paused: its countdown stands still and votes are refused."""
    return rnd is not None and rnd.phase is Phase.VOTING and rnd.vote_paused_at is not None


def remaining(rnd: Round | None, now: float) -> float | None:
    """Seconds left in the poll (standing still while paused); None when no poll is open."""
    if rnd is None or rnd.phase is not Phase.VOTING or rnd.vote_deadline is None:
        return None
    at = rnd.vote_paused_at if rnd.vote_paused_at is not None else now
    return max(0.0, rnd.vote_deadline - at)


def voting_open(rnd: Round | None, now: float) -> bool:
    """Votes are being taken right now: the poll is open, not paused, and its deadline has not passed."""
    return rnd is not None and rnd.phase is Phase.VOTING and rnd.vote_deadline is not None \
        and rnd.vote_paused_at is None and now <= rnd.vote_deadline


def poll_due(rnd: Round | None, now: float) -> bool:
    """The countdown has run out (and is not paused): the poll should be closed now."""
    return rnd is not None and rnd.phase is Phase.VOTING and rnd.vote_deadline is not None \
        and rnd.vote_paused_at is None and now >= rnd.vote_deadline


def pause_poll(rnd: Round, now: float) -> Round:
    """Stop the countdown where it is; refused when not open, already paused or already run out."""
    deadline = _require_open(rnd, "paused")
    if rnd.vote_paused_at is not None:
        raise IllegalTransition(rnd.id, rnd.phase, Phase.VOTING, "the poll is already paused")
    if now >= deadline:
        raise IllegalTransition(rnd.id, rnd.phase, Phase.VOTING, "the poll has already run out; close it")
    return replace(rnd, vote_paused_at=now)


def resume_poll(rnd: Round, now: float) -> Round:
    """Start the countdown again with exactly the time that was left at the pause."""
    deadline = _require_open(rnd, "resumed")
    if rnd.vote_paused_at is None:
        raise IllegalTransition(rnd.id, rnd.phase, Phase.VOTING, "the poll is not paused")
    return replace(rnd, vote_deadline=deadline + max(0.0, now - rnd.vote_paused_at), vote_paused_at=None)


def extend_poll(rnd: Round, seconds: float, now: float) -> Round:
    """Push an open poll's deadline back (a paused poll gains the time too); refused once it has closed."""
    deadline = _require_open(rnd, "extended")
    if seconds <= 0:
        raise ValueError(f"an extension must be positive; got {seconds}")
    base = deadline if rnd.vote_paused_at is not None else max(deadline, now)
    return replace(rnd, vote_deadline=base + seconds)


def close_poll(rnd: Round, now: float) -> Round:
    """Close the poll; the deadline becomes the moment voting stopped (the close, or the pause before it)."""
    moved = transition(rnd, Phase.CLOSED)
    stopped = min(now, rnd.vote_paused_at) if rnd.vote_paused_at is not None else now
    deadline = rnd.vote_deadline if rnd.vote_deadline is not None else stopped
    return replace(moved, vote_deadline=min(deadline, stopped), vote_paused_at=None)


class VoteOutcome(StrEnum):
    """What becomes of a vote: counted, acknowledged again as a resend, or refused."""

    ACCEPT = "accept"
    REPLAY = "replay"
    REFUSE = "refuse"


# How far before the hub's last heartbeat a phone's cast time may be (clock estimate and network delay).
STALL_MARGIN_S = 2.0


class Arrival(NamedTuple):  # a NamedTuple for the vote path, as core.ballot.OriginLoad
    """What the hub knows of how a ballot reached it, beyond the moment it read it.

    `sent_at` is the phone's own cast time on the server's clock (its estimate,
    unverifiable); `heartbeat_at` is the hub's last heartbeat before it read the
    ballot (the hub knows when it was not running); `grace_s` is the event's
    `voting.late_grace_seconds`.
    """

    sent_at: float
    heartbeat_at: float
    grace_s: float


class Ballot(NamedTuple):  # one per vote, twice (hub and store): 0.27 us to build, a frozen dataclass 1.15
    """A vote as a phone cast it: the round it names, the label, its message id and the server's time.

    `cast_at` is when the hub read it; `arrival` what the hub knows beyond that.
    """

    round_id: int
    label: object
    client_msg_id: str | None
    cast_at: float
    arrival: Arrival | None = None


def stalled_across(ballot: Ballot, moment: float) -> bool:
    """A ballot the hub read after `moment` (the close, or a pause) that counts as cast before it.

    Only when the hub itself was stalled across the moment (its last heartbeat
    before reading the ballot is before it), the phone's cast time is before the
    moment and not before that heartbeat less STALL_MARGIN_S, and the hub read it
    within the grace after the moment. A client that backdates gains nothing
    while the hub runs: its heartbeat is then at most one beat old.
    """
    a = ballot.arrival
    return a is not None and a.heartbeat_at < moment < ballot.cast_at <= moment + a.grace_s \
        and a.heartbeat_at - STALL_MARGIN_S <= a.sent_at < moment


@dataclass(frozen=True)
class VoteDecision:
    """The verdict on a ballot; a refusal carries a code for the page and a message for the person."""

    outcome: VoteOutcome
    code: str = ""
    message: str = ""

    @property
    def refusal(self) -> Refusal | None:
        """(code, message) when refused, else None."""
        return (self.code, self.message) if self.outcome is VoteOutcome.REFUSE else None


# Refusal codes after which the device's counted vote is worth reading: it may be this very ballot, resent.
MAY_BE_REPLAY = frozenset({"poll_closed", "poll_paused", "wrong_round"})
ACCEPT = VoteDecision(VoteOutcome.ACCEPT)
REPLAY = VoteDecision(VoteOutcome.REPLAY)


def _refuse(code: str, message: str) -> VoteDecision:
    return VoteDecision(VoteOutcome.REFUSE, code, message)


def decide_vote(rnd: Round | None, ballot: Ballot, counted: tuple[str | None, str] | None = None,
                origin: OriginLoad | None = None) -> VoteDecision:
    """Accept, acknowledge as a replay, or refuse a ballot, judged at the moment it was cast.

    `rnd` is the round the ballot names as the deciding side knows it (the hub's
    view, or the row inside the store's transaction); `counted` is the
    (client message id, label) of the device's vote already counted in that
    round. A resend of the counted vote is a replay whatever the poll's state
    now (its ack was lost); a vote cast before the close counts even when it
    is committed after it, or read late by a stalled hub (`stalled_across`); a
    vote cast during a pause does not. `origin` is how many other devices of the
    ballot's address (core.ballot.origin_tag) are counted in the round: a new
    device past `voting.devices_per_address` is refused (`address_limit`).
    """
    if counted is not None and ballot.client_msg_id is not None and counted == (ballot.client_msg_id, ballot.label):
        return REPLAY
    if rnd is None:
        return _refuse("no_round", "there is no round to vote in")
    if ballot.round_id != rnd.id:
        return _refuse("wrong_round", f"round {ballot.round_id} is not the current round ({rnd.id}); "
                       "voting is only for the current round")
    if rnd.phase not in (Phase.VOTING, Phase.CLOSED) or rnd.vote_deadline is None:
        return _refuse("poll_closed", f"voting is not open in round {rnd.id}")
    if rnd.vote_paused_at is not None and ballot.cast_at >= rnd.vote_paused_at \
            and not stalled_across(ballot, rnd.vote_paused_at):
        return _refuse("poll_paused", f"voting in round {rnd.id} is paused by the MC; this vote was not counted; "
                       "vote again when the countdown resumes")
    if ballot.cast_at > rnd.vote_deadline and not stalled_across(ballot, rnd.vote_deadline):
        return _refuse("poll_closed", f"voting closed in round {rnd.id}")
    if not isinstance(ballot.label, str) or ballot.label not in rnd.labels.values():
        labels = ", ".join(sorted(rnd.labels.values()))
        return _refuse("bad_label", f"label must be one of {labels}")
    crowded = origin_refusal(rnd.id, origin)
    if crowded is not None:
        return _refuse(*crowded)
    return ACCEPT


def votes_per_finalist(by_label: dict[str, int], labels: dict[str, str]) -> dict[str, int]:
    """The round's tally per finalist id from the tally per anonymous label (labels not in the round drop out)."""
    return {fid: max(0, int(by_label.get(label, 0))) for fid, label in labels.items()}
