"""`finale export`: the show's data as CSV files or one JSON document, never with secrets.

CSV times are ISO 8601 with the zone (UTC); the JSON document keeps the store's epoch seconds.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from finale.core.headtohead import win_rates
from finale.core.text import csv_cell, inert
from finale.private_files import open_private, write_private
from finale.store import Store, iter_rows

TABLES = ("rounds", "answers", "judgments", "jury_verdicts", "head_to_head", "panel_scores", "overrides", "events")


def _vote_totals(store: Store) -> list[dict[str, Any]]:
    rows = []
    for rnd in store.rounds():
        counts = store.vote_counts(rnd.id)
        for fid, n in counts.items():
            rows.append({"round_id": rnd.id, "finalist_id": fid, "label": rnd.labels[fid], "votes": n})
    return rows


def _win_rates(store: Store) -> list[dict[str, Any]]:
    """Each finalist's head-to-head against the reference over the show (core.headtohead)."""
    rates = win_rates(store.records(), store.event().finalist_ids)
    return [{"finalist_id": fid, "wins": r.wins, "losses": r.losses, "ties": r.ties,
             "order_sensitive": r.order_sensitive, "failed": r.failed, "win_rate": r.rate} for fid, r in rates.items()]


def is_time(column: str) -> bool:
    """Columns that hold a moment (epoch seconds in the store): `at`, `*_at`, `vote_deadline`."""
    return column == "at" or column.endswith("_at") or column.endswith("deadline")


def iso_time(ts: float) -> str:
    """A moment as ISO 8601 with its zone (UTC, to the millisecond): a spreadsheet and a reader abroad agree on it."""
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="milliseconds")


def _cell(value: object, column: str = "") -> object:
    """A CSV cell that neither a terminal (`cat`) nor a spreadsheet runs: inert text, quoted formulas, ISO times."""
    if is_time(column) and isinstance(value, int | float) and not isinstance(value, bool):
        return iso_time(float(value))
    return csv_cell(inert(value)) if isinstance(value, str) else value


def _audience_questions(store: Store) -> list[dict[str, Any]]:
    """The questions from the floor the pages showed (approved or asked), without who sent them."""
    return [{"id": q.id, "text": q.text, "status": q.status.value, "starred": q.starred, "upvotes": q.upvotes,
             "round_id": q.round_id, "submitted_at": q.submitted_at} for q in store.floor_questions() if q.public]


def _withhold_hidden_questions(events: list[dict[str, Any]], shown: set[int]) -> list[dict[str, Any]]:
    """The audit log with the text (and a rejection's reason) of every pending or rejected question left out.

    The export is public: what no page ever showed stays in the database's own audit log only.
    """
    out = []
    for row in events:
        if str(row.get("kind", "")).startswith("question."):
            payload = json.loads(row["payload"])
            if payload.get("question_id") not in shown and ("text" in payload or "reason" in payload):
                payload = {k: v for k, v in payload.items() if k not in ("text", "reason")}
                payload["withheld"] = "the question was not approved: its text is not exported"
                row = {**row, "payload": json.dumps(payload, sort_keys=True, ensure_ascii=False)}
        out.append(row)
    return out


def collect(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every exported table as rows; judgments' raw model output is kept, tokens are not.

    Public: a pending or rejected question from the floor is never in it (see `_withhold_hidden_questions`).
    """
    data = {t: list(iter_rows(store, t)) for t in TABLES}
    data["audience_questions"] = _audience_questions(store)
    data["events"] = _withhold_hidden_questions(data["events"], {q["id"] for q in data["audience_questions"]})
    data["vote_totals"] = _vote_totals(store)
    data["head_to_head_win_rates"] = _win_rates(store)
    return data


def export(store: Store, out: Path, fmt: str) -> list[Path]:
    """Write the export; returns the files written."""
    data = collect(store)
    if fmt == "json":  # JSON escapes every control character itself (\u001b): inert by construction
        write_private(out, json.dumps(data, indent=2, ensure_ascii=False))
        return [out]
    if fmt != "csv":
        raise ValueError(f"unknown format {fmt!r}; expected csv or json")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in data.items():
        path = out / f"{name}.csv"
        with open_private(path, newline="") as fh:
            if rows:
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows({k: _cell(v, k) for k, v in row.items()} for row in rows)
        written.append(path)
    return written
