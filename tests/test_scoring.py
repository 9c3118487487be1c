"""Scoring rules: examples from DESIGN.md and hypothesis properties."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finale.core.blockers import BlockerKind, blockers
from finale.core.disputes import disputes
from finale.core.model import (
    Answer,
    AnswerStatus,
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
    Question,
    Round,
    Weights,
)
from finale.core.scoring import (
    RoundRecord,
    ScoringError,
    score_round,
    standings,
    validate_override,
    validate_weights,
)

RUBRIC = (Criterion("generalization", "g"), Criterion("quality", "q"), Criterion("efficiency", "e"))
CRIT = [c.id for c in RUBRIC]


def make_event(n_finalists: int = 3, n_panelists: int = 2, weights: Weights | None = None,
               z: bool = False) -> Event:
    return Event(
        name="t",
        finalists=tuple(Finalist(f"f{i}", f"F{i}") for i in range(n_finalists)),
        panelists=tuple(Panelist(f"p{i}", f"P{i}") for i in range(n_panelists)),
        rubric=RUBRIC,
        questions=(Question("strawberry", "how many r", "3", "number"),),
        weights=weights or Weights(),
        z_normalise_panel=z,
    )


score = st.integers(0, 10).map(float)


@st.composite
def rounds(draw: st.DrawFn, event: Event | None = None) -> tuple[Event, RoundRecord]:
    if event is None:
        n = draw(st.integers(2, 6))
        p = draw(st.integers(1, 3))
        a = draw(st.integers(0, 100))
        b = draw(st.integers(0, 100 - a))
        weights = Weights(a / 100, b / 100, (100 - a - b) / 100)
        event = make_event(n, p, weights, z=draw(st.booleans()))
    labels = {f.id: chr(65 + i) for i, f in enumerate(event.finalists)}
    judgments = {
        f.id: Judgment(1, f.id, JudgmentStatus.OK, {c: draw(score) for c in CRIT}) for f in event.finalists
    }
    panel = [
        PanelScore(1, f.id, p.id, {c: draw(score) for c in CRIT}) for f in event.finalists for p in event.panelists
    ]
    votes = {f.id: draw(st.integers(0, 500)) for f in event.finalists}
    if sum(votes.values()) == 0:
        votes[event.finalists[0].id] = 1
    answers = {f.id: Answer(1, f.id, "x", AnswerStatus.OK, total_ms=draw(st.integers(100, 5000)))
               for f in event.finalists}
    rnd = Round(1, "q", Phase.FINAL, labels=labels)
    return event, RoundRecord(rnd, answers, judgments, panel, votes)


def _weighted(event: Event, fr_llm: float, fr_panel: float, fr_aud: float) -> float:
    w = event.weights
    return w.llm * fr_llm + w.panel * fr_panel + w.audience * fr_aud


@settings(max_examples=200, deadline=None)
@given(rounds())
def test_total_is_the_weighted_sum(case: tuple[Event, RoundRecord]) -> None:
    event, record = case
    for fr in score_round(event, record).values():
        assert fr.total is not None
        assert fr.llm.value is not None and fr.panel.value is not None and fr.audience.value is not None
        assert math.isclose(fr.total, _weighted(event, fr.llm.value, fr.panel.value, fr.audience.value),
                            abs_tol=1e-9)
        assert 0 <= fr.total <= 100 + 1e-9


@settings(max_examples=200, deadline=None)
@given(rounds(), st.sampled_from(list(Component)), st.floats(0, 100), st.data())
def test_raising_a_component_never_lowers_the_total(case: tuple[Event, RoundRecord], component: Component,
                                                    bump: float, data: st.DataObject) -> None:
    event, record = case
    fid = data.draw(st.sampled_from(list(event.finalist_ids)))
    before = score_round(event, record)[fid]
    current = before.component(component).value
    assert current is not None
    raised = Override(1, 1, fid, component, OverrideAction.REPLACE, "raise", "test", min(100.0, current + bump))
    after = score_round(event, dataclasses.replace(record, overrides=[raised]))[fid]
    assert after.total is not None and before.total is not None
    assert after.total >= before.total - 1e-9


@settings(max_examples=100, deadline=None)
@given(rounds(), st.data())
def test_more_votes_never_lowers_that_finalists_total(case: tuple[Event, RoundRecord], data: st.DataObject) -> None:
    event, record = case
    fid = data.draw(st.sampled_from(list(event.finalist_ids)))
    more = dict(record.votes)
    more[fid] += data.draw(st.integers(1, 100))
    before = score_round(event, record)[fid].total
    after = score_round(event, dataclasses.replace(record, votes=more))[fid].total
    assert before is not None and after is not None and after >= before - 1e-9


@settings(max_examples=100, deadline=None)
@given(rounds(), st.randoms(use_true_random=False))
def test_reordering_finalists_changes_no_score(case: tuple[Event, RoundRecord], rng: object) -> None:
    event, record = case
    shuffled = list(event.finalists)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    panel = list(record.panel_scores)
    rng.shuffle(panel)  # type: ignore[attr-defined]
    event2 = dataclasses.replace(event, finalists=tuple(shuffled))
    a = score_round(event, record)
    b = score_round(event2, dataclasses.replace(record, panel_scores=panel))
    assert {k: v.total for k, v in a.items()} == pytest.approx({k: v.total for k, v in b.items()})
    sa = {s.finalist_id: (s.rank, s.total) for s in standings(event, [record])}
    sb = {s.finalist_id: (s.rank, s.total) for s in standings(event2, [record])}
    assert sa == pytest.approx(sb)


@settings(max_examples=200, deadline=None)
@given(rounds(), st.sampled_from(list(Component)), st.booleans(), st.floats(0, 100), st.data())
def test_an_override_then_its_revert_restores_every_score_exactly(
    case: tuple[Event, RoundRecord], component: Component, waive: bool, value: float, data: st.DataObject
) -> None:
    event, record = case
    fid = data.draw(st.sampled_from(list(event.finalist_ids)))
    action = OverrideAction.WAIVE if waive else OverrideAction.REPLACE
    o = Override(1, 1, fid, component, action, "why", "head-judge", None if waive else value)
    overridden = score_round(event, dataclasses.replace(record, overrides=[o]))
    assert overridden[fid].overridden
    reverted = score_round(event, dataclasses.replace(record, overrides=[dataclasses.replace(o, reverted=True)]))
    assert reverted == score_round(event, record)
    assert standings(event, [dataclasses.replace(record, overrides=[dataclasses.replace(o, reverted=True)])]) == \
        standings(event, [record])


@given(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
def test_weights_that_do_not_sum_to_one_are_refused(a: float, b: float, c: float) -> None:
    w = Weights(a, b, c)
    if abs(a + b + c - 1) > 1e-6:
        with pytest.raises(ScoringError, match="weights must sum to 1"):
            validate_weights(w)
    else:
        assert validate_weights(w) is w


def test_negative_weights_are_refused() -> None:
    with pytest.raises(ScoringError, match="must not be negative"):
        validate_weights(Weights(1.2, -0.2, 0.0))


def test_design_example_numbers() -> None:
    event = make_event(2, 2)
    labels = {"f0": "A", "f1": "B"}
    record = RoundRecord(
        Round(1, "q", Phase.CLOSED, "strawberry", labels=labels),
        answers={"f0": Answer(1, "f0", "3", AnswerStatus.OK, total_ms=900),
                 "f1": Answer(1, "f1", "2", AnswerStatus.OK, total_ms=800)},
        judgments={"f0": Judgment(1, "f0", JudgmentStatus.OK, {"generalization": 2, "quality": 3, "efficiency": 4}),
                   "f1": Judgment(1, "f1", JudgmentStatus.OK, {"generalization": 8, "quality": 8, "efficiency": 8})},
        panel_scores=[PanelScore(1, "f0", "p0", {c: 9 for c in CRIT}), PanelScore(1, "f0", "p1", {c: 7 for c in CRIT}),
                      PanelScore(1, "f1", "p0", {c: 2 for c in CRIT}), PanelScore(1, "f1", "p1", {c: 4 for c in CRIT})],
        votes={"f0": 30, "f1": 10},
    )
    scored = score_round(event, record)
    assert scored["f0"].llm.value == pytest.approx(30.0)
    assert scored["f0"].panel.value == pytest.approx(80.0)
    assert scored["f0"].audience.value == pytest.approx(75.0)
    assert scored["f0"].total == pytest.approx(0.4 * 30 + 0.4 * 80 + 0.2 * 75)
    found = disputes(event, record)
    kinds = {(d.finalist_id, d.kind) for d in found}
    assert ("f0", "checker") in kinds  # "3" is right but the judge gave 30
    assert ("f1", "checker") in kinds  # "2" is wrong but the judge gave 80
    assert ("f0", "gap") in kinds and ("f1", "gap") in kinds  # 30 vs 80, 80 vs 30 > 30
    o = Override(1, 1, "f0", Component.LLM, OverrideAction.REPLACE, "checker confirms 3", "head-judge", 90.0)
    fixed = dataclasses.replace(record, overrides=[o])
    assert score_round(event, fixed)["f0"].llm.original == pytest.approx(30.0)
    assert score_round(event, fixed)["f0"].total == pytest.approx(0.4 * 90 + 0.4 * 80 + 0.2 * 75)
    assert all(d.resolved for d in disputes(event, fixed) if d.finalist_id == "f0" and d.kind == "checker")


def test_a_waived_component_drops_out_and_the_rest_are_rescaled() -> None:
    event = make_event(2, 1)
    record = RoundRecord(
        Round(1, "q", Phase.CLOSED, labels={"f0": "A", "f1": "B"}),
        judgments={f: Judgment(1, f, JudgmentStatus.OK, {c: 5 for c in CRIT}) for f in ("f0", "f1")},
        panel_scores=[PanelScore(1, f, "p0", {c: 10 for c in CRIT}) for f in ("f0", "f1")],
        votes={"f0": 1, "f1": 1},
        overrides=[Override(1, 1, "f0", Component.PANEL, OverrideAction.WAIVE, "panelist left", "mc")],
    )
    fr = score_round(event, record)["f0"]
    assert fr.panel.waived and fr.total == pytest.approx((0.4 * 50 + 0.2 * 50) / 0.6)


def test_blockers_say_what_is_missing() -> None:
    event = make_event(2, 2)
    record = RoundRecord(
        Round(3, "q", Phase.VOTING, labels={"f0": "A", "f1": "B"}),
        judgments={"f0": Judgment(3, "f0", JudgmentStatus.FAILED, reason="no tool call in the reply")},
        panel_scores=[PanelScore(3, "f0", "p0", {c: 5 for c in CRIT})],
    )
    typed = blockers(event, record)
    found = [b.text for b in typed]
    assert "the round is voting; the poll must be closed first" in found
    assert "LLM judge: F0 (A): judgment failed: no tool call in the reply" in found
    assert "LLM judge: F1 (B): no judgment yet" in found
    assert "panel: F0 (A): waiting for P1" in found
    assert "panel: F1 (B): waiting for P0, P1" in found
    assert "audience: F0 (A): no votes cast" in found
    kinds = {(b.kind, b.finalist_id) for b in typed}
    assert {(BlockerKind.PHASE, None), (BlockerKind.LLM, "f0"), (BlockerKind.LLM, "f1"),
            (BlockerKind.AUDIENCE, "f1")} <= kinds
    panel = next(b for b in typed if b.kind is BlockerKind.PANEL and b.finalist_id == "f1")
    assert panel.panelist_ids == ("p0", "p1")


def test_ties_break_on_panel_then_llm_then_votes_then_latency() -> None:
    event = make_event(2, 1)

    def rec(llm: tuple[float, float], panel: tuple[float, float], votes: tuple[int, int],
            lat: tuple[float, float]) -> RoundRecord:
        fids = ("f0", "f1")
        return RoundRecord(
            Round(1, "q", Phase.FINAL, labels={"f0": "A", "f1": "B"}),
            answers={f: Answer(1, f, "x", AnswerStatus.OK, total_ms=lat[i]) for i, f in enumerate(fids)},
            judgments={f: Judgment(1, f, JudgmentStatus.OK, {c: llm[i] for c in CRIT}) for i, f in enumerate(fids)},
            panel_scores=[PanelScore(1, f, "p0", {c: panel[i] for c in CRIT}) for i, f in enumerate(fids)],
            votes={"f0": votes[0], "f1": votes[1]},
        )

    # Same total (0.4*60+0.4*80 = 0.4*80+0.4*60), panel decides.
    top = standings(event, [rec((6, 8), (8, 6), (5, 5), (1, 1))])
    assert [s.finalist_id for s in top] == ["f0", "f1"] and not top[0].tied
    # Everything equal but latency.
    top = standings(event, [rec((7, 7), (7, 7), (5, 5), (900, 300))])
    assert [s.finalist_id for s in top] == ["f1", "f0"]
    # A full tie shares the rank.
    top = standings(event, [rec((7, 7), (7, 7), (5, 5), (300, 300))])
    assert [s.rank for s in top] == [1, 1] and all(s.tied for s in top)


def test_standings_count_only_final_rounds() -> None:
    event = make_event(2, 1)
    record = RoundRecord(Round(1, "q", Phase.CLOSED, labels={"f0": "A", "f1": "B"}),
                         judgments={f: Judgment(1, f, JudgmentStatus.OK, {c: 9 for c in CRIT}) for f in ("f0", "f1")},
                         votes={"f0": 1})
    assert all(s.total == 0 and s.rounds == 0 for s in standings(event, [record]))


@pytest.mark.parametrize("override,message", [
    (Override(1, 1, "f0", Component.LLM, OverrideAction.REPLACE, "  ", "mc", 50), "needs a reason"),
    (Override(1, 1, "f0", Component.LLM, OverrideAction.REPLACE, "r", "", 50), "needs an actor"),
    (Override(1, 1, "f0", Component.LLM, OverrideAction.REPLACE, "r", "mc", 150), "between 0 and 100"),
    (Override(1, 1, "f0", Component.LLM, OverrideAction.REPLACE, "r", "mc", None), "between 0 and 100"),
    (Override(1, 1, "f0", Component.LLM, OverrideAction.WAIVE, "r", "mc", 5), "carries no value"),
])
def test_bad_overrides_are_refused(override: Override, message: str) -> None:
    with pytest.raises(ScoringError, match=message):
        validate_override(override)
