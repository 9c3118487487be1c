"""The MC's panic controls and corrections through the console: streaming, a failed finalist re-asked,
one answer re-judged, a round voided, pause/extend/auto-close of the poll, an override reverted from the
audit log, refused bad input, and the command palette."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from textual.command import CommandList
from textual.widgets import DataTable, Static

from finale.core.model import AnswerStatus, Component, Phase
from finale.demo import DEMO_EVENT
from finale.store import Store
from finale.tui.app import FinaleApp, create_app
from finale.tui.widgets.answer_pane import AnswerPane
from tests.tui_support import T0, build_show, phase_is, wait_until


class Clock:
    """The show clock, moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def failing_event(folder: Path) -> Path:
    """The demo event with Zoe's endpoint scripted to fail (HTTP 500)."""
    text = DEMO_EVENT.read_text()
    zoe = 'style = "careful", ttft_ms = 900'
    assert zoe in text
    (folder / "event.toml").write_text(text.replace(zoe, 'style = "careful", fail = "error", ttft_ms = 900'))
    shutil.copy(DEMO_EVENT.parent / "script.toml", folder / "script.toml")
    return folder / "event.toml"


def text_of(widget: Static) -> str:
    return str(widget.render())


def palette_offers(app: FinaleApp, words: str) -> bool:
    """True once the command palette's highlighted command contains `words`."""
    lists = app.screen.query(CommandList)
    if not lists or lists.first().highlighted is None:
        return False
    option = lists.first().get_option_at_index(lists.first().highlighted or 0)
    return words in str(option.prompt)


def audit_rows(app: FinaleApp) -> list[str]:
    """The kinds in the audit table as shown."""
    table = app.screen.query_one("#audit", DataTable)
    return [str(table.get_row_at(i)[3]) for i in range(table.row_count)]


async def test_stream_retry_rejudge_and_void(tmp_path: Path) -> None:
    db = tmp_path / "controls.db"
    app = create_app(db, failing_event(tmp_path), seed=7, time_scale=1.0, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await pilot.press("n")
        # Answers stream onto the round screen before they are complete.
        await wait_until(pilot, lambda: any("streaming" in p.render_text() for p in app.screen.query(AnswerPane))
                         and any(a.status is AnswerStatus.STREAMING and a.text for a in app.live.values()),
                         "a pane showing its answer streaming in")
        await wait_until(pilot, phase_is(app, 1, "answered"), "round 1 answered")
        zoe = app.screen.query_one("#pane-zoe", AnswerPane)
        assert zoe.has_class("-failed") and "HTTP 500" in zoe.render_text()
        assert "e re-asks this one" in zoe.render_text()  # the failed pane says how to fix it
        guide = " ".join(str(app.screen.query_one(".next-step", Static).render()).split())
        label = app.store.round(1).labels["zoe"]
        assert guide.startswith("next: press r to re-ask them · or j to judge without them")
        assert f"failed: {label}" in guide
        # Re-ask only Zoe: select her pane, press e.
        assert app.screen.focused is app.screen.query_one("#pane-ray")  # the first pane has the focus
        await pilot.press(*["right"] * 4)
        assert app.screen.focused is zoe
        await pilot.press("e")
        await wait_until(pilot, lambda: len(app.store.events(kind="round.answered")) == 2, "the re-ask of Zoe")
        assert [e.payload["only"] for e in app.store.events(kind="round.asked")] == [None, ["zoe"]]
        await wait_until(pilot, phase_is(app, 1, "answered"), "round 1 answered again")
        attempts = dict(app.store.conn.execute("SELECT finalist_id, attempt FROM answers WHERE round_id=1"))
        assert attempts["zoe"] == 2 and attempts["ray"] == 1
        # Judge, then re-judge one answer from the judging screen.
        await pilot.press("j")
        await wait_until(pilot, lambda: app.snapshot is not None and app.snapshot.current is not None
                         and len(app.snapshot.current.judgments) == 5, "round 1 judged")
        await pilot.pause(0.2)
        rnd = app.store.round(1)
        mia_row = sorted(rnd.labels.values()).index(rnd.labels["mia"])
        await pilot.press("ctrl+home", *["down"] * mia_row, "e")  # from the top (it opens on the flagged one)
        await wait_until(pilot, lambda: sum(1 for e in app.store.events(kind="judgment.saved", round_id=1)
                                            if e.payload["finalist_id"] == "mia") == 2, "Mia re-judged")
        assert sum(1 for e in app.store.events(kind="judgment.saved", round_id=1)
                   if e.payload["finalist_id"] == "ray") == 1
        # Void the round: a reason is required.
        await pilot.press("ctrl+x", "enter")
        assert "reason is required" in text_of(app.screen.query_one("#reason-message", Static))
        assert app.store.round(1).phase is Phase.JUDGING
        await pilot.press(*"Zoe's endpoint failed twice on stage", "enter")
        await wait_until(pilot, phase_is(app, 1, "void"), "round 1 void")
        await pilot.press("1")
        await pilot.pause(0.2)
        assert app.snapshot is not None and app.snapshot.next_question() == "strawberry"
    with Store(db) as store:
        (void,) = store.events(kind="round.void")
        assert void.payload["reason"] == "Zoe's endpoint failed twice on stage"


async def test_pause_extend_autoclose_revert_and_palette(tmp_path: Path) -> None:
    db = tmp_path / "poll.db"
    await asyncio.to_thread(build_show, db)  # round 2: poll open until T0 + 45
    clock = Clock(T0 + 12)
    app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, clock=clock, cursor_blink=False)
    mistaken = app.director.override(2, "mia", Component.AUDIENCE, "entered against the wrong finalist", waive=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await wait_until(pilot, lambda: app.current_mode == "voting" and bool(app.screen.query("#countdown")),
                         "the voting screen (the open poll is where the show is)")
        countdown = app.screen.query_one("#countdown", Static)
        await wait_until(pilot, lambda: "33 s left" in text_of(countdown), "the countdown from the stored deadline")
        await pilot.press("x")  # extend by 15 s
        await wait_until(pilot, lambda: "48 s left" in text_of(countdown), "the extension on the countdown")
        assert app.store.round(2).vote_deadline == T0 + 60
        await pilot.press("p")  # pause: the countdown stops
        await wait_until(pilot, lambda: bool(app.snapshot and app.snapshot.switches.paused), "the pause")
        clock.now += 20
        await wait_until(pilot, lambda: "PAUSED · 48 s left" in text_of(countdown), "the paused countdown")
        await pilot.pause(0.6)
        assert "PAUSED · 48 s left" in text_of(countdown)
        assert app.store.round(2).phase is Phase.VOTING  # no auto-close while paused
        await pilot.press("p")  # resume: the deadline moves by the time paused
        await wait_until(pilot, lambda: app.store.round(2).vote_deadline == clock.now + 48, "the resume")
        # The command palette runs any MC action by name.
        await pilot.press("ctrl+p", *"Freeze")
        await wait_until(pilot, lambda: palette_offers(app, "Freeze"), "the palette to offer the freeze command")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.store.switches().frozen is True, "the stage frozen")
        # A bad override value is refused in the dialog and changes nothing.
        await pilot.press("6", "o", *"abc", "tab", *"typo", "enter")
        assert "as a number" in text_of(app.screen.query_one("#ov-message", Static))
        await pilot.press("escape")
        assert len(app.store.overrides(2)) == 1
        # Revert the mistaken override from the audit log.
        await pilot.press("7", "slash", *"override.added", "escape")
        await wait_until(pilot, lambda: audit_rows(app) == ["override.added"] * 2, "the filtered audit log")
        # newest first: the mistaken override (round 2) is the selected row, shown in full below the table
        detail = text_of(app.screen.query_one("#audit-detail", Static))
        assert f'"override_id": {mistaken.id}' in detail and "u reverts this override" in detail
        await pilot.press("u", *"wrong finalist; audience share stands", "enter")
        await wait_until(pilot, lambda: app.store.overrides(2)[0].reverted, "the revert")
        # When the countdown ends the console closes the poll itself.
        clock.now += 60
        await wait_until(pilot, phase_is(app, 2, "closed"), "the poll closed at the deadline")
    with Store(db) as store:
        (reverted,) = store.events(kind="override.reverted")
        assert reverted.payload == {"override_id": mistaken.id, "reason": "wrong finalist; audience share stands"}
        kinds = [e.kind for e in store.events(round_id=2)]
        assert kinds.count("poll.extended") == 1, "the MC's +15 s; a resume is not an extension"
        assert kinds.index("poll.paused") < kinds.index("poll.resumed") < kinds.index("poll.closed")
        (resumed,) = store.events(kind="poll.resumed")
        assert resumed.payload["remaining"] == 48


async def test_untrusted_text_is_shown_literally(tmp_path: Path) -> None:
    """A prompt (or answer) with markup or HTML is text on the console, never styling or code."""
    hostile = "[bold red]boom[/] <img src=x onerror=alert(1)> [link=http://x]y[/link]"
    app = create_app(tmp_path / "hostile.db", DEMO_EVENT, seed=7, time_scale=0, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await pilot.press("a", *hostile, "enter")  # a typed question shows a preview and asks first
        await wait_until(pilot, lambda: bool(app.screen.query("#confirm-yes")), "the preview of the typed question")
        assert hostile in " ".join(str(w.render()) for w in app.screen.query(Static))
        assert app.store.rounds() == []
        await pilot.press("y")
        await wait_until(pilot, phase_is(app, 1, "answered"), "the ad-hoc round answered")
        await pilot.pause(0.2)
        assert hostile in text_of(app.screen.query_one("#round-prompt", Static))
        await pilot.press("7")
        await pilot.pause(0.5)
        table = app.screen.query_one("#audit")
        details = [str(table.get_row_at(i)[5]) for i in range(table.row_count)]  # type: ignore[attr-defined]
        assert any("[bold red]boom[/]" in d for d in details)


async def test_palette_lists_the_keys_of_the_current_screen(tmp_path: Path) -> None:
    db = tmp_path / "palette.db"
    await asyncio.to_thread(build_show, db)
    app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, clock=lambda: T0 + 12, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.snapshot is not None, "the first read")
        await pilot.press("3", "ctrl+p", *"score by hand")
        await wait_until(pilot, lambda: palette_offers(app, "Score by hand (h)"), "the judging screen's h key")
        await pilot.press("enter")  # runs it: the override dialog for the selected answer's LLM score
        await wait_until(pilot, lambda: bool(app.screen.query("#ov-value")), "the override dialog")


async def test_header_warns_when_the_hub_goes_down(tmp_path: Path) -> None:
    from audience.server import Hub, HubOptions

    db = tmp_path / "hub.db"
    app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, cursor_blink=False)
    hub = Hub(db, HubOptions(host="127.0.0.1", port=0, public_url="http://127.0.0.1:8765"))
    await hub.start()
    app.use_hub(f"http://127.0.0.1:{hub.port}")
    app.hub_interval = 0.2
    stopped = False
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            header = app.screen.query_one("#header", Static)
            await wait_until(pilot, lambda: "hub: up · 0 phones" in text_of(header), "the hub up in the header")
            await hub.stop()
            stopped = True
            await wait_until(pilot, lambda: "hub: down" in text_of(header), "the hub down in the header")
            assert any("hub down" == (n.title or "") for n in app._notifications)
    finally:
        if not stopped:
            await hub.stop()
