"""`finale reset --rehearsal`: a real rehearsal is wiped, the setup and tokens stay, refusals change nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from finale.cli import main
from finale.config import load_event
from finale.demo import DEMO_EVENT
from finale.headless import run_headless
from finale.report import build_report
from finale.reset import confirmation_ok
from finale.store import Store

EVENT_NAME = "LLM League Grand Finale (rehearsal)"
SETUP_TABLES = ("finalists", "panelists", "questions", "prompt_settings", "meta")
SHOW_TABLES = ("rounds", "answers", "judgments", "panel_scores", "votes", "overrides", "show_state")


@pytest.fixture
def rehearsed(tmp_path: Path) -> Path:
    """A database after the full headless rehearsal (the same data as `finale demo --headless`)."""
    db = tmp_path / "rehearsal.db"
    run_headless(db, load_event(DEMO_EVENT), DEMO_EVENT.parent, seed=7, time_scale=0)
    return db


def _dump(db: Path) -> list[str]:
    """Every row of every table, as SQL: equal dumps mean nothing changed."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _rows(db: Path, table: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
    finally:
        conn.close()


def _reset(db: Path, *extra: str, typed: str | None = None) -> Result:
    return CliRunner().invoke(main, ["reset", "--db", str(db), *extra], input=typed)


def test_reset_wipes_the_rounds_and_keeps_setup_and_tokens(rehearsed: Path) -> None:
    setup_before = {t: _rows(rehearsed, t) for t in SETUP_TABLES}
    with Store(rehearsed) as store:
        tokens = store.tokens("panelists"), store.tokens("finalists")
        assert len(store.rounds()) == 6
        kept_events = [e for e in store.events() if e.round_id is None and not e.kind.startswith("show.")]
        logged = len(store.events()) - len(kept_events)

    result = _reset(rehearsed, "--rehearsal", typed="reset\n")

    assert result.exit_code == 0, result.output
    assert "Will delete: 6 rounds, 36 answers, 30 judgments, 90 panel scores, 720 votes, 1 overrides" in result.output
    assert "Will keep: 5 finalists, 3 panelists, 6 questions, 5 prompt settings" in result.output
    assert "Reset done: 6 rounds" in result.output
    for table in SHOW_TABLES:
        assert _rows(rehearsed, table) == [], table
    assert {t: _rows(rehearsed, t) for t in SETUP_TABLES} == setup_before
    with Store(rehearsed) as store:
        assert (store.tokens("panelists"), store.tokens("finalists")) == tokens
        assert store.who_has_token("panelists", tokens[0]["panel-2"]) == "panel-2"
        assert store.current_round() is None and store.settings_lock() is None
        events = store.events()
        assert events[0].kind == "event.setup" and events[-1].kind == "rehearsal.reset"
        assert all(e.round_id is None for e in events)
        show_kinds = ("round.", "answer.", "judgment.", "panel.", "votes.", "poll.", "override.", "show.")
        assert not [e.kind for e in events if e.kind.startswith(show_kinds)]
        reset = events[-1]
        assert reset.actor == "organiser"
        assert reset.payload == {"rounds": 6, "answers": 36, "judgments": 30, "jury_verdicts": 30,
                                 "head_to_head": 30, "panel_scores": 90, "votes": 720,
                                 "overrides": 1, "show_state": 2, "events": logged}
        assert store.integrity_check() == "ok"
        report = build_report(store)
    assert "Rehearsal reset" in report and "6 rounds wiped" in report


def test_the_real_show_runs_again_on_a_reset_database(rehearsed: Path) -> None:
    assert _reset(rehearsed, "--rehearsal", "--yes", "--actor", "stage-manager").exit_code == 0
    again = run_headless(rehearsed, load_event(DEMO_EVENT), DEMO_EVENT.parent, seed=7, time_scale=0)
    assert [s.finalist_id for s in again.standings] == ["mia", "ray", "kai", "zoe", "sol"]
    with Store(rehearsed) as store:
        assert [r.id for r in store.rounds()] == [1, 2, 3, 4, 5, 6]
        assert [e.actor for e in store.events(kind="rehearsal.reset")] == ["stage-manager"]


def test_typing_the_event_name_also_confirms(rehearsed: Path) -> None:
    result = _reset(rehearsed, "--rehearsal", typed=f"  {EVENT_NAME}  \n")
    assert result.exit_code == 0, result.output
    assert _rows(rehearsed, "rounds") == []


@pytest.mark.parametrize("typed", ["wrong\n", "\n", "RESET\n", "LLM League Grand Finale\n"])
def test_a_wrong_confirmation_changes_nothing(rehearsed: Path, typed: str) -> None:
    before = _dump(rehearsed)
    result = _reset(rehearsed, "--rehearsal", typed=typed)
    assert result.exit_code == 1
    assert "Confirmation did not match; nothing was changed." in result.output
    assert _dump(rehearsed) == before


def test_no_answer_at_all_aborts_and_changes_nothing(rehearsed: Path) -> None:
    before = _dump(rehearsed)
    result = _reset(rehearsed, "--rehearsal", typed="")
    assert result.exit_code == 1
    assert "Aborted" in result.output
    assert _dump(rehearsed) == before


def test_reset_without_the_rehearsal_flag_is_refused(rehearsed: Path) -> None:
    before = _dump(rehearsed)
    result = _reset(rehearsed, "--yes")
    assert result.exit_code == 2
    assert "pass --rehearsal" in result.output
    assert _dump(rehearsed) == before


def test_reset_refuses_a_file_that_is_not_an_event_database(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    result = _reset(empty, "--rehearsal", "--yes")
    assert result.exit_code == 2 and "not a finale event database" in result.output
    assert empty.stat().st_size == 0


def test_reset_warns_about_a_round_still_in_progress(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    with Store(db) as store:
        store.setup_event(load_event(DEMO_EVENT))
        store.create_round("Anything?", None, 1, {"ray": "A", "mia": "B"}, "mc")
    result = _reset(db, "--rehearsal", typed="no\n")
    assert "Warning: round 1 is still draft; stop the console and the hub before resetting." in result.output
    assert result.exit_code == 1 and len(_rows(db, "rounds")) == 1


def test_confirmation_rule() -> None:
    assert confirmation_ok("reset", EVENT_NAME)
    assert confirmation_ok(f" {EVENT_NAME}\t", EVENT_NAME)
    assert not confirmation_ok("", EVENT_NAME)
    assert not confirmation_ok("   ", "   ")
    assert not confirmation_ok("Reset", EVENT_NAME)
