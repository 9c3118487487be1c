"""Judging you can defend, over the real wire: the head-to-head both ways round and a jury kept as data.

Finalists on the OpenAI-compatible wire server, the reference (a "90B") and every
judge model on the local Bedrock server, driven by the real Director into a real
store; the console (Pilot), the report and the export read what it wrote.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from finale.config import EventConfig, parse_event
from finale.core.headtohead import Outcome, win_rates
from finale.core.model import JudgmentStatus
from finale.demo import DEMO_EVENT
from finale.director import Director, build_endpoints
from finale.export import collect as export_rows
from finale.report import build_report
from finale.store import Store
from tests.wire.judges import fair, first_shown, scores
from tests.wire.server import Reply, WireHTTPServer

pytest_plugins = ["tests.wire.fixtures"]

REFERENCE = "It is Canberra."
ANSWERS = {  # against the reference, a fair judge ranks: the fuller answer > "Canberra" > wrong answers
    "ray": "Canberra, the capital since 1913.",
    "mia": "Sydney.",
    "sol": "Canberra.",
    "kai": "Canberra, the capital since 1913, planned by Walter Burley Griffin.",
    "zoe": "Melbourne.",
}


def ranked(*phrases: str) -> Any:
    """A fair judge: of two answers the one holding the earlier phrase is better, wherever it is shown."""
    def rank(text: str) -> int:
        return next((i for i, p in enumerate(phrases) if p in text), len(phrases))

    def decide(prompt: str) -> dict[str, Any]:
        from tests.wire.judges import answers, is_pair

        if not is_pair(prompt):
            return scores()
        shown = answers(prompt)
        one, two = rank(shown["1"]), rank(shown["2"])
        better = "tie" if one == two else ("1" if one < two else "2")
        return {"better": better, "rationale": f"Answer {better} is more complete."}
    return decide


def wire_event(aws: WireHTTPServer, oai: WireHTTPServer, judge: dict[str, Any],
               reference: dict[str, Any] | None = None) -> EventConfig:
    data = tomllib.loads(DEMO_EVENT.read_text())
    for finalist in data["finalists"]:
        finalist["endpoint"] = {"kind": "openai", "base_url": oai.url + "/v1", "model": f"{finalist['id']}-3b"}
        oai.script.replies[f"{finalist['id']}-3b"] = Reply(ANSWERS[finalist["id"]], pieces=2)
    aws_common = {"region": "us-east-1", "endpoint_url": aws.url}
    data["reference"] = {"name": "Llama 3.2 90B", "short_name": "90B", **(reference or {}),
                         "endpoint": {"kind": "bedrock", "model_id": "meta.llama3-2-90b-instruct-v1:0",
                                      **aws_common}}
    aws.script.replies["meta.llama3-2-90b-instruct-v1:0"] = Reply(REFERENCE, pieces=2)
    data["judge"] = {"kind": "bedrock", "max_attempts": 1, **aws_common, **judge}
    return parse_event(data)


async def judged_round(config: EventConfig, db: Path) -> tuple[Store, int]:
    store = Store(db)
    store.setup_event(config)
    endpoints = build_endpoints(config, DEMO_EVENT.parent)
    director = Director(store, endpoints)
    rnd = director.new_round("capital", seed=5)
    await director.ask(rnd.id)
    await director.judge(rnd.id)
    await endpoints.aclose()
    return store, rnd.id


async def test_a_judge_that_prefers_the_first_answer_never_makes_a_win(
        aws: WireHTTPServer, oai: WireHTTPServer, tmp_path: Path) -> None:
    aws.script.replies["biased"] = Reply(decide=first_shown())
    store, rid = await judged_round(wire_event(aws, oai, {"model_id": "biased"}), tmp_path / "biased.db")
    heads = {fid: j.head_to_head for fid, j in store.judgments(rid).items()}
    assert all(h is not None and h.outcome is Outcome.TIE and h.order_sensitive for h in heads.values()), heads
    pair_prompts = [b for b in aws.script.bodies("/model/biased/") if "record_preference" in json.dumps(b)]
    assert len(pair_prompts) == 10  # every answer twice, the order swapped
    shown_first = [b["messages"][0]["content"][0]["text"].split('<answer label="1">\n')[1].split("\n")[0]
                   for b in pair_prompts]
    assert shown_first.count(REFERENCE) == 5  # the reference went first in one of each answer's two calls
    rates = win_rates(store.records(), store.event().finalist_ids)
    assert {r.wins for r in rates.values()} == {0} and {r.order_sensitive for r in rates.values()} == {1}
    report = build_report(store)
    assert "nobody beat Llama 3.2 90B; 5 order-sensitive tie(s)" in report
    assert ('<td>Ray</td><td class="num">0</td><td class="num">0</td><td class="num">1</td><td class="num">1</td>'
            in report)  # no win, no loss, one tie, order-sensitive
    store.close()


async def test_a_fair_judge_gives_wins_and_losses_shown_in_the_console_and_the_report(
        aws: WireHTTPServer, oai: WireHTTPServer, tmp_path: Path) -> None:
    aws.script.replies["fair"] = Reply(decide=ranked("the capital since 1913", "Canberra"))
    config = wire_event(aws, oai, {"model_id": "fair"})
    store, rid = await judged_round(config, tmp_path / "fair.db")
    outcomes = {fid: j.head_to_head.text for fid, j in store.judgments(rid).items() if j.head_to_head}
    assert outcomes == {"ray": "win", "kai": "win", "sol": "tie", "mia": "loss", "zoe": "loss"}
    rows = store.db.query("SELECT finalist_id, outcome, order_sensitive FROM head_to_head ORDER BY finalist_id")
    assert [(r["finalist_id"], r["outcome"], r["order_sensitive"]) for r in rows] == [
        ("kai", "win", 0), ("mia", "loss", 0), ("ray", "win", 0), ("sol", "tie", 0), ("zoe", "loss", 0)]
    report = build_report(store)
    assert "Head to head with Llama 3.2 90B" in report and "Shown beside the score" in report
    assert "Ray, Kai beat Llama 3.2 90B" in report or "Kai, Ray beat Llama 3.2 90B" in report
    export = export_rows(store)
    assert {r["finalist_id"]: r["wins"] for r in export["head_to_head_win_rates"]} == {
        "ray": 1, "mia": 0, "sol": 0, "kai": 1, "zoe": 0}
    [saved] = [e for e in store.events(kind="judgment.saved") if e.payload["finalist_id"] == "ray"]
    assert saved.payload["head_to_head"]["outcome"] == "win"  # on the record, for the replay
    store.close()
    await _console_shows_the_win_rate(tmp_path / "fair.db", config)


async def _console_shows_the_win_rate(db: Path, config: EventConfig) -> None:
    from finale.tui.app import create_app
    from tests.tui_support import wait_until

    app = create_app(db, config=config, event_dir=DEMO_EVENT.parent, time_scale=0, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read of the store")
        await pilot.press("3")  # the judging screen
        await pilot.press("m")  # names on: the MC may see the rate by name before the reveal
        await wait_until(pilot, lambda: "win rate over the show" in _text(app, "#judging-h2h"), "the win rate line")
        line = _text(app, "#judging-h2h")
        assert "Head to head with Llama 3.2 90B, both orders: this round " in line and "beat it" in line
        assert "Ray 1 of 1 (100%)" in line and "Mia 0 of 1 (0%)" in line


def _text(app: Any, selector: str) -> str:
    from textual.widgets import Static

    return str(app.screen.query_one(selector, Static).render())


async def test_a_jury_of_three_with_one_failing_scores_from_the_other_two_with_a_flag(
        aws: WireHTTPServer, oai: WireHTTPServer, tmp_path: Path) -> None:
    aws.script.replies["j1"] = Reply(decide=fair("1913", scores(8, 8, 6)))
    aws.script.replies["j2"] = Reply(decide=fair("1913", scores(6, 8, 8)))
    aws.script.replies["j3"] = Reply(fail_status=500, fail_message="The judge model is unavailable.")
    config = wire_event(aws, oai, {"model_id": "j1", "extra_model_ids": ["j2", "j3"], "quorum": 2})
    store, rid = await judged_round(config, tmp_path / "jury.db")
    judgments = store.judgments(rid)
    assert {j.status for j in judgments.values()} == {JudgmentStatus.OK}
    ray = judgments["ray"]
    assert ray.scores == {"generalization": 7.0, "quality": 8.0, "efficiency": 7.0}  # the mean of j1 and j2
    assert ray.spread == {"generalization": 2.0, "quality": 0.0, "efficiency": 2.0}
    [flag] = ray.flags
    assert flag.startswith("bedrock:j3 dropped out: Bedrock judge j3: InternalServerException (HTTP 500)")
    assert [(j.judge, j.ok) for j in ray.jurors] == [("bedrock:j1", True), ("bedrock:j2", True), ("bedrock:j3", False)]
    rows = list(store.db.query("SELECT finalist_id, judge, status FROM jury_verdicts WHERE round_id=?", [rid]))
    assert len(rows) == 15 and sum(r["status"] == "failed" for r in rows) == 5  # one row per judge per answer
    exported = export_rows(store)["jury_verdicts"]
    assert sorted((r["judge"], r["status"]) for r in exported if r["finalist_id"] == "ray") == [
        ("bedrock:j1", "ok"), ("bedrock:j2", "ok"), ("bedrock:j3", "failed")]
    [saved] = [e for e in store.events(kind="judgment.saved") if e.payload["finalist_id"] == "ray"]
    assert [(v["judge"], v["status"], v["scores"]) for v in saved.payload["jury"]] == [
        ("bedrock:j1", "ok", {"generalization": 8.0, "quality": 8.0, "efficiency": 6.0}),
        ("bedrock:j2", "ok", {"generalization": 6.0, "quality": 8.0, "efficiency": 8.0}),
        ("bedrock:j3", "failed", {})]
    report = build_report(store)
    assert "Jury: each judge&#x27;s scores" in report or "Jury: each judge's scores" in report
    assert "dropped out: Bedrock judge j3" in report and "Jury flag: bedrock:j3 dropped out" in report
    store.close()
    await _console_shows_each_judge(tmp_path / "jury.db", config)


async def _console_shows_each_judge(db: Path, config: EventConfig) -> None:
    from finale.tui.app import create_app
    from tests.tui_support import wait_until

    app = create_app(db, config=config, event_dir=DEMO_EVENT.parent, time_scale=0, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read of the store")
        await pilot.press("3")  # the judging screen, on the first answer
        await wait_until(pilot, lambda: "bedrock:j1: " in _text(app, "#judgment-detail"), "each judge's scores")
        detail = _text(app, "#judgment-detail")
        assert "bedrock:j2: generalization " in detail and "bedrock:j3: dropped out: Bedrock judge j3" in detail
        assert "⚑ jury: bedrock:j3 dropped out" in detail


async def test_below_the_quorum_the_judgment_fails_for_a_human(
        aws: WireHTTPServer, oai: WireHTTPServer, tmp_path: Path) -> None:
    aws.script.replies["j1"] = Reply(decide=fair("1913"))
    for down in ("j2", "j3"):
        aws.script.replies[down] = Reply(fail_status=500)
    config = wire_event(aws, oai, {"model_id": "j1", "extra_model_ids": ["j2", "j3"]}, {"head_to_head": False})
    store, rid = await judged_round(config, tmp_path / "quorum.db")
    ray = store.judgments(rid)["ray"]
    assert ray.status is JudgmentStatus.FAILED and ray.head_to_head is None
    assert ray.reason is not None and ray.reason.startswith("1 of 3 judge models answered, short of the quorum of 2")
    assert len(ray.jurors) == 3 and ray.jurors[0].ok  # the one that answered is kept, on the record
    store.close()
