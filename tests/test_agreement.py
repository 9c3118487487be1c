"""Agreement with the humans (core.agreement): Kendall's tau-b and the mean gap, property-tested (must show #3)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from finale.core.agreement import Pair, agreement, kendall_tau_b, round_agreement, show_agreement
from finale.core.model import (
    Component,
    Criterion,
    Event,
    Finalist,
    Judgment,
    JudgmentStatus,
    Override,
    OverrideAction,
    Panelist,
    PanelScore,
    Phase,
    Round,
)
from finale.core.scoring import RoundRecord, score_round

# Component values as the show produces them: 0-100, often on a coarse grid (so ties are common).
score = st.one_of(st.integers(0, 10).map(lambda n: n * 10.0), st.floats(0, 100, allow_nan=False))
scores = st.lists(score, min_size=2, max_size=10)
pairs = st.lists(st.tuples(score, score), min_size=0, max_size=10)


def distinct(xs: list[float]) -> bool:
    return len({round(x, 9) for x in xs}) > 1


def reference_tau_b(ps: list[Pair]) -> float | None:
    """The textbook form: (P - Q) / sqrt((P + Q + X0)(P + Q + Y0)), X0/Y0 the pairs tied on one side only."""
    p = q = x0 = y0 = 0
    for i in range(len(ps)):
        for j in range(i + 1, len(ps)):
            dx = round(ps[i][0], 9) - round(ps[j][0], 9)
            dy = round(ps[i][1], 9) - round(ps[j][1], 9)
            if dx and dy:
                p += dx * dy > 0
                q += dx * dy < 0
            elif dx:
                x0 += 1
            elif dy:
                y0 += 1
    denominator = (p + q + x0) * (p + q + y0)
    return None if denominator == 0 else (p - q) / math.sqrt(denominator)


@given(scores)
def test_identical_rankings_give_one(xs: list[float]) -> None:
    tau = kendall_tau_b([(x, x) for x in xs])
    assert tau == 1.0 if distinct(xs) else tau is None


@given(st.lists(st.integers(0, 1000).map(lambda n: n / 10), min_size=2, max_size=10))
def test_the_same_order_on_another_scale_gives_one(xs: list[float]) -> None:
    # the panel marks lower but in the same order (values 0.1 apart: a rescale keeps them apart at 9 decimals)
    tau = kendall_tau_b([(x, x / 2 + 7) for x in xs])
    assert tau == 1.0 if distinct(xs) else tau is None


@given(scores)
def test_reversed_rankings_give_minus_one(xs: list[float]) -> None:
    tau = kendall_tau_b([(x, 100 - x) for x in xs])
    assert tau == -1.0 if distinct(xs) else tau is None


@given(pairs, st.randoms(use_true_random=False))
def test_invariant_under_relabelling(ps: list[Pair], rnd: object) -> None:
    shuffled = list(ps)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert kendall_tau_b(shuffled) == kendall_tau_b(ps)
    assert agreement([shuffled]) == agreement([ps])


@given(pairs)
def test_bounded_symmetric_and_the_textbook_formula(ps: list[Pair]) -> None:
    tau = kendall_tau_b(ps)
    assert tau is None or -1.0 <= tau <= 1.0
    assert kendall_tau_b([(y, x) for x, y in ps]) == tau
    expected = reference_tau_b(ps)
    assert (tau is None) == (expected is None)
    if tau is not None and expected is not None:
        assert math.isclose(tau, expected, abs_tol=1e-12)


@given(st.lists(pairs, max_size=6))
def test_the_show_pools_within_round_pairs_and_stays_bounded(rounds: list[list[Pair]]) -> None:
    show = agreement(rounds)
    assert show.tau is None or -1.0 <= show.tau <= 1.0
    assert show.answers == sum(len(r) for r in rounds)
    if len(rounds) == 1:
        assert show.tau == kendall_tau_b(rounds[0])
    gaps = [abs(x - y) for r in rounds for x, y in r]
    if gaps:
        assert show.mean_gap is not None and math.isclose(show.mean_gap, sum(gaps) / len(gaps))
    else:
        assert show.mean_gap is None


def test_ties_known_values() -> None:
    # x ties one pair, y ties another: C = 4, D = 0, n0 = 6, n1 = n2 = 1 -> 4 / 5
    assert kendall_tau_b([(1, 1), (2, 2), (2, 3), (3, 3)]) == 4 / 5
    assert kendall_tau_b([(5, 1), (5, 2)]) is None  # the judge gave both the same: no order to agree with
    assert kendall_tau_b([(5, 1)]) is None
    # across rounds only within-round pairs count: each round alone agrees perfectly
    assert agreement([[(10, 80), (20, 90)], [(70, 10), (80, 20)]]).tau == 1.0


def _event() -> Event:
    return Event("t", tuple(Finalist(f, f.upper()) for f in ("a", "b", "c")), (Panelist("p", "P"),),
                 (Criterion("q", "quality"),))


def _record(llm: dict[str, float], panel: dict[str, float], phase: Phase = Phase.CLOSED,
            overrides: tuple[Override, ...] = ()) -> RoundRecord:
    rnd = Round(1, "Q?", phase, labels={"a": "A", "b": "B", "c": "C"})
    return RoundRecord(
        rnd, judgments={f: Judgment(1, f, JudgmentStatus.OK, {"q": v}) for f, v in llm.items()},
        panel_scores=[PanelScore(1, f, "p", {"q": v}) for f, v in panel.items()], overrides=overrides)


def test_a_round_compares_the_judge_and_the_panel_as_they_scored() -> None:
    event = _event()
    reversed_ = _record({"a": 9, "b": 5, "c": 1}, {"a": 1, "b": 5, "c": 9})
    ag = round_agreement(score_round(event, reversed_))
    assert ag.tau == -1.0 and ag.answers == 3 and ag.mean_gap is not None
    assert math.isclose(ag.mean_gap, (80 + 0 + 80) / 3)
    assert ag.describe("round 1").startswith("Judge vs panel, round 1: rank agreement tau-b -1.00 · mean gap 53.3")
    # an override of the judge's score settles the round; it does not make the machine agree
    fixed = Override(1, 1, "a", Component.LLM, OverrideAction.REPLACE, "wrong", "hj", 10.0)
    assert round_agreement(score_round(event, _record({"a": 9, "b": 5, "c": 1}, {"a": 1, "b": 5, "c": 9},
                                                      overrides=(fixed,)))) == ag
    missing = round_agreement(score_round(event, _record({"a": 9}, {"b": 5})))
    assert missing.answers == 0 and missing.tau is None
    assert missing.describe("round 1") == "Judge vs panel, round 1: no answer scored by both yet"


def test_the_show_counts_final_rounds_only() -> None:
    event = _event()
    agree = _record({"a": 9, "b": 5, "c": 1}, {"a": 9, "b": 5, "c": 1}, Phase.FINAL)
    disagree = _record({"a": 9, "b": 5, "c": 1}, {"a": 1, "b": 5, "c": 9}, Phase.CLOSED)
    show = show_agreement(event, [agree, disagree])
    assert show.tau == 1.0 and show.rounds == 1 and show.mean_gap == 0.0
