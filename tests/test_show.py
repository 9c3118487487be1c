"""The round state machine and anonymisation."""

from __future__ import annotations

import itertools

import pytest

from finale.core.model import Phase, Round
from finale.core.poll import Ballot, close_poll, decide_vote, extend_poll, open_poll
from finale.core.show import LEGAL, IllegalTransition, assign_labels, transition


def vote_refusal(rnd: Round | None, label: str, now: float) -> tuple[str, str] | None:
    """The core's vote rule for a ballot naming the round itself (round 2 when there is none)."""
    return decide_vote(rnd, Ballot(rnd.id if rnd else 2, label, "m1", now)).refusal

HAPPY = [Phase.ASKING, Phase.ANSWERED, Phase.JUDGING, Phase.VOTING, Phase.CLOSED, Phase.FINAL]


def test_the_happy_path_is_legal() -> None:
    rnd = Round(1, "q")
    for phase in HAPPY:
        rnd = transition(rnd, phase)
    assert rnd.phase is Phase.FINAL


@pytest.mark.parametrize("current,target", [
    (c, t) for c, t in itertools.product(Phase, Phase) if t not in LEGAL[c]
])
def test_every_illegal_transition_is_refused_with_its_reason(current: Phase, target: Phase) -> None:
    with pytest.raises(IllegalTransition) as err:
        transition(Round(4, "q", phase=current), target)
    message = str(err.value)
    assert f"round 4: cannot go from {current} to {target}: " in message
    assert len(message.split(": ", 2)[2]) > 5


def test_final_is_refused_while_blocked() -> None:
    with pytest.raises(IllegalTransition, match="still blocked by: panel: Ray"):
        transition(Round(1, "q", phase=Phase.CLOSED), Phase.FINAL, ["panel: Ray (A): waiting for Ada"])


def test_void_is_terminal() -> None:
    void = transition(Round(1, "q"), Phase.VOID)
    with pytest.raises(IllegalTransition, match="it is void"):
        transition(void, Phase.DRAFT)


def test_labels_are_a_fresh_permutation_reproducible_from_the_seed() -> None:
    ids = ["ray", "mia", "sol", "kai", "zoe"]
    first = assign_labels(ids, 42)
    assert assign_labels(ids, 42) == first
    assert sorted(first.values()) == ["A", "B", "C", "D", "E"]
    mappings = {tuple(assign_labels(ids, seed).items()) for seed in range(50)}
    assert len(mappings) > 10


def test_poll_deadline_comes_from_the_server_clock() -> None:
    judged = Round(2, "q", phase=Phase.JUDGING, labels={"ray": "A", "mia": "B"})
    voting = open_poll(judged, now=1000.0, window_s=45)
    assert (voting.vote_opened_at, voting.vote_deadline) == (1000.0, 1045.0)
    assert vote_refusal(voting, "A", 1044.9) is None
    assert vote_refusal(voting, "A", 1045.1) == ("poll_closed", "voting closed in round 2")
    assert vote_refusal(voting, "Z", 1001)[0] == "bad_label"  # type: ignore[index]
    assert vote_refusal(None, "A", 1001)[0] == "no_round"  # type: ignore[index]
    longer = extend_poll(voting, 15, now=1010.0)
    assert longer.vote_deadline == 1060.0
    closed = close_poll(longer, now=1020.0)
    assert closed.phase is Phase.CLOSED and closed.vote_deadline == 1020.0
    assert vote_refusal(closed, "A", 1021)[0] == "poll_closed"  # type: ignore[index]
    assert vote_refusal(closed, "A", 1019) is None  # cast before the close: counted even if committed after it
    with pytest.raises(IllegalTransition, match="only an open poll can be extended"):
        extend_poll(closed, 10, now=1021.0)
    with pytest.raises(ValueError, match="window must be positive"):
        open_poll(judged, now=1.0, window_s=0)
