"""The remedy: the integrity view raises its alarm (Textual Pilot) and the head judge's discount removes the
stuffed votes, the round's scores and the standings follow, and a revert restores them exactly.

Real store and Director; the console is the real FinaleApp driven by Textual's Pilot.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from finale.config import EventConfig, load_event
from finale.core.discount import VoteDiscount
from finale.core.model import Component, OverrideAction, Round
from finale.core.scoring import score_round, standings
from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import panel_scores
from finale.director import Director
from finale.store import Store, VoteIn
from finale.tui.app import create_app
from finale.tui.screens.integrity import DiscountModal
from tests.hub_helpers import director_for, voting_round
from tests.tui_support import wait_until

HONEST = 12
STUFFED = 20


def behind_nat(config: EventConfig) -> EventConfig:
    """The demo event as for a hub behind a venue NAT: many devices per address may vote."""
    return config.model_copy(update={"voting": config.voting.model_copy(update={"devices_per_address": 500})})


def cast(store: Store, rnd: Round) -> tuple[str, str]:
    """Honest phones from their own origins (joined before the poll), and one laptop minting voters during it.

    Returns (the laptop's origin, the finalist it stuffs for); honest votes favour another finalist."""
    assert rnd.vote_opened_at is not None
    ray, mia = rnd.labels["ray"], rnd.labels["mia"]
    honest = [VoteIn(rnd.id, f"v{i:024x}", ray if i % 3 else mia, f"h{i}", time.time(), origin=f"o{i:016x}",
                     issued_at=rnd.vote_opened_at - 300 + i) for i in range(HONEST)]
    stuffed = [VoteIn(rnd.id, f"v{i + 1000:024x}", mia, f"s{i}", time.time(), origin="o" + "f" * 16,
                      issued_at=rnd.vote_opened_at + 1 + i * 0.2) for i in range(STUFFED)]
    assert store.record_votes(honest + stuffed) == HONEST + STUFFED
    return "o" + "f" * 16, "mia"


def score(store: Store, director: Director, rnd: Round) -> None:
    for s in panel_scores(store.event(), store.round(rnd.id), load_script(DEMO_EVENT.parent / "script.toml"), 1):
        director.score_panel(s)


async def test_a_discount_removes_the_votes_the_scores_follow_and_a_revert_restores_them_exactly(
        store: Store) -> None:
    store.setup_event(behind_nat(store.event_config()))
    director = director_for(store)
    rnd = await voting_round(director)
    laptop, stuffed_for = cast(store, rnd)
    score(store, director, rnd)
    director.close_poll(rnd.id)
    event = store.event()
    before = score_round(event, store.round_record(rnd.id))
    assert before[stuffed_for].votes == HONEST // 3 + STUFFED

    o = director.discount_votes(rnd.id, VoteDiscount(origin=laptop), "one laptop minted 20 voters", "head-judge")
    assert o.action is OverrideAction.DISCOUNT and o.component is Component.AUDIENCE and o.actor == "head-judge"
    after = score_round(event, store.round_record(rnd.id))
    assert after[stuffed_for].votes == HONEST // 3 and sum(f.votes for f in after.values()) == HONEST
    assert after[stuffed_for].audience.overridden and after[stuffed_for].audience.original == \
        before[stuffed_for].audience.value and after[stuffed_for].audience.override_id == o.id
    assert after[stuffed_for].total is not None and before[stuffed_for].total is not None
    assert after[stuffed_for].total < before[stuffed_for].total
    assert len(store.votes(rnd.id)) == HONEST + STUFFED, "nothing is deleted"
    (added,) = store.events(kind="override.added")
    assert added.payload["scope"] == {"origin": laptop} and added.payload["votes_removed"] == STUFFED
    assert added.actor == "head-judge" and added.payload["reason"] == "one laptop minted 20 voters"

    director.revert(o.id, "the laptop was the sound desk's", actor="head-judge")
    assert score_round(event, store.round_record(rnd.id)) == before, "a revert restores them exactly"

    during = VoteDiscount(minted_from=rnd.vote_opened_at or 0, minted_to=rnd.vote_deadline or 0)
    director.discount_votes(rnd.id, during, "phones that appeared only to vote", "head-judge")
    director.finalize(rnd.id)
    table = {s.finalist_id: s for s in standings(event, store.records())}
    assert table[stuffed_for].votes == HONEST // 3 and table[stuffed_for].overridden, "the standings follow"
    assert table["ray"].votes == HONEST - HONEST // 3


async def test_the_integrity_view_raises_its_alarm_and_discounts_from_the_console(tmp_path: Path) -> None:
    db = tmp_path / "show.db"
    config = behind_nat(load_event(DEMO_EVENT))
    with Store(db) as store:
        store.setup_event(config)
        director = director_for(store)
        rnd = await voting_round(director)
        laptop, stuffed_for = cast(store, rnd)
        store.record_credentials([(f"v{i + 1000:024x}", time.time() - i, laptop) for i in range(STUFFED)])
    app = create_app(db, DEMO_EVENT, config=config, time_scale=0, cursor_blink=False)
    async with app.run_test(size=(130, 42)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await pilot.press("8")
        await wait_until(pilot, lambda: app.current_mode == "integrity", "the integrity screen")
        screen = app.screen
        await wait_until(pilot, lambda: getattr(screen, "report", None) is not None, "the integrity report")
        alarms = str(screen.query_one("#integrity-alarms", Static).render())
        assert "ALARM" in alarms and "joined during its poll" in alarms, alarms
        table = screen.query_one("#origins", DataTable)
        assert str(table.get_row_at(0)[0]) == laptop and str(table.get_row_at(0)[1]) == str(STUFFED)
        table.focus()
        await pilot.press("d")  # the reason is typed once the dialog has the focus (a loaded machine is slow)
        await wait_until(pilot, lambda: isinstance(app.screen, DiscountModal) and isinstance(app.focused, Input),
                         "the discount dialog")
        await pilot.press(*"one laptop minting voters", "enter")
        await wait_until(pilot, lambda: bool(app.store.overrides(rnd.id)), "the discount on the record")
        (o,) = app.store.overrides(rnd.id)
        assert o.discount == VoteDiscount(origin=laptop) and o.actor == app.director.actor
        await wait_until(pilot, lambda: bool(app.snapshot and app.snapshot.scored.get(stuffed_for)
                                             and app.snapshot.scored[stuffed_for].votes == HONEST // 3),
                         "the console's scores without the laptop's votes")
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, ModalScreen) and isinstance(app.focused, Input),
                         "the revert's reason dialog")
        await pilot.press(*"checked: the venue's own kiosk", "enter")
        await wait_until(pilot, lambda: app.store.overrides(rnd.id)[0].reverted, "the revert")
        await wait_until(pilot, lambda: bool(app.snapshot and app.snapshot.scored[stuffed_for].votes
                                             == HONEST // 3 + STUFFED), "the votes back")
        await asyncio.sleep(0)
