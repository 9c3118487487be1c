"""The one show runner (finale/runner.py): the head judge's override takes the panel value from scoring,
a failed judgment is re-judged once and then waived on the record, and a round resumes from any phase."""

from __future__ import annotations

from pathlib import Path

import pytest

from finale.config import EventConfig
from finale.core.model import Component, OverrideAction, PanelScore, Phase, Round
from finale.core.scoring import score_round
from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import panel_scores
from finale.director import Director, build_endpoints
from finale.judge.base import JudgeRequest, JudgeVerdict
from finale.runner import Hooks, ShowRunner, Step, override_misjudged, waived_line
from finale.store import Store


class FlakyJudge:
    """The rehearsal judge behind a judge that fails its first `fails` calls per answer (throttled, say)."""

    def __init__(self, inner: object, fails: int) -> None:
        self.inner = inner
        self.fails = fails
        self.calls: dict[str, int] = {}
        self.name = "flaky"

    async def judge(self, request: JudgeRequest) -> JudgeVerdict:
        self.calls[request.finalist_id] = self.calls.get(request.finalist_id, 0) + 1
        if self.calls[request.finalist_id] <= self.fails:
            return JudgeVerdict(False, reason=f"throttled (call {self.calls[request.finalist_id]})")
        return await self.inner.judge(request)  # type: ignore[attr-defined, no-any-return]

    async def aclose(self) -> None:
        await self.inner.aclose()  # type: ignore[attr-defined]


def _director(store: Store, judge_fails: int = 0, actor: str = "autopilot") -> tuple[Director, FlakyJudge]:
    endpoints = build_endpoints(store.event_config(), DEMO_EVENT.parent, time_scale=0)
    flaky = FlakyJudge(endpoints.judge, judge_fails)
    endpoints.judge = flaky
    return Director(store, endpoints, actor=actor), flaky


def _simulated(director: Director, seed: int = 7) -> Hooks:
    """The headless demo's panel and audience, written straight to the store."""
    script = load_script(DEMO_EVENT.parent / "script.toml")
    event = director.config.to_core()

    async def panel(rnd: Round) -> None:
        for score in panel_scores(event, rnd, script, seed):
            director.score_panel(score, actor=f"simulated:{score.panelist_id}")

    async def votes(rnd: Round) -> None:
        from finale.demo.simulate import audience_votes, write_votes

        write_votes(director.store, audience_votes(rnd, script, seed, 30))

    return Hooks(panel=panel, votes=votes)


async def test_the_head_judge_uses_the_panel_value_that_scoring_computes_z_normalised(
        db_path: Path, demo_config: EventConfig) -> None:
    config = demo_config.model_copy(update={"scoring": demo_config.scoring.model_copy(
        update={"z_normalise_panel": True})})
    with Store(db_path) as store:
        store.setup_event(config)
        director, _ = _director(store)
        runner = ShowRunner(director, _simulated(director))
        rnd = director.new_round("strawberry", seed=1)
        await runner.advance(rnd.id, until=Phase.CLOSED)
        [dispute] = [d for d in director.disputes(rnd.id) if d.kind == "checker"]
        expected = score_round(director.event, director.record(rnd.id))[dispute.finalist_id].panel.value
        assert expected is not None
        final = await runner.finish(rnd.id)
        assert final.phase is Phase.FINAL and runner.overrides == 1
        [override] = store.overrides()
        assert (override.finalist_id, override.actor, override.value) == (dispute.finalist_id, "head-judge",
                                                                          round(expected, 1))


async def test_no_panel_value_means_no_override_and_no_crash(store: Store) -> None:
    director, _ = _director(store)
    rnd = director.new_round("strawberry", seed=1)
    runner = ShowRunner(director, Hooks())
    await runner.advance(rnd.id, until=Phase.CLOSED)  # nobody scored, nobody voted
    assert any(d.kind == "checker" for d in director.disputes(rnd.id))
    assert override_misjudged(director, rnd.id) == 0
    assert store.overrides() == []


async def test_a_judgment_that_fails_once_is_re_judged_and_nothing_is_waived(store: Store) -> None:
    director, flaky = _director(store, judge_fails=1)
    runner = ShowRunner(director, _simulated(director))
    rnd = await runner.run_round("capital", seed=2)
    assert rnd.phase is Phase.FINAL
    assert set(flaky.calls.values()) == {2}  # each answer: the failed call and the re-judge
    assert runner.waivers == [] and store.overrides() == []


async def test_a_judgment_that_fails_twice_is_waived_on_the_record_with_the_judges_reason(store: Store) -> None:
    director, flaky = _director(store, judge_fails=2)
    runner = ShowRunner(director, _simulated(director))
    rnd = await runner.run_round("capital", seed=2)
    assert rnd.phase is Phase.FINAL
    assert set(flaky.calls.values()) == {2}  # re-judged once, never more
    overrides = store.overrides()
    assert len(overrides) == len(runner.waivers) == 5
    for o in overrides:
        assert (o.component, o.action, o.actor) == (Component.LLM, OverrideAction.WAIVE, "autopilot")
        assert "throttled (call 2)" in o.reason
    scored = score_round(director.event, director.record(rnd.id))
    assert all(fr.llm.waived and fr.total is not None for fr in scored.values())
    assert waived_line([w.round_id for w in runner.waivers]) == (
        f"5 judgments failed and were waived on the record (round {rnd.id})")


async def test_a_round_resumes_from_the_phase_the_store_holds(store: Store) -> None:
    director, _ = _director(store, actor="mc")
    runner = ShowRunner(director, _simulated(director))
    rnd = director.new_round("capital", seed=3)
    steps = [await runner.step(rnd.id)]
    restarted = ShowRunner(director, _simulated(director))  # a new process on the same database
    while store.round(rnd.id).phase is not Phase.FINAL:
        steps.append(await restarted.step(rnd.id))
    assert steps == [Step.ASKED, Step.JUDGED, Step.OPENED, Step.CLOSED, Step.FINAL]


async def test_a_panel_score_hook_that_fails_stops_the_show_with_one_clear_error(store: Store) -> None:
    from finale.runner import ShowFailed

    director, _ = _director(store)

    async def bad_panel(rnd: Round) -> None:
        director.score_panel(PanelScore(rnd.id, "ray", "panel-1", {"quality": 99.0}))

    runner = ShowRunner(director, Hooks(panel=bad_panel))
    with pytest.raises(ShowFailed, match=r"the store refused a write mid-show: .*need exactly the criteria"):
        await runner.run_round("capital", seed=4)
