"""The ballot's pure rules: credentials, join codes, origins, the per-address limit, discounts and alarms.

Everything here is finale.core (no I/O); the hub, store and console tests drive the same rules through
real websockets, SQLite and Textual (tests/test_ballot_hub.py, tests/test_ballot_discount.py).
"""

from __future__ import annotations

import pytest

from finale.config import ConfigError, parse_event
from finale.core import ballot
from finale.core.ballot import BallotPolicy, OriginLoad
from finale.core.discount import DiscountError, VoteDiscount, VoteGroup, discounted_counts, removed_votes
from finale.core.integrity import IntegrityThresholds, credentials_per_minute, integrity_report
from finale.core.model import Phase, Round
from finale.core.poll import Ballot, VoteOutcome, decide_vote

SECRET = bytes(range(32))
OTHER = bytes(range(1, 33))
VOTER = "v" + "0123456789abcdef01234567"


def test_a_credential_verifies_with_its_secret_only_and_keeps_its_issue_time() -> None:
    token = ballot.issue_credential(SECRET, VOTER, 1_900_000_000.1234)
    assert len(token) <= ballot.MAX_CREDENTIAL_CHARS and token.startswith(f"v1.{VOTER}.1900000000123.")
    assert ballot.verify_credential(SECRET, token) == ballot.Credential(VOTER, 1_900_000_000.123)
    assert ballot.verify_credential(OTHER, token) is None, "another event's secret"
    voter, stamp, sig = token.split(".")[1:]
    forged = [f"v1.{VOTER[:-1]}8.{stamp}.{sig}", f"v1.{voter}.{int(stamp) - 1}.{sig}",
              f"v1.{voter}.{stamp}.{sig[:-1]}{'A' if sig[-1] != 'A' else 'B'}", token + "x", "", "v1..0.",
              "v2" + token[2:], None, 12]
    assert all(ballot.verify_credential(SECRET, f) is None for f in forged)
    with pytest.raises(ValueError, match="24 lowercase hex"):
        ballot.issue_credential(SECRET, "device-123", 1.0)


def test_join_codes_rotate_and_are_fresh_for_the_configured_age() -> None:
    policy = BallotPolicy(presence=True, join_code_rotate_s=30, join_code_max_age_s=180)
    now = 63_333_333 * 30 + 5.0  # 5 s into a window
    code = ballot.current_join_code(SECRET, now, policy)
    assert ballot.JOIN_CODE.match(code) and code != ballot.current_join_code(SECRET, now + 30, policy)
    assert ballot.current_join_code(SECRET, now + 10, policy) == code, "one code per 30 s window"
    assert ballot.join_code_fresh(SECRET, code, now + 170, policy)
    assert not ballot.join_code_fresh(SECRET, code, now + 240, policy), "older than three minutes"
    assert not ballot.join_code_fresh(OTHER, code, now, policy)
    assert not ballot.join_code_fresh(SECRET, "AAAAAAAA", now, policy) and not ballot.join_code_fresh(
        SECRET, None, now, policy)


def test_origins_are_keyed_hashes_of_the_address() -> None:
    tag = ballot.origin_tag(SECRET, "10.0.0.66")
    assert tag == ballot.origin_tag(SECRET, "10.0.0.66") != ballot.origin_tag(SECRET, "10.0.0.67")
    assert tag != ballot.origin_tag(OTHER, "10.0.0.66") and "10.0.0.66" not in tag and len(tag) == 17


def test_who_gets_a_new_credential() -> None:
    open_door, presence = BallotPolicy(), BallotPolicy(presence=True)
    assert ballot.credential_refusal(open_door, join_ok=False, within_rate=True) is None
    assert ballot.credential_refusal(open_door, join_ok=False, within_rate=False)[0] == "credential_limit"  # type: ignore[index]
    assert ballot.credential_refusal(presence, join_ok=False, within_rate=True)[0] == "join_code_needed"  # type: ignore[index]
    assert ballot.credential_refusal(presence, join_ok=True, within_rate=True) is None


def _voting(labels: dict[str, str] | None = None) -> Round:
    return Round(1, "q", Phase.VOTING, labels=labels or {"ray": "A", "mia": "B"}, vote_opened_at=1000.0,
                 vote_deadline=1045.0)


def test_the_vote_rule_caps_voting_devices_per_origin_but_lets_a_counted_one_change() -> None:
    rnd = _voting()
    new = Ballot(1, "A", "m1", 1010.0)
    assert decide_vote(rnd, new, None, OriginLoad(1, 2)).outcome is VoteOutcome.ACCEPT
    crowded = decide_vote(rnd, new, None, OriginLoad(2, 2))
    assert crowded.code == "address_limit" and "2 phones from your network" in crowded.message
    assert decide_vote(rnd, new, None, None).outcome is VoteOutcome.ACCEPT, "no origin: no per-address limit"
    assert decide_vote(rnd, new._replace(cast_at=1046.0), None, OriginLoad(5, 2)).code == "poll_closed", \
        "the poll is judged first"


def test_a_discount_removes_its_slice_and_nothing_else() -> None:
    labels = {"ray": "A", "mia": "B"}
    groups = [VoteGroup("A", "o-stuffer", 1010.0, 30), VoteGroup("B", "o-a", 900.0, 4),
              VoteGroup("A", "o-b", 1020.0, 1), VoteGroup("B", None, None, 2)]
    assert discounted_counts(groups, [], labels) == {"ray": 31, "mia": 6}
    by_origin = VoteDiscount(origin="o-stuffer")
    assert discounted_counts(groups, [by_origin], labels) == {"ray": 1, "mia": 6}
    minted = VoteDiscount(minted_from=1000.0, minted_to=1045.0)
    assert discounted_counts(groups, [minted], labels) == {"ray": 0, "mia": 6}
    assert discounted_counts(groups, [minted, by_origin], labels) == {"ray": 0, "mia": 6}, "removed once"
    assert removed_votes(groups, by_origin) == 30 and removed_votes(groups, minted) == 31
    assert VoteDiscount.from_json(minted.to_json()) == minted
    for bad in ({"origin": "o-x", "minted_from": 1.0, "minted_to": 2.0}, {"minted_from": 1.0},
                {"minted_from": 3.0, "minted_to": 2.0}, {"origin": " "}, {}):
        with pytest.raises(DiscountError):
            VoteDiscount.from_json(bad)


def test_the_integrity_report_raises_each_alarm_past_its_threshold() -> None:
    rnd = _voting()
    quiet = integrity_report(1, (1000.0, 1045.0), [VoteGroup("A", f"o{i}", 900.0, 1) for i in range(20)],
                             [900.0 + i for i in range(20)], 1040.0, IntegrityThresholds())
    assert quiet.alarms == [] and quiet.votes == 20 and quiet.minted_share == 0.0
    stuffed = [VoteGroup("A", "o-laptop", 1001.0 + i, 1) for i in range(12)] + [VoteGroup("B", "o-phone", 900.0, 1)]
    issued = [1000.0 + i * 0.5 for i in range(80)]
    report = integrity_report(rnd.id, (1000.0, 1045.0), stuffed, issued, 1040.0, IntegrityThresholds())
    assert {a.kind for a in report.alarms} == {"credentials", "origin", "minted"}
    assert report.top_origins[0].origin == "o-laptop" and report.top_origins[0].votes == 12
    assert report.minted_during_poll == 12 and report.last_minute == 80
    few = integrity_report(1, (1000.0, 1045.0), stuffed[:3], [], 1040.0, IntegrityThresholds())
    assert "minted" not in {a.kind for a in few.alarms}, "the share alarm waits for enough votes"
    assert credentials_per_minute([1000.0, 1001.0, 1061.0], 1070.0, minutes=3)[-2:] == [(960.0, 2), (1020.0, 1)]


def test_the_event_file_sets_the_limits_and_says_what_is_wrong(demo_config: object) -> None:
    base = {"event": {"name": "x"}, "rubric": [{"id": "q", "description": "d"}],
            "finalists": [{"id": "a", "name": "A", "endpoint": {"kind": "rehearsal"}},
                          {"id": "b", "name": "B", "endpoint": {"kind": "rehearsal"}}],
            "judge": {"kind": "rehearsal"}, "panelists": [{"id": "p", "name": "P"}]}
    defaults = parse_event(base).to_core().ballot
    assert defaults == BallotPolicy(5, 2, False, 30.0, 180.0)
    set_ = parse_event({**base, "voting": {"devices_per_address": 40, "presence": True,
                                           "credentials_per_address_per_min": 200}})
    assert set_.to_core().ballot.devices_per_address == 40 and set_.voting.ballot_policy().presence
    with pytest.raises(ConfigError, match=r"voting\.devices_per_address: .*greater than or equal to 1"):
        parse_event({**base, "voting": {"devices_per_address": 0}})
    with pytest.raises(ConfigError, match=r"join_code_max_age_seconds .* must be at least join_code_rotate_seconds"):
        parse_event({**base, "voting": {"join_code_rotate_seconds": 60, "join_code_max_age_seconds": 30}})
    with pytest.raises(ConfigError, match=r"voting\.presense: unknown key"):
        parse_event({**base, "voting": {"presense": True}})
