"""Issue 7, Must show 3: `finale report` on a database from `finale demo --autopilot`.

The show runs unattended through the real CLI (hub child process, simulated phones and panelists),
then `finale report` writes the HTML file; opened from disk in headless Chromium it renders its
standings, latency and vote charts and asks the network for nothing but itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from finale.store import Store
from tests.conftest import launch_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(240)]



def _finale(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "finale.cli", *args], capture_output=True, text=True, timeout=200,
                          check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_report_of_an_autopilot_show_renders_offline_with_its_charts(tmp_path: Path) -> None:
    db = tmp_path / "autopilot.db"
    _finale("demo", "--autopilot", "--phones", "40", "--speed", "0", "--seed", "7", "--db", str(db))
    with Store(db) as store:
        rounds = [r for r in store.rounds() if r.phase.value == "final"]
        assert rounds and all(store.votes(r.id) for r in rounds), "the autopilot's phones voted in every round"
    out = tmp_path / "report.html"
    assert _finale("report", "--db", str(db), "--out", str(out)).strip() == str(out)
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(out.as_uri(), wait_until="load")
        page.wait_for_timeout(300)
        counts = {kind: page.locator(f"svg.chart.{kind}").count() for kind in ("standings", "latency", "votes")}
        boxes = [page.locator("svg.chart").nth(i).bounding_box() for i in range(page.locator("svg.chart").count())]
        marks = page.locator("svg.chart rect.bar, svg.chart polyline.series").count()
        browser.close()
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == [], requests
    assert errors == []
    assert counts["standings"] == 1 and counts["latency"] >= 1 and counts["votes"] == len(rounds), counts
    assert all(b is not None and b["width"] > 200 and b["height"] > 100 for b in boxes)
    assert marks > 0
