"""No module in finale/ or audience/ grows past about 400 lines without saying why on its first line.

A new maintainer reads a package file by file; a long file is usually two
things that want splitting along their own seams (issue 10). One that should
stay long says so in the first line of its docstring: "... Long because: ...".
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("finale", "audience")
MAX_LINES = 400
REASON_MARKER = "Long because:"


def first_docstring_line(source: str) -> str:
    """The module docstring's first line, or "" when there is none."""
    doc = ast.get_docstring(ast.parse(source), clean=True)
    return doc.splitlines()[0] if doc else ""


def unexplained_long_files(paths: list[Path], root: Path = ROOT) -> list[str]:
    """'path: N lines' for every file over MAX_LINES whose docstring's first line gives no reason."""
    found = []
    for path in paths:
        source = path.read_text(encoding="utf-8")
        lines = len(source.splitlines())
        if lines > MAX_LINES and REASON_MARKER.lower() not in first_docstring_line(source).lower():
            found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def _sources() -> list[Path]:
    return sorted(p for pkg in SCANNED for p in (ROOT / pkg).rglob("*.py"))


def test_no_long_file_without_a_reason_at_its_top() -> None:
    found = unexplained_long_files(_sources())
    assert not found, (f"over {MAX_LINES} lines with no '{REASON_MARKER} ...' on the docstring's first line "
                       "(split it along its seams, or say why it stays long):\n" + "\n".join(found))


def test_the_scan_covers_both_packages() -> None:
    sources = _sources()
    assert ROOT / "finale" / "tui" / "app.py" in sources and ROOT / "audience" / "server.py" in sources


def test_the_scan_would_catch_a_long_file_and_accept_a_reason(tmp_path: Path) -> None:
    body = "".join(f"x{i} = {i}\n" for i in range(MAX_LINES))
    silent = tmp_path / "silent.py"
    silent.write_text('"""A module that just grew."""\n' + body)
    explained = tmp_path / "explained.py"
    explained.write_text('"""The schema migrations. Long because: one step per schema version."""\n' + body)
    reason_too_late = tmp_path / "late.py"
    reason_too_late.write_text('"""A module.\n\nLong because: said too late to be seen."""\n' + body)
    short = tmp_path / "short.py"
    short.write_text("x = 1\n")
    found = unexplained_long_files([silent, explained, reason_too_late, short], root=tmp_path)
    assert found == [f"silent.py: {MAX_LINES + 1} lines", f"late.py: {MAX_LINES + 3} lines"]
