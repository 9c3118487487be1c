"""What readers ask the store instead of speaking SQL: one snapshot, changes since, counts; opening an existing file."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from finale.cli import main
from finale.config import EventConfig
from finale.core.model import Answer, AnswerStatus, Judgment, JudgmentStatus, PanelScore, Phase
from finale.store import SCHEMA_VERSION, Store, StoreError, VoteIn
from tests.test_store import _round


def test_a_read_sees_one_state_while_another_process_writes(store: Store, db_path: Path) -> None:
    rid = _round(store)
    label = sorted(store.round(rid).labels.values())[0]
    with Store(db_path) as reader:
        with reader.read():
            before = reader.vote_labels(rid)
            store.record_votes([VoteIn(rid, "d1", label, "m1", time.time())])
            assert reader.vote_labels(rid) == before == {}
            with reader.read():  # nested reads join the outer one
                assert reader.count("votes") == 0
        assert reader.vote_labels(rid) == {label: 1}
        assert not reader.conn.in_transaction


def test_changes_since_a_sequence_number_and_kind_counts(store: Store) -> None:
    start = store.events()[-1].seq
    rid = _round(store)
    kinds = store.event_kinds_since(start)
    assert [k for _, k in kinds] == ["round.created", "test.phase"]
    assert [s for s, _ in kinds] == sorted(s for s, _ in kinds) and kinds[0][0] > start
    assert store.event_kinds_since(kinds[-1][0]) == []
    counts = store.event_kind_counts()
    assert counts["round.created"] == 1 and counts["event.setup"] == 1
    assert store.count("rounds") == 1 and rid == 1


def test_count_refuses_a_table_that_is_not_in_the_schema(store: Store) -> None:
    with pytest.raises(StoreError, match=r"no table 'rounds; DROP'.*expected one of"):
        store.count("rounds; DROP")


def test_answer_updates_judges_and_panel_actors(store: Store) -> None:
    rid = _round(store, Phase.ANSWERED)
    assert store.latest_answer_update() is None
    fid = store.event().finalist_ids[0]
    store.save_answer(Answer(rid, fid, "3", AnswerStatus.OK, total_ms=20.0, tokens=1), log=False)
    first = store.latest_answer_update()
    assert first is not None
    store.save_answer(Answer(rid, fid, "3.", AnswerStatus.OK, total_ms=21.0, tokens=2), log=False)
    assert (store.latest_answer_update() or 0) >= first
    store.save_judgment(Judgment(rid, fid, JudgmentStatus.OK, {"quality": 7}, "fine"), "judge-x")
    assert store.judges(rid) == {fid: "judge-x"}
    criteria = store.event().criterion_ids
    store.save_panel_score(PanelScore(rid, fid, "panel-1", dict.fromkeys(criteria, 8)), "mc")
    assert store.panel_actors(rid) == {("panel-1", fid): "mc"}


def test_open_existing_opens_a_set_up_database(store: Store, db_path: Path, demo_config: EventConfig) -> None:
    with Store.open_existing(db_path) as again:
        assert again.event_config().event.name == demo_config.event.name


@pytest.mark.parametrize("content", [None, "", "not a database"])
def test_open_existing_refuses_what_is_not_an_event_database(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "x.db"
    if content is not None:
        path.write_text(content)
    with pytest.raises(StoreError) as refused:
        Store.open_existing(path)
    assert str(path) in str(refused.value) and "expected" in str(refused.value)
    assert (path.read_text() == content) if content is not None else not path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if content is None else ["x.db"])


def test_open_existing_refuses_a_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a file; expected an event database file"):
        Store.open_existing(tmp_path)


def test_open_existing_refuses_a_database_with_no_event(tmp_path: Path) -> None:
    Store(tmp_path / "blank.db").close()
    with pytest.raises(StoreError, match=r"blank\.db: no event set up in this database; expected one set up by"):
        Store.open_existing(tmp_path / "blank.db")


def test_open_existing_refuses_a_newer_schema_and_leaves_it(store: Store, db_path: Path) -> None:
    store.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    store.close()
    before = db_path.read_bytes()
    with pytest.raises(StoreError, match=f"schema {SCHEMA_VERSION + 1} is newer than this finale"):
        Store.open_existing(db_path)
    assert db_path.read_bytes() == before
    assert sqlite3.connect(db_path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


@pytest.mark.parametrize("command", [["export", "--out", "out.json"], ["standings"], ["report"], ["hub"], ["judges"],
                                     ["finalists"], ["reset", "--rehearsal", "--yes"]])
def test_every_command_on_an_existing_db_refuses_a_stray_file_without_writing_it(tmp_path: Path,
                                                                                   command: list[str]) -> None:
    stray = tmp_path / "notes.db"
    stray.write_text("shopping list")
    result = CliRunner().invoke(main, [*command, "--db", str(stray)])
    assert result.exit_code == 2, result.output
    assert f"{stray}: not a finale event database" in result.output and "expected" in result.output
    assert stray.read_text() == "shopping list" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]
