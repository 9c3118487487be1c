"""The sealed score: `finale seal`, what the manifest holds and never holds, a change after it, the replay."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from audience.state import read_snapshot, stage_view
from finale.config import load_event
from finale.core.manifest import canonical, clean_url, commitment, digest, question_key, scrub
from finale.core.replay import LoggedEvent, replay
from finale.demo import DEMO_EVENT
from finale.report import build_report
from finale.store import Store
from finale.verify import verify

SECRET = "sk-live-0123456789abcdef-do-not-leak"


def _finale(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "finale.cli", *args], capture_output=True, text=True, timeout=120,
                          env=env)


def _event_dir(tmp_path: Path) -> Path:
    """The demo event file and its script in a folder of the test's own, to edit."""
    for name in ("event.toml", "script.toml"):
        shutil.copy(DEMO_EVENT.parent / name, tmp_path / name)
    return tmp_path / "event.toml"


def test_seal_prints_the_hash_the_stage_shows_and_an_edit_after_it_is_on_the_record(tmp_path: Path) -> None:
    event, db = _event_dir(tmp_path), tmp_path / "show.db"
    first = _finale("seal", str(event), "--db", str(db))
    assert first.returncode == 0, first.stderr
    with Store(db) as store:
        sealed = store.sealed()
        assert sealed is not None and first.stdout.startswith(f"sealed: sha256 {sealed.sha256} (event {sealed.seq}")
        assert sealed.sha256 == digest(sealed.manifest) == hashlib.sha256(canonical(sealed.manifest)).hexdigest()
        assert stage_view(read_snapshot(store), time.time(), "http://x/")["seal"] == sealed.sha256
    again = _finale("seal", str(event), "--db", str(db))
    assert again.stdout.startswith(f"already sealed: sha256 {sealed.sha256}")

    event.write_text(event.read_text(encoding="utf-8").replace("dispute_margin = 30", "dispute_margin = 25"),
                     encoding="utf-8")
    assert "dispute_margin = 25" in event.read_text(encoding="utf-8")
    with Store(db) as store:  # the console restarted on the edited file: finale.tui.app sets the event up again
        store.setup_event(load_event(event))
        [change] = store.events(kind="seal.changed")
        now = store.sealed()
        assert now is not None and now.sha256 != sealed.sha256 and now.seq == change.seq
        assert change.payload["sha256"] == now.sha256 and change.payload["previous"] == sealed.sha256
        assert change.payload["changed"] == ["event_file.scoring"]
        assert stage_view(read_snapshot(store), time.time(), "http://x/")["seal"] == now.sha256
        store.setup_event(load_event(event))  # the same file again changes nothing
        assert len(store.events(kind="seal.changed")) == 1
        result = verify(store)
        assert result.ok, result.lines()
        assert f"manifest sha256 {now.sha256} (1 change(s) after the seal, on the record)" in result.lines()
        page = build_report(store)
        assert now.sha256 in page and sealed.sha256 in page and "changed after the seal" in page
    assert _finale("seal", str(event), "--db", str(db)).stdout.startswith(f"sealed, then changed: sha256 {now.sha256}")


def test_the_manifest_holds_what_was_sealed_and_no_secret(tmp_path: Path) -> None:
    event, db = _event_dir(tmp_path), tmp_path / "show.db"
    text = event.read_text(encoding="utf-8")
    start = text.index("[judge]")
    end = text.index("\n[", start + 1)
    judge = ('[judge]\nkind = "openai"\nbase_url = "https://judge-user:hunter2@judge.example/v1?api-key=qwerty"\n'
             'model = "judge-model-70b"\napi_key_env = "FINALE_TEST_JUDGE_KEY"\n')
    event.write_text(text[:start] + judge + text[end:], encoding="utf-8")
    done = _finale("seal", str(event), "--db", str(db), env={"FINALE_TEST_JUDGE_KEY": SECRET, "PATH": "/usr/bin"})
    assert done.returncode == 0, done.stderr
    with Store(db) as store:
        row = store.sealed()
        assert row is not None
        config = store.event_config()
        blob = json.dumps(row.manifest)
        logged = json.dumps([e.payload for e in store.events()])
        secrets = [SECRET, "hunter2", "judge-user", "qwerty", store.voter_secret().hex(), store.seal_key().hex()]
        for secret in secrets:
            assert secret not in blob and secret not in logged and secret not in "\n".join(verify(store).lines())
            assert secret not in build_report(store)
        m = row.manifest
        assert m["event_file"]["judge"] == {**m["event_file"]["judge"], "model": "judge-model-70b",
                                            "api_key_env": "FINALE_TEST_JUDGE_KEY",
                                            "base_url": "https://judge.example/v1"}
        assert m["event_file"]["scoring"]["weights"] == {"llm": 0.4, "panel": 0.4, "audience": 0.2}
        assert [c["id"] for c in m["event_file"]["rubric"]] == [c.id for c in config.rubric]
        assert m["tie_breaks"][0] == "total, higher first" and len(m["tie_breaks"]) == 5
        assert "{answer}" in m["judge_prompts"]["user"] and "untrusted" in m["judge_prompts"]["system_with_tool"]
        assert {f.id for f in config.finalists} == set(m["settings"]) and m["settings"]["ray"]["version"] == 1
        assert m["software"]["finale"] and len(m["software"]["core_sha256"]) == 64
        assert m["event_file"]["finalists"][0]["endpoint"]["kind"] == "rehearsal"
        key = store.seal_key()
        for q, sealed_q in zip(config.questions, m["event_file"]["questions"], strict=True):
            assert sealed_q["prompt"] == q.prompt
            assert sealed_q["expected"] == commitment(key, q.id, "expected", q.expected)
            if q.expected is not None:  # committed, not in clear; one question's key opens it and no other
                assert sealed_q["expected"].startswith("hmac-sha256:")
                assert sealed_q["check"] == commitment(key, q.id, "check", q.check) != q.check
                assert len(q.expected) < 8 or q.expected not in json.dumps(sealed_q)
                opened = hmac.new(question_key(key, q.id), canonical(
                    {"question": q.id, "field": "expected", "value": q.expected}), hashlib.sha256).hexdigest()
                assert sealed_q["expected"] == "hmac-sha256:" + opened


def test_scrub_drops_secret_keys_and_url_credentials_and_keeps_the_rest() -> None:
    data = {"api_key": "x", "api_key_env": "KEY", "max_tokens": 5, "token_tries_per_min": 3, "session_token": "y",
            "nested": [{"password": "p", "base_url": "https://u:p@h:8/v1?key=k#f", "name": "ok"}],
            "voter_secret": "s", "endpoint_url": "http://localhost:9000"}
    assert scrub(data) == {"api_key_env": "KEY", "max_tokens": 5, "token_tries_per_min": 3,
                           "nested": [{"base_url": "https://h:8/v1", "name": "ok"}],
                           "endpoint_url": "http://localhost:9000"}
    assert clean_url("not a url: a://") == "not a url: a://"


def _ev(seq: int, kind: str, payload: dict[str, object], round_id: int | None = None) -> LoggedEvent:
    return LoggedEvent(seq, 0.0, "t", kind, round_id, payload)


def test_the_replay_reports_an_unknown_kind_and_reads_past_declared_ones() -> None:
    events = [_ev(1, "event.setup", {"finalists": ["a", "b"]}), _ev(2, "show.frozen", {"frozen": True}),
              _ev(3, "settings.changed", {"finalist_id": "a"}), _ev(4, "judge.mystery", {"score": 100}),
              _ev(5, "round.created", {"prompt": "Q", "seed": 1, "question_id": None}, 1),
              _ev(6, "votes.recorded", {"votes": [["d1", "A", None, 1.0]]}, 1),  # before votes kept origins
              _ev(8, "round.final", {"phase": "final"}, 1), _ev(9, "panel.scored", {"finalist_id": "a"}, 1)]
    state = replay(events)
    assert [(p.seq, p.what.split(" (")[0]) for p in state.problems] == [
        (4, "kind 'judge.mystery' is unknown to the replay and may change a score"),
        (8, "event 7 is missing from the log"),
        (9, "panel.scored: its payload cannot be replayed")]
    assert state.rounds[1].votes["d1"].label == "A" and state.rounds[1].round.phase.value == "final"
    assert state.events == 8 and state.written[("vote", 1, "d1")] == 6
