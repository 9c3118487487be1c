"""The store: schema, audit log in the same transaction, votes upsert, settings, watcher, export."""

from __future__ import annotations

import json
import stat
import time
from dataclasses import replace
from pathlib import Path

import pytest

from finale.config import EventConfig
from finale.core.model import Component, OverrideAction, PanelScore, Phase
from finale.core.show import assign_labels
from finale.core.tuning import SettingsError
from finale.export import export
from finale.store import SCHEMA_VERSION, ChangeWatcher, Store, StoreError, VoteIn


def _round(store: Store, phase: Phase = Phase.VOTING) -> int:
    ids = list(store.event().finalist_ids)
    rnd = store.create_round("How many r's?", "strawberry", 5, assign_labels(ids, 5), "mc")
    store.update_round(replace(rnd, phase=phase, vote_deadline=time.time() + 60), "mc", "test.phase", expect=rnd.phase)
    return rnd.id


def test_database_is_private_wal_and_versioned(store: Store, db_path: Path) -> None:
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_newer_schema_is_refused(db_path: Path, store: Store) -> None:
    store.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this finale"):
        Store(db_path)


def test_setup_is_idempotent_and_keeps_tokens(store: Store, demo_config: EventConfig) -> None:
    tokens = store.tokens("panelists")
    assert len(tokens) == 3 and all(len(t) >= 22 for t in tokens.values())
    store.setup_event(demo_config)
    assert store.tokens("panelists") == tokens
    assert store.who_has_token("panelists", tokens["panel-2"]) == "panel-2"
    assert store.who_has_token("panelists", "nope") is None


def test_votes_upsert_last_vote_counts(store: Store) -> None:
    rid = _round(store)
    labels = sorted(store.round(rid).labels.values())
    store.record_votes([VoteIn(rid, "d1", labels[0], "m1", 100.0), VoteIn(rid, "d2", labels[1], "m2", 100.0)])
    store.record_votes([VoteIn(rid, "d1", labels[2], "m3", 101.0)])
    store.record_votes([VoteIn(rid, "d1", labels[3], "clock-stepped-back", 99.0)])  # arrived last: it counts
    assert store.vote_labels(rid) == {labels[3]: 1, labels[1]: 1}, "arrival order, as the audit log has it"
    assert sum(store.vote_counts(rid).values()) == 2
    logged = [row for e in store.events(kind="votes.recorded") for row in e.payload["votes"] if row[0] == "d1"]
    assert len(store.events(kind="votes.recorded")) == 3 and logged[-1][1] == labels[3]


def test_a_failed_write_leaves_no_event(store: Store) -> None:
    rid = _round(store)
    before = len(store.events())
    fid = next(iter(store.round(rid).labels))
    with pytest.raises(StoreError, match="exactly the criteria"):
        store.save_panel_score(PanelScore(rid, fid, "panel-1", {"quality": 5}), "panel-1")
    with pytest.raises(StoreError, match="from 0 to 10"):
        store.save_panel_score(PanelScore(rid, fid, "panel-1", {"generalization": 11, "quality": 5,
                                                                "efficiency": 5}), "panel-1")
    with pytest.raises(StoreError, match="not in round"):
        store.save_panel_score(PanelScore(rid, "ghost", "panel-1", {"generalization": 1, "quality": 5,
                                                                    "efficiency": 5}), "panel-1")
    assert len(store.events()) == before and store.panel_scores(rid) == []


def test_settings_are_versioned_and_locked_while_asked(store: Store) -> None:
    assert store.settings("ray").version == 1
    s = store.save_settings("ray", "Be brief.", 0.5, 256, actor="finalist:ray")
    assert (s.version, s.system_prompt, s.temperature, s.max_tokens) == (2, "Be brief.", 0.5, 256)
    assert [h["version"] for h in store.settings_history("ray")] == [1, 2]
    with pytest.raises(SettingsError, match=r"temperature: expected 0\.0 to 2\.0; got 3"):
        store.save_settings("ray", "x", 3, 256, actor="finalist:ray")
    _round(store, Phase.ASKING)
    with pytest.raises(StoreError, match="settings are locked while round 1 is asking"):
        store.save_settings("ray", "Sneaky change", 0.1, 100, actor="finalist:ray")
    assert store.settings("ray").version == 2


def test_overrides_keep_the_original_and_revert(store: Store) -> None:
    rid = _round(store, Phase.CLOSED)
    o = store.add_override(rid, "ray", Component.LLM, OverrideAction.REPLACE, "checker says 3 is right",
                           "head-judge", value=90, original=23)
    assert store.overrides(rid)[0].value == 90 and not store.overrides(rid)[0].reverted
    store.revert_override(o.id, "head-judge", "mistake")
    assert store.overrides(rid)[0].reverted
    with pytest.raises(StoreError, match="already reverted"):
        store.revert_override(o.id, "head-judge")
    kinds = [e.kind for e in store.events(round_id=rid)]
    assert kinds[-2:] == ["override.added", "override.reverted"]


def test_change_watcher_sees_other_connections_commits(store: Store, db_path: Path) -> None:
    watcher = ChangeWatcher(db_path)
    assert not watcher.changed()
    with Store(db_path) as other:
        other.save_switches(replace(other.switches(), frozen=True), "mc", "show.frozen")
    assert watcher.changed()
    assert not watcher.changed()
    assert store.switches().frozen is True
    watcher.close()


def test_export_json_and_csv_without_tokens(store: Store, tmp_path: Path) -> None:
    rid = _round(store)
    store.record_votes([VoteIn(rid, "d1", "A", "m1", 1.0)])
    tokens = list(store.tokens("panelists").values()) + list(store.tokens("finalists").values())
    [json_file] = export(store, tmp_path / "out.json", "json")
    data = json.loads(json_file.read_text())
    assert {"rounds", "answers", "judgments", "panel_scores", "vote_totals", "overrides", "events"} <= set(data)
    assert sum(r["votes"] for r in data["vote_totals"]) == 1
    files = export(store, tmp_path / "csv", "csv")
    text = json_file.read_text() + "".join(f.read_text() for f in files)
    assert not any(t in text for t in tokens)
