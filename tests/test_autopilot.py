"""The autopilot through the real CLI, the real hub child process and real websockets phones."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from finale.autopilot.launch import free_port, run_autopilot_show
from finale.autopilot.phones import plan_vote
from finale.config import load_event
from finale.demo import DEMO_EVENT
from finale.director import MC_TYPED_PREFIX
from finale.store import Store


def _figure(out: str, what: str) -> int:
    match = re.search(rf"{what}\s*│\s*(\d+)", out)
    assert match, f"no '{what}' line in:\n{out}"
    return int(match.group(1))


def test_demo_autopilot_200_phones_every_vote_acknowledged_and_stored(tmp_path: Path) -> None:
    db = tmp_path / "auto.db"
    done = subprocess.run([sys.executable, "-m", "finale.cli", "demo", "--autopilot", "--phones", "200",
                           "--speed", "0", "--db", str(db)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    sent, acked, stored = (_figure(out, w) for w in ("votes sent", "votes acknowledged", "votes stored"))
    assert sent == acked == stored
    assert "200 of 200 joined" in out
    assert re.search(r"sent == acknowledged == stored\s*│\s*yes", out)
    with Store(db) as store:
        rounds = store.rounds()
        assert len(rounds) == len(load_event(DEMO_EVENT).questions)
        assert all(r.phase.value == "final" for r in rounds)
        for rnd in rounds:  # every phone's vote is counted once per round, cast through the hub
            assert len(store.votes(rnd.id)) == 200
        logged = sum(len(e.payload["votes"]) for e in store.events(kind="votes.recorded"))
        assert logged >= stored  # resends after a dropped connection are logged again
        actors = {e.actor for e in store.events(kind="panel.scored")}
        assert any(a.startswith("judge:") for a in actors), actors


def test_same_seed_same_standings_whether_judges_use_devices_or_the_mc_types(tmp_path: Path) -> None:
    config = load_event(DEMO_EVENT)
    runs = []
    for i, judges in enumerate((3, 1)):
        result = run_autopilot_show(tmp_path / f"run{i}.db", config, DEMO_EVENT.parent, phones=30, judges=judges,
                                    seed=11, time_scale=0)
        assert result.health.votes_match, result.health
        assert result.health.panel_sent == result.health.panel_acked == judges * 5 * len(config.questions)
        runs.append([(s.finalist_id, round(s.total, 6), s.votes) for s in result.show.standings])
    assert runs[0] == runs[1]


def test_vote_plans_are_seeded() -> None:
    taste = {"A": 1.0, "B": 5.0, "C": 2.0}
    plans = [plan_vote(7, f"phone-{i}", 3, taste) for i in range(500)]
    assert plans == [plan_vote(7, f"phone-{i}", 3, taste) for i in range(500)]
    assert plans != [plan_vote(8, f"phone-{i}", 3, taste) for i in range(500)]
    assert all(p.second != p.first for p in plans)
    early = sum(1 for p in plans if p.first_at < 0.2) / len(plans)
    assert early > 0.8  # most votes come in the first seconds of the window
    assert 0.03 < sum(p.second is not None for p in plans) / len(plans) < 0.2


def test_too_many_judges_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "finale.cli", "demo", "--autopilot", "--phones", "5",
                           "--judges", "9", "--speed", "0", "--db", str(tmp_path / "x.db")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "--judges 9: the event has 3 panelists; give at most 3" in done.stderr
    with Store(tmp_path / "x.db") as store:
        assert store.rounds() == []


def _event_copy(tmp_path: Path, port: int) -> Path:
    """The demo event (and its script) in a folder of its own, its hub on `port`."""
    folder = tmp_path / "event"
    shutil.copytree(DEMO_EVENT.parent, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    event = folder / DEMO_EVENT.name
    event.write_text(event.read_text().replace("port = 8765", f"port = {port}").replace(
        "http://127.0.0.1:8765", f"http://127.0.0.1:{port}"))
    return event


def test_run_autopilot_on_an_event_file_uses_its_hub_port(tmp_path: Path) -> None:
    event = _event_copy(tmp_path, free_port())
    done = subprocess.run([sys.executable, "-m", "finale.cli", "run", str(event), "--autopilot", "--phones", "20",
                           "--judges", "2", "--speed", "0"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "20 of 20 joined" in done.stdout
    with Store(event.with_suffix(".db")) as store:
        assert all(len(store.votes(r.id)) == 20 for r in store.rounds())
        actors = {e.actor for e in store.events(kind="panel.scored")}
    assert {"judge:panel-1", "judge:panel-2", f"{MC_TYPED_PREFIX}panel-3"} <= actors  # typed as the console does


def test_run_autopilot_refuses_a_port_another_program_listens_on(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        event = _event_copy(tmp_path, busy.getsockname()[1])
        done = subprocess.run([sys.executable, "-m", "finale.cli", "run", str(event), "--autopilot", "--phones", "5",
                               "--speed", "0"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1  # a runtime condition, not a wrong argument: one line, no usage banner
    assert "Error: " in done.stderr and "is already in use (another hub?)" in done.stderr
    assert "Usage:" not in done.stderr


async def test_a_panelist_whose_page_never_shows_the_answers_reports_it(store: Store, db_path: Path) -> None:
    from finale.autopilot.judges import Panelist, PanelStats
    from tests.hub_helpers import director_for, running_hub, ws_url

    rnd = director_for(store).new_round("capital", seed=1)  # a draft: no answers on the judge page yet
    stats = PanelStats()
    async with running_hub(db_path) as hub:
        panelist = Panelist(ws_url(hub), "panel-1", store.tokens("panelists")["panel-1"], stats)
        await panelist.join()
        scores = {"generalization": 7.0, "quality": 7.0, "efficiency": 7.0}
        assert await panelist.score(rnd.id, {"A": scores}, wait_s=0.5) is False
        await panelist.client.close()
    assert stats.refused == {"never_saw_answers": 1}
    assert stats.sent == 0
