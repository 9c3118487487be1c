"""A reveal is a moment, not a state: the MC's console (Pilot), the real hub and Chromium stage and phone.

After round 1 the MC reveals the standings from the console (6, then r for each place): the stage and
the phone say "Leader after round 1", never "the winner". The MC dismisses it from the command palette:
it leaves the stage and the phone. A reveal started again is ended by asking the next round (1, n):
no overlay on the stage or the phone while the ballot is live. At the end of the deck the final
reveal runs from last place to "And the winner is", on the stage and on the phone, although every
place was revealed mid-show. Screenshots: artifacts/hub/reveal-console-*.png.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from audience.server import Hub, HubOptions
from finale.core.model import Component
from finale.demo import DEMO_EVENT
from finale.store import Store
from finale.tui.app import FinaleApp, create_app
from tests.browser.test_hub_browser import ARTIFACTS
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.tui_support import phase_is, record_panel_and_votes, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]


async def ask_and_judge(pilot, app: FinaleApp, number: int) -> None:  # type: ignore[no-untyped-def]
    """The MC asks the next deck question and runs the judge, by keys."""
    await pilot.press("1", "n")
    await wait_until(pilot, phase_is(app, number, "answered"), f"round {number} answered")
    await pilot.press("j")
    await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.current is not None
                     and len(app.snapshot.current.judgments) == 5, f"round {number} judged")


async def open_and_vote(pilot, app: FinaleApp, store: Store, number: int) -> None:  # type: ignore[no-untyped-def]
    """Panel scores and votes arrive as the hub writes them, around the poll's opening."""
    record_panel_and_votes(store, app)
    await asyncio.to_thread(app.director.open_poll, number, 300)
    await wait_until(pilot, phase_is(app, number, "voting"), f"round {number} voting")
    record_panel_and_votes(store, app, panel=False, votes=24)


async def close_and_finish(pilot, app: FinaleApp, number: int) -> None:  # type: ignore[no-untyped-def]
    """The poll closed, the checker's misjudgment overridden, the round made final."""
    await asyncio.to_thread(app.director.close_poll, number)
    for d in app.director.disputes(number):
        if d.kind == "checker" and not d.resolved:
            await asyncio.to_thread(app.director.override, number, d.finalist_id, Component.LLM,
                                    "checker: the judge misread", 85.0)
    await asyncio.to_thread(app.director.finalize, number)
    await wait_until(pilot, phase_is(app, number, "final"), f"round {number} final")


async def reveal_all(pilot, app: FinaleApp, places: int) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("6", *["r"] * places)
    await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.switches.reveal_step == places,
                     "every place revealed")


async def no_overlay(stage: Page, phone: Page) -> None:
    await expect(stage.locator("#reveal")).to_be_hidden()
    await expect(phone.locator("#champion")).to_be_hidden()


async def test_a_mid_show_reveal_is_dismissed_and_the_final_reveal_runs_at_the_end(tmp_path: Path) -> None:
    db = tmp_path / "finale.db"
    app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, cursor_blink=False)
    questions = len(app.config.questions)
    places = len(app.config.finalists)
    hub = Hub(db, HubOptions(host="127.0.0.1", port=0, public_url="http://127.0.0.1:8765"))
    await hub.start()
    base = f"http://127.0.0.1:{hub.port}"
    app.use_hub(base)
    writer = Store(db)  # what the hub writes (panel scores, votes), on its own connection
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
            stage = await (await browser.new_context(viewport={"width": 1920, "height": 1080})).new_page()
            phone = await (await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)).new_page()
            await stage.goto(base + "/stage")
            await phone.goto(base + "/")
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_until(pilot, lambda: app.snapshot is not None, "the first read of the store")
                await ask_and_judge(pilot, app, 1)
                await open_and_vote(pilot, app, writer, 1)
                await close_and_finish(pilot, app, 1)
                await reveal_all(pilot, app, places)  # the mid-show reveal, every place
                leader = app.config_names()[app.director.standings()[0].finalist_id]
                await expect(stage.locator("#reveal-kicker")).to_have_text("Leader after round 1")
                await expect(stage.locator("#reveal-title")).to_have_text(leader)
                await expect(stage.locator("#reveal-moment")).to_have_text("Standings after round 1")
                await expect(phone.locator("#champion-kicker")).to_have_text("Leader after round 1")
                for page in (stage, phone):
                    assert "winner" not in (await page.locator("#canvas, #champion").first.inner_text()).lower()
                await stage.screenshot(path=str(ARTIFACTS / "reveal-console-leader.png"))
                await phone.screenshot(path=str(ARTIFACTS / "reveal-console-leader-phone.png"))

                await pilot.press("ctrl+p", *"Dismiss the reveal", "enter")  # the MC ends the moment
                await wait_until(pilot, lambda: not app.store.switches().revealing, "the reveal dismissed")
                await no_overlay(stage, phone)

                await pilot.press("6", "r", "r")  # started again, then the next round is asked
                await expect(stage.locator("#reveal")).to_be_visible()
                await ask_and_judge(pilot, app, 2)
                await no_overlay(stage, phone)
                await open_and_vote(pilot, app, writer, 2)
                await expect(phone.locator("button.vote").first).to_be_visible()  # a live ballot, nothing above it
                await no_overlay(stage, phone)
                await stage.screenshot(path=str(ARTIFACTS / "reveal-console-next-round.png"))
                await phone.screenshot(path=str(ARTIFACTS / "reveal-console-next-round-phone.png"))
                await close_and_finish(pilot, app, 2)
                for number in range(3, questions + 1):
                    await ask_and_judge(pilot, app, number)
                    await open_and_vote(pilot, app, writer, number)
                    await close_and_finish(pilot, app, number)

                await pilot.press("6", "r")  # the deck is done: the final reveal, from last place
                await expect(stage.locator("#reveal-kicker")).to_have_text(f"In place {places}")
                await expect(stage.locator("#reveal-moment")).to_have_text("Final standings")
                await pilot.press(*["r"] * (places - 1))
                winner = app.config_names()[app.director.standings()[0].finalist_id]
                await expect(stage.locator("#reveal-kicker")).to_have_text("And the winner is")
                await expect(stage.locator("#reveal-title")).to_have_text(winner)
                await expect(phone.locator("#champion-kicker")).to_have_text("And the winner is")
                await expect(phone.locator("#champion-title")).to_have_text(winner)
                await expect(phone.locator("#champion-points")).to_contain_text("Thank you for voting!")
                await stage.wait_for_timeout(1500)  # the entrance animation lands
                await stage.screenshot(path=str(ARTIFACTS / "reveal-console-winner.png"))
                await phone.screenshot(path=str(ARTIFACTS / "reveal-console-winner-phone.png"))
            await browser.close()
    finally:
        writer.close()
        await hub.stop()
    with Store(db) as store:
        kinds = [e.kind for e in store.events(kind="show.*")]
        assert kinds.count("show.reveal") == 2 * places + 2
        assert "show.reveal_dismissed" in kinds and "show.moment_ended" in kinds
        final = store.events(kind="show.reveal")[-1].payload
        assert final["heading"] == "And the winner is" and final["reveal_final"] is True
