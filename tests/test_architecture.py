"""The architecture holds: SQL only in finale/store/, import contracts checked by import-linter, typed store interfaces.

The store is the only seam between the console and the hub (shared/DESIGN.md), so
nothing outside finale/store/ may speak SQL or touch sqlite3: a reader that needs
something new asks the store for a method.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from finale.store import AudienceStore, ShowReader, Store

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("finale", "audience")
STORE = ROOT / "finale" / "store"

SQL_IN_STRINGS = [
    re.compile(r"\bSELECT\b.+\bFROM\b", re.IGNORECASE | re.DOTALL),
    re.compile(r"\bINSERT\s+(OR\s+\w+\s+)?INTO\b", re.IGNORECASE),
    re.compile(r"\bUPDATE\s+\w+\s+SET\b", re.IGNORECASE),
    re.compile(r"\bDELETE\s+FROM\b", re.IGNORECASE),
    re.compile(r"\bCREATE\s+(TABLE|INDEX|VIEW|TRIGGER)\b", re.IGNORECASE),
    re.compile(r"\bPRAGMA\s+\w+", re.IGNORECASE),
    re.compile(r"^\s*(BEGIN(\s+(DEFERRED|IMMEDIATE|EXCLUSIVE))?|COMMIT|ROLLBACK|VACUUM)\b\s*;?\s*$", re.IGNORECASE),
]
SQL_MODULES = ("sqlite3", "sqlite_utils")
CURSOR_CALLS = ("execute", "executemany", "executescript")


@dataclass(frozen=True)
class Finding:
    """One place outside the store that speaks SQL."""

    path: Path
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.what}"


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings or bare string statements (prose, not SQL)."""
    return {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}


def sql_findings(path: Path) -> list[Finding]:
    """Every SQL string, sqlite import and cursor call in one source file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    prose = _docstrings(tree)
    found: list[Finding] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            for pattern in SQL_IN_STRINGS:
                if pattern.search(node.value):
                    found.append(Finding(path, node.lineno, f"SQL in a string: {node.value.strip()[:60]!r}"))
                    break
        elif isinstance(node, ast.Import):
            found += [Finding(path, node.lineno, f"imports {a.name}") for a in node.names
                      if a.name.split(".")[0] in SQL_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in SQL_MODULES:
            found.append(Finding(path, node.lineno, f"imports from {node.module}"))
        elif isinstance(node, ast.Attribute) and node.attr in CURSOR_CALLS \
                and not ast.unparse(node.value).endswith("pipe"):  # a Redis pipeline (audience/scale), not SQL
            found.append(Finding(path, node.lineno, f"calls .{node.attr}("))
        elif isinstance(node, ast.Attribute) and node.attr in ("conn", "db") and "store" in ast.unparse(node.value):
            found.append(Finding(path, node.lineno, f"reaches into the store's connection ({ast.unparse(node)})"))
    return found


def _sources() -> list[Path]:
    return sorted(p for pkg in SCANNED for p in (ROOT / pkg).rglob("*.py") if STORE not in p.parents)


def test_no_sql_outside_the_store_package() -> None:
    findings = [str(f) for path in _sources() for f in sql_findings(path)]
    assert not findings, "SQL outside finale/store/ (add a store method instead):\n" + "\n".join(findings)


def test_the_scan_would_catch_sql(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""A docstring may mention PRAGMA data_version."""\n'
        "import sqlite3\n"
        "def f(store):\n"
        "    store.conn.execute('BEGIN')\n"
        "    return store.db.query(f\"select id from {'rounds'}\")\n"
    )
    whats = [f.what for f in sql_findings(probe)]
    assert any("imports sqlite3" in w for w in whats)
    assert any("calls .execute(" in w for w in whats)
    assert any("'BEGIN'" in w for w in whats)
    assert any("select id from" in w for w in whats)
    assert any("store.conn" in w for w in whats)
    assert not any("data_version" in w for w in whats), "docstrings are prose, not SQL"


def test_the_scan_covers_the_project() -> None:
    sources = _sources()
    assert ROOT / "audience" / "state.py" in sources and ROOT / "finale" / "tui" / "state.py" in sources
    assert not any(STORE in p.parents for p in sources)


def _members(protocol: type) -> set[str]:
    """The public methods a Protocol asks for, its bases' included."""
    return {name for cls in protocol.__mro__ if cls not in (Protocol, object)
            for name, value in vars(cls).items() if callable(value) and not name.startswith("_")}


def _store_calls(paths: list[Path]) -> set[str]:
    """Names the code reaches for on its store objects (`store`, `store_r`, `self.store_w`, ...)."""
    used: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                base = node.value
                name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else ""
                if re.fullmatch(r"store(_[rw])?", name):
                    used.add(node.attr)
    return used


def test_the_audience_interface_is_exactly_what_the_hub_uses() -> None:
    hub = [p for p in (ROOT / "audience").glob("*.py") if p.name != "commands.py"]  # commands: CLI set-up
    assert _store_calls(hub) == _members(AudienceStore)


def test_the_console_and_report_read_through_the_show_reader() -> None:
    readers = [ROOT / "finale" / "tui" / "state.py", ROOT / "finale" / "report" / "data.py"]
    assert _store_calls(readers) <= _members(ShowReader)


def test_the_sqlite_store_is_every_interface(store: Store) -> None:
    assert isinstance(store, AudienceStore) and isinstance(store, ShowReader)


LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the packages and the pyproject.toml found in `cwd`, caching nothing."""
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120)


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def test_the_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(_contracts())} kept, 0 broken" in result.stdout


def test_lint_imports_fails_on_a_module_that_breaks_a_contract(tmp_path: Path) -> None:
    # On a copy of the tree, so the probe module never shows in the working tree others are testing.
    for package in SCANNED:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("static", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    probe = tmp_path / "finale" / "core" / "_contract_probe_tmp.py"
    try:
        probe.write_text('"""Breaks the purity of the core on purpose."""\n\nimport sqlite3\n\n'
                         'from finale import config\n\nUSED = (sqlite3, config)\n')
        result = _lint_imports(tmp_path)
    finally:
        probe.unlink(missing_ok=True)
    assert result.returncode != 0
    assert "finale.core is pure" in result.stdout and "BROKEN" in result.stdout
    assert "finale.core._contract_probe_tmp -> sqlite3" in result.stdout
    assert "finale.core is not allowed to import finale.config" in result.stdout
    assert "1 broken" in result.stdout

