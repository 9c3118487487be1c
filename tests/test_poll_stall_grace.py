"""The one vote rule's grace for a stalled hub (core.poll.stalled_across), the hub's heartbeat that feeds it,
and what the console's header says about a hub that stops answering /healthz."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from audience.heartbeat import Heartbeat
from audience.protocol import ProtocolError, Vote, parse
from finale.core.model import Phase, Round
from finale.core.poll import STALL_MARGIN_S, Arrival, Ballot, VoteOutcome, close_poll, decide_vote, stalled_across
from finale.hub_health import HealthWatch
from finale.tui.hub import HubStatus, supervisor_note

DEADLINE = 1000.0
GRACE = 30.0


def _round(phase: Phase = Phase.VOTING) -> Round:
    rnd = Round(id=1, question_id=None, prompt="p", phase=Phase.VOTING, seed=1, labels={"ray": "A", "mia": "B"},
                vote_opened_at=DEADLINE - 45, vote_deadline=DEADLINE)
    return close_poll(rnd, DEADLINE + 1) if phase is Phase.CLOSED else rnd


def _ballot(read_at: float, sent_at: float | None = None, heartbeat_at: float | None = None,
            grace: float = GRACE) -> Ballot:
    arrival = None if sent_at is None else Arrival(sent_at, heartbeat_at if heartbeat_at is not None else read_at,
                                                   grace)
    return Ballot(1, "A", "m1", read_at, arrival)


@pytest.mark.parametrize("phase", [Phase.VOTING, Phase.CLOSED])
def test_a_vote_cast_before_the_close_that_a_stalled_hub_reads_late_counts(phase: Phase) -> None:
    # the hub stopped at 991 (its last beat), the phone tapped at 991.5, the hub read it at 1011.5
    ballot = _ballot(DEADLINE + 11.5, sent_at=DEADLINE - 8.5, heartbeat_at=DEADLINE - 9)
    assert stalled_across(ballot, DEADLINE)
    assert decide_vote(_round(phase), ballot).outcome is VoteOutcome.ACCEPT


@pytest.mark.parametrize(("why", "ballot"), [
    ("no cast time sent", _ballot(DEADLINE + 5)),
    ("cast after the close", _ballot(DEADLINE + 5, sent_at=DEADLINE + 0.5, heartbeat_at=DEADLINE - 9)),
    ("the hub was running at the close", _ballot(DEADLINE + 0.5, sent_at=DEADLINE - 1, heartbeat_at=DEADLINE + 0.4)),
    ("backdated before the hub's last beat", _ballot(DEADLINE + 5, sent_at=DEADLINE - 9 - STALL_MARGIN_S - 0.1,
                                                     heartbeat_at=DEADLINE - 9)),
    ("read after the grace", _ballot(DEADLINE + GRACE + 0.1, sent_at=DEADLINE - 1, heartbeat_at=DEADLINE - 9)),
    ("the grace is off", _ballot(DEADLINE + 5, sent_at=DEADLINE - 1, heartbeat_at=DEADLINE - 9, grace=0)),
])
def test_nothing_cast_after_the_close_or_unvouched_counts(why: str, ballot: Ballot) -> None:
    decision = decide_vote(_round(Phase.CLOSED), ballot)
    assert decision.outcome is VoteOutcome.REFUSE and decision.code == "poll_closed", why


def test_a_running_hub_gives_a_backdating_client_at_most_one_beat() -> None:
    beat = Heartbeat(beat_s=0.1)
    beat.beat(DEADLINE - 0.05)  # the loop's last beat before the close
    read_at = DEADLINE + 0.06  # the next beat is due: the hub was running across the close
    ballot = Ballot(1, "A", "m1", read_at, Arrival(DEADLINE - 30, beat.before(read_at, DEADLINE - 30), GRACE))
    assert decide_vote(_round(), ballot).code == "poll_closed", "a cast time long before the last beat is refused"
    late = DEADLINE + 0.2
    beat.beat(DEADLINE + 0.15)
    assert not stalled_across(Ballot(1, "A", "m", late, Arrival(DEADLINE - 1, beat.before(late, DEADLINE - 1),
                                                                  GRACE)), DEADLINE)


def test_the_heartbeat_vouches_for_a_stall_and_for_the_outage_before_a_restart() -> None:
    beat = Heartbeat()
    beat.beat(990.0)
    assert beat.before(1011.0, 991.0) == 990.0, "read before the loop's first beat after the stall"
    stall = beat.beat(1011.0)
    assert stall is not None and (stall.since, stall.until) == (990.0, 1011.0)
    assert beat.before(1011.5, 991.0) == 990.0, "queued in the kernel through the stall, read before the next beat"
    assert beat.before(1011.5, 1011.2) == 1011.0, "a cast time after the stall ended is not vouched for"
    beat.beat(1011.6)  # the loop has caught up
    assert beat.before(1011.7, 991.0) == 1011.6, "once caught up, a cast time in the stall is not believed"
    restarted = Heartbeat(down_since=990.0, grace_s=GRACE)
    start = restarted.stall.until if restarted.stall else 0.0
    assert restarted.before(start + 5, 991.0) == 990.0, "phones reconnect and resend within the grace"
    assert restarted.before(start + GRACE + 1, 991.0) == restarted.last


def test_a_restarted_hub_that_stalls_again_within_the_grace_still_vouches_for_the_outage() -> None:
    """Before, the new stall replaced the outage: the resends were refused `poll_closed`. That fits a CI failure
    of tests/test_hub_stall.py (every resend to the restarted hub refused so, on a loaded machine)."""
    restarted = Heartbeat(down_since=990.0, grace_s=GRACE)
    assert restarted.stall is not None
    start = restarted.stall.until
    restarted.beat(start + 0.1)
    stall = restarted.beat(start + 1.6)  # the new hub's own loop stalled 1.5 s
    assert stall is not None and (stall.since, stall.until) == (start + 0.1, start + 1.6), "logged as its own gap"
    restarted.beat(start + 1.7)  # caught up
    assert restarted.before(start + 5, 991.0) == 990.0, "a resend of a vote cast in the outage, within the grace"
    assert restarted.before(start + GRACE + 1, 991.0) == restarted.last, "and not after the grace"


def test_a_paused_poll_refuses_what_was_cast_in_the_pause_even_late() -> None:
    paused = Round(id=1, question_id=None, prompt="p", phase=Phase.VOTING, seed=1, labels={"ray": "A"},
                   vote_opened_at=900, vote_deadline=DEADLINE, vote_paused_at=950.0)
    before = _ballot(960.0, sent_at=949.0, heartbeat_at=940.0)
    during = _ballot(960.0, sent_at=951.0, heartbeat_at=940.0)
    assert decide_vote(paused, before).outcome is VoteOutcome.ACCEPT
    assert decide_vote(paused, during).code == "poll_paused"


def test_the_vote_frame_takes_an_optional_cast_time() -> None:
    assert parse('{"type":"vote","round":1,"label":"A","id":"m1","cast_at":991.5}') == Vote(1, "A", "m1", 991.5)
    assert parse('{"type":"vote","round":1,"label":"A","id":"m1"}') == Vote(1, "A", "m1")
    for bad in ('"soon"', "true", "-1"):
        with pytest.raises(ProtocolError) as err:
            parse('{"type":"vote","round":1,"label":"A","id":"m1","cast_at":' + bad + "}")
        assert err.value.code == "bad_message" and err.value.msg_id == "m1"


@dataclass
class _Watch:
    """What the header reads from the supervisor (finale.tui.hub.HubWatch)."""

    health_note: str | None = None
    adopted: bool = False
    log_path: Path = Path("hub.log")
    blocked_by: str | None = None
    started: bool = True
    alive: bool = True
    blocked_short: str | None = None


def test_the_header_says_when_the_hub_misses_health_checks_and_when_it_was_replaced() -> None:
    silent: list[tuple[int, str]] = []
    watch = HealthWatch("http://127.0.0.1:9", lambda: 4242, lambda pid, why: silent.append((pid, why)),
                        timeout_s=0.05, misses=3, startup_s=0)
    watch.check()
    note = watch.note
    assert note == "not answering /healthz: 1 of 3 checks missed" and not silent
    missing = HubStatus("down", None, "http://127.0.0.1:9").noted(supervisor_note(_Watch(note)))
    assert missing.label == "hub: down (not answering /healthz: 1 of 3 checks missed)"
    watch.check()
    watch.check()
    assert silent and silent[0][0] == 4242 and "did not answer /healthz 3 times in a row" in silent[0][1]
    assert watch.note is None, "counted afresh for the hub that replaces it"
    up = HubStatus("up", 12, "u").noted(supervisor_note(_Watch("restarted: it stopped answering /healthz", True)))
    assert up.label.startswith("hub: up (adopted; restarted: it stopped answering /healthz)")
    assert supervisor_note(_Watch()) is None and supervisor_note(None) is None
