"""`finale hub` on the demo database serves every page, and /qr.png decodes to the join URL."""

from __future__ import annotations

import shutil
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from audience.qr import qr_matrix
from finale.store import Store
from tests.hub_helpers import HubProcess, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def curl(url: str, out: Path) -> tuple[int, str]:
    """Fetch with the real curl binary: (status, content type)."""
    curl_bin = shutil.which("curl")
    assert curl_bin, "curl is needed for this test"
    done = subprocess.run([curl_bin, "-sS", "-o", str(out), "-w", "%{http_code} %{content_type}", url],
                          capture_output=True, text=True, check=True, timeout=20)
    status, _, kind = done.stdout.partition(" ")
    return int(status), kind


def modules(png: bytes, size: int) -> list[list[bool]]:
    """Sample the centre of each module of a QR image (True = dark)."""
    img = Image.open(BytesIO(png)).convert("L")
    step = img.width / size
    return [[img.getpixel((int((x + 0.5) * step), int((y + 0.5) * step))) < 128  # type: ignore[operator]
             for x in range(size)] for y in range(size)]


def test_finale_hub_on_the_demo_database_serves_all_pages_and_the_qr(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    subprocess.run([sys.executable, "-m", "finale.cli", "demo", "--headless", "--speed", "0", "--db", str(db)],
                   check=True, capture_output=True, timeout=150)
    with Store(db) as store:
        judge = store.tokens("panelists")["panel-1"]
        finalist = store.tokens("finalists")["ray"]
    hub = HubProcess(db, free_port(), tmp_path / "hub.log")
    hub.start()
    try:
        pages = {"/": "text/html", "/stage": "text/html", "/stage?overlay=1": "text/html",
                 f"/judge/{judge}": "text/html", f"/finalist/{finalist}": "text/html",
                 "/static/app.css": "text/css", "/static/common.js": "text/javascript",
                 "/static/audience.js": "text/javascript", "/static/stage.js": "text/javascript",
                 "/static/judge.js": "text/javascript", "/static/finalist.js": "text/javascript",
                 "/qr.svg": "image/svg+xml", "/healthz": "application/json"}
        for path, kind in pages.items():
            status, got = curl(hub.base + path, tmp_path / "page")
            assert status == 200 and got.startswith(kind), (path, status, got)
        assert curl(hub.base + "/judge/wrong", tmp_path / "page")[0] == 404
        assert curl(hub.base + "/static/../server.py", tmp_path / "page")[0] == 404

        status, kind = curl(hub.base + "/qr.png", tmp_path / "qr.png")
        assert (status, kind) == (200, "image/png")
        png = (tmp_path / "qr.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        [decoded] = zxingcpp.read_barcodes(Image.open(BytesIO(png)))
        assert decoded.text == hub.base + "/"
        expected = qr_matrix(hub.base + "/")
        assert modules(png, len(expected)) == expected
    finally:
        hub.stop()
    assert "Traceback" not in (tmp_path / "hub.log").read_text()
