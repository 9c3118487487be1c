"""Exports are inert and private: no terminal escape, no spreadsheet formula, mode 0600."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

from finale.core.model import Judgment, JudgmentStatus
from finale.core.show import assign_labels
from finale.export import export
from finale.store import Store


def test_csv_cells_are_inert_and_formulas_quoted_and_files_private(store: Store, tmp_path: Path) -> None:
    ids = list(store.event().finalist_ids)
    rnd = store.create_round("=HYPERLINK(\"http://evil\",\"click\")", None, 1, assign_labels(ids, 1), "mc")
    raw = "@SUM(1+1)*cmd|' /C calc'!A0 \x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J"
    store.save_judgment(Judgment(rnd.id, ids[0], JudgmentStatus.OK, {"quality": 5}, "-2+3 fine", None, raw), "judge")
    written = export(store, tmp_path / "csv", "csv")
    assert written and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    cells = [cell for p in written for row in csv.reader(p.open(encoding="utf-8")) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], "a formula a spreadsheet would run"
    assert not [c for c in cells if "\x1b" in c or "\x07" in c], "a terminal escape in the CSV"
    judgments = (tmp_path / "csv" / "judgments.csv").read_text(encoding="utf-8")
    assert "'@SUM(1+1)" in judgments and "'-2+3 fine" in judgments
    (json_file,) = export(store, tmp_path / "export.json", "json")
    assert stat.S_IMODE(json_file.stat().st_mode) == 0o600
    assert "\x1b" not in json_file.read_text(encoding="utf-8")
