"""`finale verify` on the demo's and the autopilot's databases; an edited row makes it name the event (must show #4)."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from finale.store import Store

VERIFIED = re.compile(r"^verified: (\d+) events, standings identical$", re.M)


def _finale(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "finale.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    done = _finale("demo", "--headless", "--speed", "0", "--db", str(db))
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture
def copy(demo_db: Path, tmp_path: Path) -> Path:
    """A copy of the demo database to edit (the checkpointed file: the demo process has exited)."""
    target = tmp_path / "edited.db"
    shutil.copy(demo_db, target)
    return target


def _edit(db: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(db) as conn:  # an edit behind the store's back, as someone with the file could
        assert conn.execute(sql, params).rowcount == 1


def _first_divergence(db: Path) -> tuple[int, str, str]:
    done = _finale("verify", "--db", str(db))
    assert done.returncode == 1, done.stdout + done.stderr
    match = re.search(r"^divergence at event (\d+) \(([a-z._]+)\): (.*)$", done.stdout, re.M)
    assert match, done.stdout
    assert "verified" not in done.stdout
    return int(match.group(1)), match.group(2), match.group(3)


def _seq(db: Path, kind: str, round_id: int, test: Callable[[dict[str, object]], bool]) -> int:
    with Store(db) as store:
        return next(e.seq for e in reversed(store.events(kind=kind, round_id=round_id)) if test(e.payload))


def test_the_demo_database_verifies(demo_db: Path) -> None:
    done = _finale("verify", "--db", str(demo_db))
    assert done.returncode == 0, done.stdout + done.stderr
    match = VERIFIED.search(done.stdout)
    assert match, done.stdout
    with Store(demo_db) as store:
        assert int(match.group(1)) == len(store.events())
        seal = store.sealed()
        assert seal is not None and seal.kind == "seal.sealed"  # the first ask sealed it
        assert f"manifest sha256 {seal.sha256} (as sealed)" in done.stdout


def test_the_autopilot_database_verifies(tmp_path: Path) -> None:
    db = tmp_path / "auto.db"
    show = _finale("demo", "--autopilot", "--phones", "20", "--speed", "0", "--db", str(db))
    assert show.returncode == 0, show.stdout + show.stderr
    done = _finale("verify", "--db", str(db))
    assert done.returncode == 0, done.stdout + done.stderr
    assert VERIFIED.search(done.stdout), done.stdout
    with Store(db) as store:  # the hub's votes, with their origins and credentials, replayed
        assert all(v["origin"] for v in store.votes(1))


def test_one_edited_vote_is_named_by_the_event_that_recorded_it(copy: Path) -> None:
    with Store(copy) as store:
        vote = store.votes(2)[0]
    other = "A" if vote["label"] != "A" else "B"
    _edit(copy, "UPDATE votes SET label=? WHERE round_id=2 AND device_id=?", other, vote["device_id"])
    seq, kind, what = _first_divergence(copy)
    assert (kind, seq) == ("votes.recorded", _seq(copy, "votes.recorded", 2,
                                                  lambda p: any(r[0] == vote["device_id"] for r in p["votes"])))
    assert what == (f"round 2: vote of device {vote['device_id']}: label {vote['label']!r} in the log, "
                    f"{other!r} in the table")


def test_one_edited_panel_score_is_named_by_its_event(copy: Path) -> None:
    _edit(copy, "UPDATE panel_scores SET scores=json_set(scores, '$.quality', 0) "
                "WHERE round_id=3 AND finalist_id='mia' AND panelist_id='panel-2'")
    seq, kind, what = _first_divergence(copy)
    assert kind == "panel.scored" and seq == _seq(copy, "panel.scored", 3,
                                                  lambda p: (p["finalist_id"], p["panelist_id"]) == ("mia", "panel-2"))
    assert what.startswith("round 3: panel score of (finalist, panelist) mia, panel-2: scores {")


def test_one_edited_judge_score_is_named_by_its_event(copy: Path) -> None:
    _edit(copy, "UPDATE judgments SET scores=json_set(scores, '$.quality', 0) WHERE round_id=4 AND finalist_id='sol'")
    seq, kind, _ = _first_divergence(copy)
    assert kind == "judgment.saved" and seq == _seq(copy, "judgment.saved", 4, lambda p: p["finalist_id"] == "sol")


def test_an_edited_jury_member_or_head_to_head_is_named_by_its_judgment(copy: Path, tmp_path: Path) -> None:
    second = tmp_path / "second.db"
    shutil.copy(copy, second)
    _edit(copy, "UPDATE head_to_head SET finalist_first='finalist', reference_first='finalist' "
                "WHERE round_id=1 AND finalist_id='ray'")  # the judge's loss to the reference made a win
    seq, kind, what = _first_divergence(copy)
    assert kind == "judgment.saved" and seq == _seq(copy, "judgment.saved", 1, lambda p: p["finalist_id"] == "ray")
    assert what.startswith("round 1: judgment of ray: head-to-head (")
    _edit(second, "UPDATE jury_verdicts SET scores=json_set(scores, '$.quality', 10) "
                  "WHERE round_id=2 AND finalist_id='kai'")
    seq, kind, what = _first_divergence(second)
    assert kind == "judgment.saved" and seq == _seq(second, "judgment.saved", 2, lambda p: p["finalist_id"] == "kai")
    assert what.startswith("round 2: judgment of kai: jury [(")


def test_one_edited_override_is_named_by_its_event(copy: Path) -> None:
    _edit(copy, "UPDATE overrides SET value=value + 10")
    seq, kind, what = _first_divergence(copy)
    with Store(copy) as store:
        [override] = store.overrides()
        added = store.events(kind="override.added")[0]
    assert (kind, seq) == ("override.added", added.seq)
    assert re.fullmatch(rf"round {override.round_id}: override {override.id}: value [\d.]+ in the log, "
                        rf"{override.value!r} in the table", what), what


def test_a_deleted_event_and_a_vote_no_event_wrote_are_divergences(copy: Path, tmp_path: Path) -> None:
    second = tmp_path / "second.db"
    shutil.copy(copy, second)
    with Store(copy) as store:
        victim = store.events(kind="panel.scored")[3].seq
    _edit(copy, "DELETE FROM events WHERE seq=?", victim)
    seq, _, what = _first_divergence(copy)
    assert seq == victim + 1 and what == f"event {victim} is missing from the log"
    _edit(second, "INSERT INTO votes (round_id, device_id, label, cast_at) VALUES (1, 'ballot-stuffer', 'A', 0)")
    done = _finale("verify", "--db", str(second))
    assert done.returncode == 1
    assert "round 1: vote of device ballot-stuffer is in the table" in done.stdout
    assert "but no event wrote it" in done.stdout


def test_weights_edited_in_the_database_are_not_the_sealed_ones(copy: Path) -> None:
    _edit(copy, "UPDATE meta SET value=json_set(value, '$.scoring.weights.llm', 0.5, '$.scoring.weights.panel', 0.3) "
                "WHERE key='event_config'")
    _, kind, what = _first_divergence(copy)
    assert kind == "seal.sealed"
    assert "the event file the database scores with is not the sealed one (event_file.scoring differ" in what


def test_verify_after_a_rehearsal_reset_and_a_new_show(copy: Path) -> None:
    reset = _finale("reset", "--rehearsal", "--db", str(copy), "--yes")
    assert reset.returncode == 0, reset.stderr
    again = _finale("demo", "--headless", "--speed", "0", "--seed", "3", "--db", str(copy))
    assert again.returncode == 0, again.stderr
    done = _finale("verify", "--db", str(copy))
    assert done.returncode == 0, done.stdout  # the deleted round events are the reset's, on the record
    assert VERIFIED.search(done.stdout)


def test_verify_refuses_a_file_that_is_not_an_event_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite")
    done = _finale("verify", "--db", str(junk))
    assert done.returncode == 2 and "junk.db" in done.stderr
