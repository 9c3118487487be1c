"""Head to head with the reference, both ways round: the combining rule, the win rate and the optional blend."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finale.core.headtohead import (
    HeadToHead,
    Outcome,
    Pick,
    WinRate,
    beat_reference,
    blend,
    combine,
    tally,
    win_rates,
)
from finale.core.model import Judgment, JudgmentStatus, Phase, Round
from finale.core.scoring import RoundRecord

F, R, T = Pick.FINALIST, Pick.REFERENCE, Pick.TIE
picks = st.sampled_from([F, R, T])
MIRROR = {F: R, R: F, T: T}


@pytest.mark.parametrize(("ahead", "behind", "outcome", "sensitive"), [
    (F, F, Outcome.WIN, False), (R, R, Outcome.LOSS, False), (T, T, Outcome.TIE, False),
    (F, R, Outcome.TIE, True), (R, F, Outcome.TIE, True), (F, T, Outcome.TIE, True), (T, R, Outcome.TIE, True),
    (None, F, None, False), (R, None, None, False),
])
def test_a_win_or_a_loss_counts_only_when_both_orders_agree(ahead: Pick | None, behind: Pick | None,
                                                          outcome: Outcome | None, sensitive: bool) -> None:
    assert combine(ahead, behind) == (outcome, sensitive)


@given(picks, picks)
def test_a_judge_that_always_prefers_the_first_answer_never_makes_a_win(ahead: Pick, behind: Pick) -> None:
    """Whatever the answers, a first-position judge says 'finalist' when it comes first and 'reference' after."""
    biased = combine(F, R)
    assert biased == (Outcome.TIE, True)
    outcome, sensitive = combine(ahead, behind)
    assert (outcome is Outcome.WIN) == (ahead is F and behind is F)
    assert sensitive == (ahead is not behind)


@given(picks, picks)
def test_swapping_who_is_the_finalist_swaps_win_and_loss(ahead: Pick, behind: Pick) -> None:
    outcome, sensitive = combine(ahead, behind)
    mirrored, mirrored_sensitive = combine(MIRROR[behind], MIRROR[ahead])
    assert mirrored == {Outcome.WIN: Outcome.LOSS, Outcome.LOSS: Outcome.WIN, Outcome.TIE: Outcome.TIE}[outcome]
    assert mirrored_sensitive == sensitive


def test_the_win_rate_counts_wins_of_the_head_to_heads_that_came_out() -> None:
    results = [HeadToHead("j", F, F), HeadToHead("j", F, F), HeadToHead("j", F, R), HeadToHead("j", R, R),
               HeadToHead("j", F, F), HeadToHead("j", None, F, "throttled")]
    rate = tally(results)
    assert rate == WinRate(wins=3, losses=1, ties=1, order_sensitive=1, failed=1)
    assert rate.judged == 5 and rate.rate == 0.6 and rate.text == "3 of 5 (60%), 1 order-sensitive"
    assert WinRate().text == "none yet" and WinRate().rate is None
    assert HeadToHead("j", F, R).text == "tie (order-sensitive)" and HeadToHead("j", None, R, "x").text == "failed: x"


def _record(round_id: int, phase: Phase, heads: dict[str, HeadToHead | None]) -> RoundRecord:
    labels = {fid: label for fid, label in zip(heads, "ABC", strict=False)}
    return RoundRecord(Round(round_id, "q", phase, labels=labels), judgments={
        fid: Judgment(round_id, fid, JudgmentStatus.OK, {"q": 7.0}, head_to_head=h) for fid, h in heads.items()})


def test_win_rates_over_the_show_leave_void_rounds_out() -> None:
    records = [
        _record(1, Phase.FINAL, {"ray": HeadToHead("j", F, F), "mia": HeadToHead("j", R, R)}),
        _record(2, Phase.VOID, {"ray": HeadToHead("j", R, R), "mia": HeadToHead("j", F, F)}),
        _record(3, Phase.JUDGING, {"ray": HeadToHead("j", F, F), "mia": None}),  # no reference answer for mia
    ]
    rates = win_rates(records, ["ray", "mia", "sol"])
    assert (rates["ray"].wins, rates["ray"].judged) == (2, 2)
    assert (rates["mia"].wins, rates["mia"].judged) == (0, 1)
    assert rates["sol"].judged == 0
    assert beat_reference(records[0].judgments, records[0].round.labels) == ["ray"]


def test_blend_feeds_the_head_to_head_into_the_llm_component_only_when_asked() -> None:
    win, failed = HeadToHead("j", F, F), HeadToHead("j", None, None, "down")
    assert blend(60.0, win, 0.0) == 60.0  # default: shown beside the score, not inside it
    assert blend(60.0, win, 0.25) == pytest.approx(0.75 * 60 + 0.25 * 100)
    assert blend(60.0, HeadToHead("j", F, R), 0.5) == pytest.approx(55.0)  # a tie counts 50
    assert blend(60.0, None, 0.5) == 60.0  # no reference answer that round: the rubric alone
    assert blend(60.0, failed, 0.5) is None  # a failed head-to-head leaves the component missing
    assert blend(None, win, 0.5) is None
