"""The rehearsal show's head-to-head, and the stage's optional "beat the 90B: 3 of 5" (revealed rounds only)."""

from __future__ import annotations

from pathlib import Path

from audience.state import read_snapshot, stage_view
from finale.config import EventConfig
from finale.core.headtohead import Outcome
from finale.demo import DEMO_EVENT
from finale.director import Director, build_endpoints
from finale.store import Store


def _config(demo_config: EventConfig, **reference: object) -> EventConfig:
    assert demo_config.reference is not None
    return demo_config.model_copy(update={"reference": demo_config.reference.model_copy(update=reference)})


async def _judged(db: Path, config: EventConfig, question: str = "capital") -> tuple[Store, Director, int]:
    store = Store(db)
    store.setup_event(config)
    director = Director(store, build_endpoints(config, DEMO_EVENT.parent, time_scale=0))
    rnd = director.new_round(question, seed=11)
    await director.ask(rnd.id)
    await director.judge(rnd.id)
    return store, director, rnd.id


async def test_the_stage_shows_the_win_rates_of_revealed_rounds_when_the_event_asks(
        db_path: Path, demo_config: EventConfig) -> None:
    store, director, rid = await _judged(db_path, _config(demo_config, short_name="90B", stage_win_rate=True))
    heads = {fid: j.head_to_head for fid, j in store.judgments(rid).items()}
    assert all(h is not None and h.outcome is not None for h in heads.values())
    assert stage_view(read_snapshot(store), 0.0, "http://x")["beat_reference"] is None  # not revealed yet
    director.open_poll(rid)
    director.close_poll(rid)  # the demo reveals who was who at the close
    shown = stage_view(read_snapshot(store), 0.0, "http://x")["beat_reference"]
    wins = {fid for fid, h in heads.items() if h is not None and h.outcome is Outcome.WIN}
    names = {f.id: f.name for f in demo_config.finalists}
    assert shown["label"] == "beat the 90B"
    assert {r["name"]: (r["wins"], r["judged"]) for r in shown["rows"]} == {
        names[fid]: (int(fid in wins), 1) for fid in heads}
    await director.endpoints.aclose()
    store.close()


async def test_off_by_default_and_the_rehearsal_judge_leans_to_the_first_answer_when_too_close(
        db_path: Path, demo_config: EventConfig) -> None:
    store, director, rid = await _judged(db_path, demo_config, "ethics")
    heads = {fid: j.head_to_head for fid, j in store.judgments(rid).items()}
    assert heads["sol"] is not None and heads["sol"].text == "tie (order-sensitive)"  # sol's 6.0 vs the ref's 6.0
    assert heads["mia"] is not None and heads["mia"].text == "win"
    director.open_poll(rid)
    director.close_poll(rid)
    assert stage_view(read_snapshot(store), 0.0, "http://x")["beat_reference"] is None
    await director.endpoints.aclose()
    store.close()
