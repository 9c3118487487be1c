"""The poll's moves and the one vote rule, property-tested: pure functions of the round and the clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finale.core import poll
from finale.core.model import Phase, Round
from finale.core.poll import Ballot, VoteOutcome, decide_vote
from finale.core.show import IllegalTransition

LABELS = {"ray": "A", "mia": "B"}


def judged() -> Round:
    return Round(7, "q", phase=Phase.JUDGING, labels=LABELS)


# A show's worth of MC moves on the poll: (wait seconds, move).
moves = st.lists(st.tuples(st.floats(0.01, 20), st.sampled_from(["pause", "resume", "extend"])), max_size=12)


@given(moves, st.floats(5, 120))
def test_the_time_left_only_runs_while_the_poll_runs(plan: list[tuple[float, str]], window: float) -> None:
    now = 1000.0
    rnd = poll.open_poll(judged(), now, window)
    running_s, extended_s = 0.0, 0.0
    for wait, move in plan:
        left_before = poll.remaining(rnd, now)
        if not poll.is_paused(rnd):
            running_s += min(wait, left_before or 0.0)
        now += wait
        if poll.poll_due(rnd, now):
            break
        try:
            if move == "pause":
                rnd = poll.pause_poll(rnd, now)
            elif move == "resume":
                rnd = poll.resume_poll(rnd, now)
            else:
                rnd = poll.extend_poll(rnd, 15, now)
                extended_s += 15
        except IllegalTransition:
            continue
        left = poll.remaining(rnd, now)
        assert left is not None
        assert left == pytest.approx(max(0.0, window + extended_s - running_s), abs=1e-6)


@given(st.floats(1, 40), st.floats(0.1, 30))
def test_a_pause_keeps_the_time_left_exactly(at: float, pause_for: float) -> None:
    rnd = poll.open_poll(judged(), 0.0, 45.0)
    paused = poll.pause_poll(rnd, at)
    resumed = poll.resume_poll(paused, at + pause_for)
    assert poll.remaining(paused, at + pause_for) == pytest.approx(45.0 - at)
    assert poll.remaining(resumed, at + pause_for) == pytest.approx(45.0 - at)
    during = decide_vote(paused, Ballot(7, "A", "m", at + pause_for / 2))
    assert during.code == "poll_paused" and "paused" in during.message
    assert decide_vote(paused, Ballot(7, "A", "m", at - 0.01)).outcome is VoteOutcome.ACCEPT


def test_refusals_say_why() -> None:
    rnd = poll.open_poll(judged(), 0.0, 45.0)
    with pytest.raises(IllegalTransition, match="not paused"):
        poll.resume_poll(rnd, 1.0)
    with pytest.raises(IllegalTransition, match="already paused"):
        poll.pause_poll(poll.pause_poll(rnd, 1.0), 2.0)
    with pytest.raises(IllegalTransition, match="run out"):
        poll.pause_poll(rnd, 50.0)
    closed = poll.close_poll(poll.pause_poll(rnd, 10.0), 20.0)
    assert closed.vote_deadline == 10.0, "a poll closed during a pause stopped taking votes at the pause"
    assert decide_vote(closed, Ballot(7, "A", "m", 12.0)).code == "poll_closed"


@given(st.sampled_from(list(Phase)), st.floats(0, 100), st.sampled_from(["A", "B", "Z", 3]),
       st.one_of(st.none(), st.tuples(st.sampled_from(["m1", "m2", None]), st.sampled_from(["A", "B"]))))
def test_a_resend_of_the_counted_vote_is_always_a_replay(phase: Phase, at: float, label: object,
                                                         counted: tuple[str | None, str] | None) -> None:
    rnd = Round(7, "q", phase=phase, labels=LABELS, vote_opened_at=0.0, vote_deadline=50.0)
    decision = decide_vote(rnd, Ballot(7, label, "m1", at), counted)
    if counted == ("m1", label):
        assert decision.outcome is VoteOutcome.REPLAY
    elif decision.outcome is VoteOutcome.ACCEPT:
        assert phase in (Phase.VOTING, Phase.CLOSED) and at <= 50.0 and label in ("A", "B")
    else:
        assert decision.code and decision.message


def test_a_vote_for_another_round_or_none_is_refused() -> None:
    rnd = poll.open_poll(judged(), 0.0, 45.0)
    assert decide_vote(rnd, Ballot(8, "A", "m", 1.0)).code == "wrong_round"
    assert decide_vote(None, Ballot(8, "A", "m", 1.0)).code == "no_round"
