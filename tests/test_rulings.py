"""The rescues and rulings of issue 12: a panelist waived for a round, the audience waived for every finalist,
and "keep the judge's score" on a judge-vs-panel gap; the rules (core) and the Director's one transaction."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from finale.config import load_event
from finale.core.blockers import BlockerKind, blockers
from finale.core.disputes import DisputeError, DisputeKind, disputes, keep_judge
from finale.core.model import (
    Component,
    Judgment,
    JudgmentStatus,
    Override,
    OverrideAction,
    PanelScore,
    Phase,
    Round,
)
from finale.core.scoring import RoundRecord, ScoringError, score_round, validate_override
from finale.demo import DEMO_EVENT
from finale.director import Director, build_endpoints
from finale.store import Store, StoreError
from tests.test_scoring import CRIT, make_event


def _record(**kw: object) -> RoundRecord:
    base = RoundRecord(
        Round(1, "q", Phase.CLOSED, labels={"f0": "A", "f1": "B"}),
        judgments={f: Judgment(1, f, JudgmentStatus.OK, {c: 3 for c in CRIT}) for f in ("f0", "f1")},
        panel_scores=[PanelScore(1, f, "p0", {c: 9 for c in CRIT}) for f in ("f0", "f1")],
        votes={"f0": 3, "f1": 1},
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def _waive(oid: int, fid: str, pid: str) -> Override:
    return Override(oid, 1, fid, Component.PANEL, OverrideAction.WAIVE, "p1 is ill", "Dana", panelist_id=pid)


def test_a_waived_panelist_leaves_the_panel_and_is_not_waited_for() -> None:
    event = make_event(2, 2)  # p1 never scored
    record = _record()
    assert {(b.kind, b.panelist_ids) for b in blockers(event, record)} == {(BlockerKind.PANEL, ("p1",))}
    waived = dataclasses.replace(record, overrides=[_waive(1, "f0", "p1"), _waive(2, "f1", "p1")])
    assert blockers(event, waived) == []
    fr = score_round(event, waived)["f0"]
    assert fr.panel.value == pytest.approx(90.0) and fr.panel.left_out == {"p1"} and not fr.panel.waived
    assert fr.overridden  # the standings mark it
    # p1 scores after all: while the waiver stands their scores do not count; reverted, they do
    late = [*record.panel_scores, PanelScore(1, "f0", "p1", {c: 1 for c in CRIT})]
    assert score_round(event, dataclasses.replace(waived, panel_scores=late))["f0"].panel.value == pytest.approx(90)
    back = [dataclasses.replace(_waive(1, "f0", "p1"), reverted=True), _waive(2, "f1", "p1")]
    assert score_round(event, dataclasses.replace(record, panel_scores=late, overrides=back))["f0"].panel.value \
        == pytest.approx(50.0)


def test_every_panelist_waived_waives_the_panel() -> None:
    event = make_event(2, 1)
    record = _record(overrides=[_waive(1, "f0", "p0")])
    fr = score_round(event, record)["f0"]
    assert fr.panel.waived and fr.total == pytest.approx((0.4 * 30 + 0.2 * 75) / 0.6)


def test_a_panelist_is_only_ever_waived() -> None:
    bad = Override(1, 1, "f0", Component.PANEL, OverrideAction.REPLACE, "why", "Dana", 50.0, panelist_id="p0")
    with pytest.raises(ScoringError, match="only ever waived"):
        validate_override(bad)


def test_keeping_the_judges_score_settles_a_gap_while_its_values_stand() -> None:
    event = make_event(2, 1)
    record = _record()  # judge 30 vs panel 90: a gap of 60 > 30 for both answers
    assert {(d.finalist_id, d.kind, d.resolved) for d in disputes(event, record)} == {
        ("f0", DisputeKind.GAP, False), ("f1", DisputeKind.GAP, False)}
    with pytest.raises(DisputeError, match="reason"):
        keep_judge(event, record, "f0", "  ", "Dana")
    decision = keep_judge(event, record, "f0", "the panel misread the question", "Dana")
    assert (decision.llm, decision.panel) == (pytest.approx(30.0), pytest.approx(90.0))
    kept = dataclasses.replace(record, decisions=[decision])
    by_f = {d.finalist_id: d for d in disputes(event, kept)}
    assert by_f["f0"].resolved and by_f["f0"].kept and not by_f["f1"].resolved
    assert score_round(event, kept) == score_round(event, record)  # a ruling changes no score
    with pytest.raises(DisputeError, match="already settled"):
        keep_judge(event, kept, "f0", "again", "Dana")
    revised = dataclasses.replace(kept, panel_scores=[PanelScore(1, "f0", "p0", {c: 10 for c in CRIT}),
                                                      *record.panel_scores[1:]])
    assert not next(d for d in disputes(event, revised) if d.finalist_id == "f0").resolved  # new values: open again


def test_no_gap_no_ruling() -> None:
    event = make_event(2, 1)
    record = _record(panel_scores=[PanelScore(1, f, "p0", {c: 3 for c in CRIT}) for f in ("f0", "f1")])
    with pytest.raises(DisputeError, match="no judge-vs-panel gap"):
        keep_judge(event, record, "f0", "fine", "Dana")


# -- the Director: one transaction each, on the record --------------------------------------------------


@pytest.fixture
def closed_round(tmp_path: Path) -> tuple[Director, Store, int]:
    """The demo event, round 1 asked and judged, panel-1 and panel-2 scored, no votes, poll closed."""
    cfg = load_event(DEMO_EVENT)
    store = Store(tmp_path / "rulings.db")
    store.setup_event(cfg)
    endpoints = build_endpoints(cfg, DEMO_EVENT.parent, seed=7, time_scale=0)
    director = Director(store, endpoints, actor="alice")
    rnd = director.new_round("capital", seed=7001)

    async def ask() -> None:
        await director.ask(rnd.id)
        await director.judge(rnd.id)
        await endpoints.aclose()
    asyncio.run(ask())
    for fid in rnd.labels:
        for pid in ("panel-1", "panel-2"):
            store.save_panel_score(PanelScore(rnd.id, fid, pid, {c: 8.0 for c in cfg.to_core().criterion_ids}),
                                   actor=f"hub:{pid}")
    director.open_poll(rnd.id)
    director.close_poll(rnd.id)
    return director, store, rnd.id


def test_waiving_the_audience_and_a_panelist_clears_the_blockers_in_one_transaction_each(
        closed_round: tuple[Director, Store, int]) -> None:
    director, store, rid = closed_round
    kinds = {b.kind for b in director.blockers(rid)}
    assert kinds == {BlockerKind.AUDIENCE, BlockerKind.PANEL}
    seq = store.events()[-1].seq
    waivers = director.waive_audience(rid, "no phones: the venue wifi was down", actor="Dana (entered by alice)")
    assert len(waivers) == 5 and {o.actor for o in waivers} == {"Dana (entered by alice)"}
    logged = store.events(since=seq)
    assert [e.kind for e in logged] == ["override.added"] * 5
    assert all(e.payload["reason"] == "no phones: the venue wifi was down" for e in logged)
    assert director.waive_audience(rid, "again") == []  # already waived: nothing new on the record
    third = director.waive_panelist(rid, "panel-3", "left before round 1")
    assert len(third) == 5 and all(o.panelist_id == "panel-3" and o.actor == "alice" for o in third)
    assert director.blockers(rid) == []
    scored = score_round(store.event(), store.round_record(rid))
    assert all(fr.panel.value == pytest.approx(80.0) and fr.panel.left_out == {"panel-3"} for fr in scored.values())
    assert all(o.panelist_id == "panel-3" for o in store.overrides(rid) if o.component is Component.PANEL)
    director.finalize(rid)


def test_a_waiver_that_fails_half_way_writes_nothing(closed_round: tuple[Director, Store, int],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    director, store, rid = closed_round
    real = store.add_override
    calls = 0

    def third_fails(*args: object, **kwargs: object) -> Override:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise StoreError("the disk filled up")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "add_override", third_fails)
    with pytest.raises(StoreError, match="disk"):
        director.waive_panelist(rid, "panel-3", "absent")
    assert store.overrides(rid) == [] and store.events(kind="override.added") == []


def test_keep_the_judges_score_is_an_audited_decision(closed_round: tuple[Director, Store, int]) -> None:
    director, store, rid = closed_round
    event = store.event()
    record = store.round_record(rid)
    fid = next(iter(record.round.labels))
    for pid in ("panel-1", "panel-2"):  # the panel far below the judge for one answer
        store.save_panel_score(PanelScore(rid, fid, pid, {c: 0.0 for c in event.criterion_ids}), actor="hub")
    assert any(d.finalist_id == fid and d.kind is DisputeKind.GAP and not d.resolved for d in director.disputes(rid))
    decision = director.keep_judge_score(rid, fid, "the judge is right: the panel misheard the answer",
                                         actor="Dana (entered by alice)")
    (logged,) = store.events(kind="dispute.decided")
    assert (logged.actor, logged.payload["finalist_id"], logged.payload["decision"]) == (
        "Dana (entered by alice)", fid, "keep_judge")
    assert store.decisions(rid) == [decision]
    assert all(d.resolved for d in director.disputes(rid) if d.finalist_id == fid)
    with pytest.raises(DisputeError):
        director.keep_judge_score(rid, fid, "twice")
    assert len(store.events(kind="dispute.decided")) == 1
