"""`finale report`: built from a real headless show plus a live round carrying hostile text.

The database comes from the same run as `finale demo --headless` (seed 7,
instant timing), then one more round is played through the real director with
a rehearsal finalist whose scripted answer, the live prompt, a judge rationale
and override reasons all carry HTML/script payloads. The report is produced by
the real CLI and checked as text here; tests/test_report_browser.py opens it
in headless Chromium.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from finale.cli import main
from finale.config import load_event
from finale.core.model import Component, Judgment, JudgmentStatus
from finale.core.scoring import standings
from finale.demo import DEMO_EVENT, simulate
from finale.demo.script import load_script
from finale.director import Director, build_endpoints
from finale.headless import run_headless
from finale.report import build_report
from finale.store import Store

XSS_ANSWER = "Probe <img src=x onerror=alert(1)> and </script><script>alert(2)</script> done"
XSS_PROMPT = "Live: what does </script><img src=x onerror=alert(5)> print?"
XSS_RATIONALE = "Re-judged: the answer quotes <img src=x onerror=alert(3)> literally </script>"
XSS_REASON = "Panelist typo <img src=x onerror=alert(4)>"
REVERT_REASON = "Typo fixed </script><b>bold</b>"
TERSE_ADHOC = 'adhoc = "Short answer: it depends, but the most likely answer is the simplest one that fits the facts."'


@dataclass(frozen=True)
class HostileShow:
    """A finished demo show plus one live round full of payloads, and where its report went."""

    db: Path
    report: Path
    html: str
    live_round: int


def _play_live_round(db: Path, event_dir: Path) -> int:
    """One more round through the real director: an unseen prompt, a re-judgment, overrides, a revert."""
    script_text = (DEMO_EVENT.parent / "script.toml").read_text(encoding="utf-8")
    assert TERSE_ADHOC in script_text
    shutil.copy(DEMO_EVENT, event_dir / "event.toml")
    (event_dir / "script.toml").write_text(script_text.replace(TERSE_ADHOC, f'adhoc = "{XSS_ANSWER}"'),
                                           encoding="utf-8")
    config = load_event(event_dir / "event.toml")
    script = load_script(event_dir / "script.toml")
    with Store(db) as store:
        endpoints = build_endpoints(config, event_dir, seed=7, time_scale=0)
        director = Director(store, endpoints, actor="mc")
        rnd = director.new_round(prompt=XSS_PROMPT, seed=99)

        async def ask_and_judge() -> None:
            try:
                await director.ask(rnd.id)
                await director.judge(rnd.id)
            finally:
                await endpoints.aclose()

        asyncio.run(ask_and_judge())
        store.save_judgment(Judgment(rnd.id, "mia", JudgmentStatus.OK, {"generalization": 7.0, "quality": 6.0,
                                                                        "efficiency": 8.0}, XSS_RATIONALE),
                            judge="second-opinion")
        for score in simulate.panel_scores(config.to_core(), store.round(rnd.id), script, 7):
            store.save_panel_score(score, actor=f"simulated:{score.panelist_id}")
        director.open_poll(rnd.id)
        simulate.write_votes(store, simulate.audience_votes(store.round(rnd.id), script, 7, 60))
        director.close_poll(rnd.id)
        typo = director.override(rnd.id, "sol", Component.PANEL, XSS_REASON, value=55.0, actor="head-judge")
        director.revert(typo.id, REVERT_REASON, actor="head-judge")
        director.override(rnd.id, "kai", Component.AUDIENCE, "Vote flood from one address", waive=True,
                          actor="head-judge")
        director.reveal_round(rnd.id)
        director.finalize(rnd.id)
        return rnd.id


@pytest.fixture(scope="module")
def hostile_show(tmp_path_factory: pytest.TempPathFactory) -> HostileShow:
    root = tmp_path_factory.mktemp("report")
    db = root / "finale.db"
    run_headless(db, load_event(DEMO_EVENT), DEMO_EVENT.parent, seed=7, time_scale=0)
    live = _play_live_round(db, root)
    out = root / "out" / "report.html"
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    return HostileShow(db, out, out.read_text(encoding="utf-8"), live)


def test_report_is_one_offline_file_with_a_strict_csp(hostile_show: HostileShow) -> None:
    html = hostile_show.html
    assert html.startswith("<!DOCTYPE html>")
    assert ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'; img-src data:;") in html
    assert "<script" not in html.lower()
    assert "<link" not in html.lower() and "@import" not in html and "url(" not in html
    assert re.search(r"\b(src|href)=\"(?!#)", html) is None  # only in-page anchors
    assert "http://" not in html and "https://" not in html  # not even the event's public URL


def test_untrusted_text_is_escaped_everywhere(hostile_show: HostileShow) -> None:
    html = hostile_show.html
    for payload in (XSS_ANSWER, XSS_PROMPT, XSS_RATIONALE, XSS_REASON, REVERT_REASON):
        assert payload not in html
    assert "Probe &lt;img src=x onerror=alert(1)&gt; and &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(3)&gt;" in html  # judge rationale
    assert "&lt;img src=x onerror=alert(4)&gt;" in html  # override reason
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(5)&gt;" in html  # live prompt
    assert "&lt;b&gt;bold&lt;/b&gt;" in html  # revert reason
    assert "<img" not in html and "<b>bold" not in html


def test_report_holds_no_private_link_tokens(hostile_show: HostileShow) -> None:
    with Store(hostile_show.db) as store:
        tokens = [*store.tokens("finalists").values(), *store.tokens("panelists").values()]
    assert len(tokens) == 8
    for token in tokens:
        assert token not in hostile_show.html


def test_report_shows_standings_rounds_answers_and_override_log(hostile_show: HostileShow) -> None:
    html = hostile_show.html
    with Store(hostile_show.db) as store:
        rows = standings(store.event(), store.records())
        rounds = store.rounds()
        answers = [a for r in rounds for a in store.answers(r.id).values()]
    names = {"ray": "Ray", "mia": "Mia", "sol": "Sol", "kai": "Kai", "zoe": "Zoe"}
    standings_html = html.split('id="standings"')[1].split("</table>")[0]
    found = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>(\w+)", standings_html)
    assert [(str(s.rank), names[s.finalist_id]) for s in rows] == found
    for s in rows:
        assert f"<b>{s.total:.2f}</b>" in standings_html
    assert 'title="a human override applies' in standings_html
    assert ">LLM 40%<" in standings_html and ">Panel 40%<" in standings_html and ">Audience 20%<" in standings_html
    assert len(rounds) == 7
    for r in rounds:
        assert f'id="round-{r.id}"' in html
    assert html.count('<article class="answer">') == 35 and html.count('class="answer reference"') == 7
    for a in answers[:30]:  # the scripted demo answers, escaped, verbatim
        assert a.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;") \
            .replace("'", "&#x27;") in html
    log = html.split('id="overrides"')[1].split("</table>")[0]
    assert log.count("<tr>") == 4  # header + the demo's strawberry override + the reverted one + the waiver
    assert "Judge misread a correct answer" in log
    assert "reverted" in log and "head-judge" in log and "Vote flood from one address" in log
    assert "waived*" in html  # the waiver is marked in its round's table
    assert "87.8*</span> <s" in html  # Ray's strawberry override: value used, original struck through


def test_report_has_a_latency_chart_per_finalist_and_a_vote_timeline_per_round(hostile_show: HostileShow) -> None:
    html = hostile_show.html
    assert html.count('<svg class="chart latency"') == 5
    assert html.count('<svg class="chart votes"') == 7
    assert html.count('<svg class="chart standings"') == 1
    assert html.count('<polyline class="series"') == 7 * 5
    latency = html.split('id="latency"')[1]
    assert latency.count('<rect class="bar"') == 5 * 7 * 2  # TTFT and total, every finalist, every round


def test_report_of_a_round_in_progress_says_so(tmp_path: Path) -> None:
    db = tmp_path / "partial.db"
    config = load_event(DEMO_EVENT)
    with Store(db) as store:
        store.setup_event(config)
        endpoints = build_endpoints(config, DEMO_EVENT.parent, seed=1, time_scale=0)
        director = Director(store, endpoints)
        rnd = director.new_round("strawberry", seed=1)

        async def ask() -> None:
            try:
                await director.ask(rnd.id)
            finally:
                await endpoints.aclose()

        asyncio.run(ask())
        html = build_report(store)
    assert "answered (not counted in the standings)" in html
    assert "No votes were cast in this round." in html
    assert "LLM judge: no judgment." in html and "No panel scores." in html
    assert "Sum over the 0 final round(s) of 1." in html


def test_report_defaults_beside_the_database_and_reads_finale_db(hostile_show: HostileShow, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    with Store(hostile_show.db) as store:
        store.conn.execute(f"VACUUM INTO '{db}'")
    result = CliRunner().invoke(main, ["report"], env={"FINALE_DB": str(db)})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "copy-report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("content", ["not a database", ""])
def test_report_refuses_a_file_that_is_not_an_event_database(tmp_path: Path, content: str) -> None:
    junk = tmp_path / "notes.db"
    junk.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "--db", str(junk), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert "not a finale event database" in result.output
    assert junk.read_text(encoding="utf-8") == content  # not even a schema written into it
    assert not (tmp_path / "r.html").exists()


def test_report_refuses_a_database_without_an_event(tmp_path: Path) -> None:
    Store(tmp_path / "blank.db").close()
    result = CliRunner().invoke(main, ["report", "--db", str(tmp_path / "blank.db")])
    assert result.exit_code == 2
    assert "no event set up in this database" in result.output
