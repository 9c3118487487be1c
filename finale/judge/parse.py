"""Reading the judge's output: validate the scores, and tolerate the usual mess of a JSON reply.

Nothing the model returns is executed: it is parsed as JSON data, checked
against the rubric, and kept raw for the record.
"""

from __future__ import annotations

import json
import re
from typing import Any

from finale.core.model import Criterion
from finale.core.ranges import SCORE_RANGE_TEXT, ScoreError, check_score
from finale.judge.prompt import MAX_RATIONALE


class JudgeParseError(ValueError):
    """The judge's output cannot be used; the message says why, for the human who takes over."""


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def validate_scores(obj: Any, criteria: tuple[Criterion, ...]) -> tuple[dict[str, float], str]:
    """Scores (one number per criterion, in core.ranges) and the rationale, or JudgeParseError saying what is wrong."""
    if not isinstance(obj, dict):
        raise JudgeParseError(f"the judge's output is not a JSON object (got {type(obj).__name__})")
    scores = obj.get("scores", obj)
    if not isinstance(scores, dict):
        raise JudgeParseError("'scores' is not an object of criterion: number")
    missing = [c.id for c in criteria if c.id not in scores]
    if missing:
        raise JudgeParseError(f"no score for {', '.join(missing)}")
    out: dict[str, float] = {}
    for c in criteria:
        value = scores[c.id]
        if isinstance(value, str):
            try:
                value = float(value.strip().split("/")[0])
            except ValueError:
                raise JudgeParseError(f"score for {c.id} is not a number: {value[:40]!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise JudgeParseError(f"score for {c.id} is not a number: {value!r:.40}")
        try:
            out[c.id] = check_score(c.id, value)
        except ScoreError:
            raise JudgeParseError(f"score for {c.id} is {float(value):g}, outside {SCORE_RANGE_TEXT}") from None
    rationale = obj.get("rationale", "")
    rationale = rationale.strip() if isinstance(rationale, str) else ""
    if len(rationale) > MAX_RATIONALE:
        rationale = rationale[: MAX_RATIONALE - 1] + "…"
    return out, rationale


def tolerant_json(text: str) -> Any:
    """The JSON object in a model's reply: whole, in a code fence, or embedded in prose; trailing commas forgiven."""
    text = text.strip()
    if not text:
        raise JudgeParseError("the judge's reply is empty")
    candidates = [text, *_FENCE.findall(text)]
    candidates += _objects(text)
    first_error = ""
    for candidate in candidates:
        for variant in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
            try:
                return json.loads(variant)
            except ValueError as exc:
                first_error = first_error or str(exc)
    if "{" not in text:
        raise JudgeParseError(f"the judge's reply holds no JSON object: {text[:80]!r}")
    raise JudgeParseError(f"the judge's reply is not valid JSON ({first_error})")


def _objects(text: str) -> list[str]:
    """Balanced {...} spans, outermost first, skipping braces inside strings."""
    found: list[str] = []
    depth, start, in_string, escaped = 0, -1, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"' and depth:
            in_string = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                found.append(text[start : i + 1])
    return found
