"""The rehearsal script: scripted answers by style and scripted judge scores by finalist."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Script:
    """Answers by style then question id, judge scores by finalist then question id."""

    answers: dict[str, dict[str, str]]
    scores: dict[str, dict[str, list[float]]]
    panel: dict[str, dict[str, float]] = field(default_factory=dict)

    def answer(self, style: str, question_id: str | None) -> str:
        by_q = self.answers.get(style) or self.answers.get("plain") or {}
        if question_id is not None and question_id in by_q:
            return by_q[question_id]
        return by_q.get("adhoc", "I do not have a scripted answer for that.")

    def judge_scores(self, finalist_id: str, question_id: str | None) -> list[float]:
        by_q = self.scores.get(finalist_id) or self.scores.get("default") or {}
        if question_id is not None and question_id in by_q:
            return by_q[question_id]
        return by_q.get("adhoc") or by_q.get("default") or [6.0, 6.0, 6.0]

    def panel_base(self, finalist_id: str, question_id: str | None) -> float | None:
        """Where the simulated panel departs from the judge's script (people read "3." right)."""
        if question_id is None:
            return None
        return self.panel.get(finalist_id, {}).get(question_id)


def load_script(path: Path) -> Script:
    """Read a rehearsal script TOML; a missing file gives an empty script (generic answers)."""
    if not path.exists():
        return Script({}, {})
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return Script(answers=data.get("answers", {}), scores=data.get("judge", {}), panel=data.get("panel", {}))
