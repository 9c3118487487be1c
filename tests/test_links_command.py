"""`finale judges` / `finale finalists --event`: private links before the show, from the event file alone."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from finale.cli import main
from finale.demo import DEMO_EVENT
from finale.store import Store


def _event_copy(tmp_path: Path) -> Path:
    for name in ("event.toml", "script.toml"):
        shutil.copy(DEMO_EVENT.parent / name, tmp_path / name)
    return tmp_path / "event.toml"


def test_event_option_creates_the_database_finale_run_uses_and_keeps_tokens(tmp_path: Path) -> None:
    event = _event_copy(tmp_path)
    runner = CliRunner()
    first = runner.invoke(main, ["judges", "--event", str(event)], env={"FINALE_DB": None})
    assert first.exit_code == 0, first.output
    db = tmp_path / "event.db"
    assert db.exists() and (db.stat().st_mode & 0o777) == 0o600
    with Store(db) as store:
        tokens = store.tokens("panelists")
        finalist_tokens = store.tokens("finalists")
    for token in tokens.values():
        assert f"http://127.0.0.1:8765/judge/{token}" in first.output
    again = runner.invoke(main, ["finalists", "--event", str(event), "--public-url", "http://10.0.0.5:8765/"],
                          env={"FINALE_DB": None})
    assert again.exit_code == 0, again.output
    for token in finalist_tokens.values():
        assert f"http://10.0.0.5:8765/finalist/{token}" in again.output
    with Store(db) as store:
        assert store.tokens("panelists") == tokens, "re-running with --event keeps the links already sent"
    by_db = runner.invoke(main, ["judges", "--db", str(db)], env={"FINALE_DB": None})
    assert by_db.exit_code == 0 and all(t in by_db.output for t in tokens.values())


def test_without_a_database_the_error_says_what_to_pass(tmp_path: Path) -> None:
    runner = CliRunner()
    neither = runner.invoke(main, ["judges"], env={"FINALE_DB": None})
    assert neither.exit_code == 2 and "--db PATH" in neither.output and "--event EVENT_FILE" in neither.output
    missing = runner.invoke(main, ["finalists", "--db", str(tmp_path / "nope.db")], env={"FINALE_DB": None})
    assert missing.exit_code == 2 and "no database at" in missing.output and "--event" in missing.output
    assert not (tmp_path / "nope.db").exists(), "a missing database is not created without --event"
