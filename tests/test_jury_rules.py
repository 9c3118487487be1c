"""A jury kept as data, the core's rule (core.scoring.aggregate_jury), and length bias (core.lengthbias)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finale.core.lengthbias import length_bias
from finale.core.model import (
    Answer,
    AnswerStatus,
    Criterion,
    Event,
    Finalist,
    Judgment,
    JudgmentStatus,
    JurorVerdict,
    Panelist,
    Phase,
    Round,
)
from finale.core.scoring import RoundRecord, aggregate_jury, score_round

CRIT = ["generalization", "quality", "efficiency"]


def juror(name: str, *scores: float, reason: str | None = None) -> JurorVerdict:
    if reason is not None:
        return JurorVerdict(name, False, reason=reason)
    return JurorVerdict(name, True, dict(zip(CRIT, scores, strict=True)), f"{name} says so")


def test_the_mean_of_the_members_that_answered_with_the_one_that_failed_flagged() -> None:
    jury = [juror("a", 8, 6, 7), juror("b", 6, 8, 7), juror("c", reason="ThrottlingException (HTTP 429)")]
    result = aggregate_jury(jury, CRIT, "mean", quorum=2, margin=3)
    assert result.scores == {"generalization": 7.0, "quality": 7.0, "efficiency": 7.0}
    assert result.spread == {"generalization": 2.0, "quality": 2.0, "efficiency": 0.0}
    assert result.flags == ("c dropped out: ThrottlingException (HTTP 429)",) and result.reason is None


def test_below_the_quorum_the_judgment_fails_naming_every_member_that_dropped_out() -> None:
    jury = [juror("a", 8, 6, 7), juror("b", reason="down"), juror("c", reason="timed out")]
    result = aggregate_jury(jury, CRIT, "mean", quorum=2)
    assert result.scores is None
    assert result.reason == ("1 of 3 judge models answered, short of the quorum of 2: b dropped out: down; "
                             "c dropped out: timed out")


def test_a_single_judge_keeps_its_own_reason_and_has_no_spread() -> None:
    assert aggregate_jury([juror("a", reason="score for quality is 12")], CRIT).reason == "score for quality is 12"
    alone = aggregate_jury([juror("a", 1, 2, 3)], CRIT)
    assert alone.scores == {"generalization": 1.0, "quality": 2.0, "efficiency": 3.0} and alone.spread == {}


def test_the_median_resists_one_outlier_and_the_spread_past_the_margin_is_flagged() -> None:
    jury = [juror("a", 8, 8, 8), juror("b", 7, 8, 8), juror("c", 1, 8, 8)]
    median = aggregate_jury(jury, CRIT, "median", quorum=2, margin=3)
    mean = aggregate_jury(jury, CRIT, "mean", quorum=2, margin=3)
    assert median.scores is not None and median.scores["generalization"] == 7.0
    assert mean.scores is not None and mean.scores["generalization"] == pytest.approx(16 / 3)
    assert median.flags == ("judges disagree on generalization: 1 to 8",)


def test_a_member_whose_scores_miss_a_criterion_drops_out() -> None:
    partial = JurorVerdict("b", True, {"generalization": 5.0})
    result = aggregate_jury([juror("a", 8, 6, 7), partial], CRIT, quorum=1)
    assert result.scores == {"generalization": 8.0, "quality": 6.0, "efficiency": 7.0}
    assert result.flags == ("b dropped out: no usable scores",)


@given(st.lists(st.tuples(*[st.integers(0, 10)] * 3), min_size=1, max_size=5), st.sampled_from(["mean", "median"]))
def test_the_aggregate_lies_within_the_jury_and_the_order_of_the_members_does_not_matter(
        rows: list[tuple[int, int, int]], how: str) -> None:
    jury = [juror(f"j{i}", *row) for i, row in enumerate(rows)]
    forward = aggregate_jury(jury, CRIT, how, quorum=1)
    backward = aggregate_jury(list(reversed(jury)), CRIT, how, quorum=1)
    assert forward.scores is not None and forward.scores == pytest.approx(backward.scores)
    for i, c in enumerate(CRIT):
        values = [row[i] for row in rows]
        assert min(values) <= forward.scores[c] <= max(values)


def _event(ratio: float = 2.0) -> Event:
    return Event("t", tuple(Finalist(f, f.title()) for f in ("ray", "mia", "sol", "kai")), (Panelist("p", "P"),),
                 tuple(Criterion(c, c) for c in CRIT), length_bias_ratio=ratio)


def _round(lengths: dict[str, int], llm: dict[str, float]) -> RoundRecord:
    rnd = Round(1, "q", Phase.JUDGING, labels={f: "ABCD"[i] for i, f in enumerate(lengths)})
    return RoundRecord(rnd, answers={f: Answer(1, f, "x" * n, AnswerStatus.OK) for f, n in lengths.items()},
                       judgments={f: Judgment(1, f, JudgmentStatus.OK, dict.fromkeys(CRIT, v / 10))
                                  for f, v in llm.items()})


def test_the_top_score_on_a_much_longer_answer_is_flagged() -> None:
    record = _round({"ray": 300, "mia": 2000, "sol": 400, "kai": 350}, {"ray": 60, "mia": 90, "sol": 70, "kai": 65})
    [flag] = length_bias(_event(), record)
    assert (flag.finalist_id, flag.chars, flag.median_chars) == ("mia", 2000, 375.0)
    assert flag.reason == ("length bias? the top LLM score (90) went to an answer of 2000 characters, 5.3x the "
                           "round's median of 375 (threshold 2x)")
    assert score_round(_event(), record)["mia"].llm.value == pytest.approx(90.0)  # a flag, not a score change


def test_no_flag_when_the_top_answer_is_not_long_or_the_flag_is_off_or_too_few_answered() -> None:
    long_but_not_top = _round({"ray": 300, "mia": 2000, "sol": 400, "kai": 350},
                              {"ray": 95, "mia": 90, "sol": 70, "kai": 65})
    assert length_bias(_event(), long_but_not_top) == []
    top_long = _round({"ray": 300, "mia": 2000, "sol": 400, "kai": 350}, {"ray": 60, "mia": 90, "sol": 70, "kai": 65})
    assert length_bias(_event(ratio=0), top_long) == []
    assert length_bias(_event(ratio=6), top_long) == []
    assert length_bias(_event(), _round({"ray": 300, "mia": 2000}, {"ray": 60, "mia": 90})) == []
