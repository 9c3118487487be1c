"""The core is pure: importing it pulls in no UI, network, AWS or database module."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ["textual", "websockets", "boto3", "botocore", "sqlite3", "httpx", "asyncio", "sqlite_utils", "rich"]


def test_importing_core_imports_no_io_or_ui_modules() -> None:
    code = (
        "import sys, json\n"
        "import finale.core, finale.core.model, finale.core.show, finale.core.scoring, "
        "finale.core.checks, finale.core.tuning\n"
        f"print(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_the_check_would_catch_an_impure_import() -> None:
    code = f"import sys, json, finale.store\nprint(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "sqlite3" in json.loads(out.stdout)
