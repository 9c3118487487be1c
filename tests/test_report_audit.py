"""The report's audit log lists every event (time, actor, what changed, void reasons); CSV times are ISO 8601.

A headless demo show plus a voided round, a reverted override and a mid-show reveal, through the real
Director; the report and the CSV export are produced by the real CLI and read back.
"""

from __future__ import annotations

import asyncio
import csv
import html
import re
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from finale.cli import main
from finale.config import load_event
from finale.core.model import Component
from finale.demo import DEMO_EVENT
from finale.director import Director, build_endpoints
from finale.headless import run_headless
from finale.report.audit import Names, describe
from finale.store import EventRow, Store

VOID_REASON = "Mia's endpoint <b>answered</b> the previous question"


@pytest.fixture(scope="module")
def show(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("audit") / "finale.db"
    run_headless(db, load_event(DEMO_EVENT), DEMO_EVENT.parent, seed=7, time_scale=0)
    with Store(db) as store:
        director = Director(store, build_endpoints(store.event_config(), DEMO_EVENT.parent, time_scale=0),
                            actor="Alex (MC)")
        director.reveal_next_place()
        director.dismiss_reveal()
        rnd = director.new_round(prompt="An unseen question typed live", seed=3)

        async def ask_and_judge() -> None:
            await director.ask(rnd.id)
            await director.judge(rnd.id)
            await director.endpoints.aclose()

        asyncio.run(ask_and_judge())
        director.open_poll(rnd.id, 30)
        director.close_poll(rnd.id)
        wrong = director.override(rnd.id, "sol", Component.PANEL, "typo", value=12.0, actor="head judge")
        director.revert(wrong.id, "the typo fixed", actor="head judge")
        director.void(rnd.id, VOID_REASON)
    return db


def test_the_audit_section_lists_every_event_with_time_actor_and_what_changed(show: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", "--db", str(show), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    audit = page[page.index('<section id="audit">'):]
    audit = audit[:audit.index("</section>")]
    with Store(show) as store:
        events = store.events()
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]+)</td><td>([^<]*)</td>", audit)
    assert [int(seq) for seq, _, _ in rows] == [e.seq for e in events], "every event, in order"
    assert {actor for _, _, actor in rows} >= {"mc", "judge", "Alex (MC)", "head judge"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", at) for _, at, _ in rows)
    text = html.unescape(re.sub(r"<[^>]+>", " ", audit))
    assert f"voided; reason: {VOID_REASON}" in text  # the void's reason, as text (escaped in the markup)
    assert "<b>answered</b>" not in audit and "&lt;b&gt;answered&lt;/b&gt;" in audit
    assert "override #2: panel of Sol set to 12 (was" in text and "override #2 reverted; reason: the typo fixed" in text
    assert "stage: In place 5: " in text and "standings reveal dismissed" in text
    assert "poll closed (closed by the MC): A " in text and "votes recorded (" in text
    assert "Event kind" not in audit, "not counts per kind"


def test_an_unknown_or_odd_event_is_shown_by_its_fields() -> None:
    names = Names({"ray": "Ray"}, {})
    odd = EventRow(9, 0.0, "x", "future.kind", None, {"note": "hello", "items": [1, 2, 3]})
    assert describe(odd, names) == "items: 3 items; note: hello"
    broken = EventRow(10, 0.0, "x", "override.added", 1, {"override_id": 1, "finalist_id": ["not", "an id"]})
    assert "override #1" in describe(broken, names) or "finalist_id" in describe(broken, names)


def test_csv_times_are_iso_8601_with_the_zone(show: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    result = CliRunner().invoke(main, ["export", "--db", str(show), "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with Store(show) as store:
        first = store.events()[0]
    events = list(csv.DictReader((out / "events.csv").open(encoding="utf-8")))
    assert datetime.fromisoformat(events[0]["at"]).timestamp() == pytest.approx(first.at, abs=0.001)
    assert events[0]["at"].endswith("+00:00")
    rounds = list(csv.DictReader((out / "rounds.csv").open(encoding="utf-8")))
    for column in ("created_at", "updated_at", "vote_opened_at", "vote_deadline"):
        value = rounds[0][column]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", value), (column, value)
    overrides = list(csv.DictReader((out / "overrides.csv").open(encoding="utf-8")))
    assert any(o["reverted_at"].endswith("+00:00") for o in overrides)
    assert any(o["reverted_at"] == "" for o in overrides), "no time stays empty"
