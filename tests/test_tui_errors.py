"""Starting the console on a file that is not an event database: one clear error, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from finale.cli import main
from finale.demo import DEMO_EVENT


def test_console_on_a_file_that_is_not_a_database_says_so(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_bytes(b"shopping list: milk, eggs\n" * 200)
    before = bad.read_bytes()
    for args in (["demo", "--db", str(bad)], ["run", str(DEMO_EVENT), "--db", str(bad)],
                 ["demo", "--headless", "--speed", "0", "--db", str(bad)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert f"{bad} is not an event database" in result.output and "--db" in result.output
        assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert bad.read_bytes() == before
