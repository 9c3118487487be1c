"""`finale demo --headless`: the whole show without a screen, reproducible from its seed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from finale.core.model import Component, Phase
from finale.store import Store


def _demo(db: Path, seed: int = 7) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "finale.cli", "demo", "--headless", "--speed", "0", "--seed",
                           str(seed), "--db", str(db)], capture_output=True, text=True, timeout=120)


def _table(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("│")]


def test_same_seed_same_standings(tmp_path: Path) -> None:
    first, second = _demo(tmp_path / "a.db"), _demo(tmp_path / "b.db")
    assert first.returncode == 0, first.stderr
    assert "final standings" in first.stdout and f"Database: {tmp_path / 'a.db'}" in first.stdout
    rows = _table(first.stdout)
    assert len(rows) == 5
    assert rows == _table(second.stdout)
    assert "Ray *" in first.stdout  # the strawberry override is marked


def test_the_show_ends_with_every_round_final_and_the_override_on_record(tmp_path: Path) -> None:
    db = tmp_path / "show.db"
    assert _demo(db).returncode == 0
    with Store(db) as store:
        rounds = store.rounds()
        assert len(rounds) == 6 and all(r.phase is Phase.FINAL for r in rounds)
        [override] = store.overrides()
        assert override.finalist_id == "ray" and override.component is Component.LLM
        assert "checker says correct" in override.reason and override.actor == "head-judge"
        assert store.integrity_check() == "ok"
        assert len(store.answers(rounds[0].id, include_reference=True)) == 6


def test_an_existing_database_with_rounds_is_not_overwritten(tmp_path: Path) -> None:
    db = tmp_path / "show.db"
    assert _demo(db).returncode == 0
    again = _demo(db)
    assert again.returncode == 2 and "already holds rounds" in again.stderr
