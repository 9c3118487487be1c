"""What differs between the replayed log and the tables: every row scoring reads, every component, the standings.

`divergences` compares the replay (core.replay) with the same shapes read from
the tables, row by row (rounds, answers, judgments, panel scores, votes,
overrides), then scores both with core.scoring (the one implementation) and
compares every component, vote count, total and the standings. Each difference
is named by the event that last wrote the replayed value (a row the log never
wrote is named by its round's last event), so the first one is where to look.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from finale.core.model import Answer, AnswerStatus, Component, Event, Judgment
from finale.core.replay import RoundState, ShowState
from finale.core.scoring import RoundRecord, score_round, standings

CLOSE = 1e-9  # two replayed numbers this close are the same number


@dataclass(frozen=True)
class Divergence:
    """One difference: the event it is named by (None: no event at all), and what differs."""

    seq: int | None
    what: str

    def describe(self, kinds: Mapping[int, str]) -> str:
        """`event 123 (votes.recorded): ...`, or `no event: ...`."""
        if self.seq is None:
            return f"no event: {self.what}"
        return f"event {self.seq} ({kinds.get(self.seq, 'not in the log')}): {self.what}"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=CLOSE)
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


class _Diff:
    """Collects the differences of one comparison."""

    def __init__(self, replayed: ShowState) -> None:
        self.replayed = replayed
        self.found: list[Divergence] = []

    def rows(self, what: str, key: tuple[Any, ...], logged: Mapping[Any, Any], table: Mapping[Any, Any],
             fields: Callable[[Any], dict[str, Any]], round_id: int) -> None:
        """Compare one kind of row of a round, item by item; `fields` picks what scoring reads, by name."""
        for item in sorted(set(logged) | set(table), key=str):
            flat = item if isinstance(item, tuple) else (item,)
            seq = self.replayed.written.get((*key, *flat)) or self.replayed.round_seq(round_id)
            name = f"round {round_id}: {what} {', '.join(map(str, flat))}"
            if item not in table:
                self.found.append(Divergence(seq, f"{name} is in the log ({_show(fields(logged[item]))}), "
                                                  "not in the table"))
            elif item not in logged:
                self.found.append(Divergence(self.replayed.round_seq(round_id),
                                             f"{name} is in the table ({_show(fields(table[item]))}) but no event "
                                             "wrote it"))
            else:
                mine, theirs = fields(logged[item]), fields(table[item])
                differ = [k for k in mine if not _same(mine[k], theirs[k])]
                if differ:
                    self.found.append(Divergence(seq, f"{name}: " + "; ".join(
                        f"{k} {mine[k]!r} in the log, {theirs[k]!r} in the table" for k in differ)))


def _show(fields: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v!r}" for k, v in fields.items())


def _finished(answers: Mapping[str, Answer], in_flight: set[str]) -> dict[str, Answer]:
    return {fid: a for fid, a in answers.items() if fid not in in_flight}


def _judgment_fields(j: Judgment) -> dict[str, Any]:
    """What the LLM component is scored from: the aggregate, each jury member's scores, the head-to-head's picks."""
    h = j.head_to_head
    return {"status": str(j.status), "scores": dict(sorted(j.scores.items())),
            "jury": [(v.judge, v.ok, dict(sorted(v.scores.items()))) for v in j.jurors],
            "head-to-head": None if h is None else (h.judge, h.finalist_first, h.reference_first)}


def _compare_round(diff: _Diff, rid: int, logged: RoundState, table: RoundState) -> None:
    r1, r2 = logged.round, table.round
    head = ("phase", "question", "seed", "labels", "revealed")
    one = (str(r1.phase), r1.question_id, r1.seed, r1.labels, r1.revealed)
    two = (str(r2.phase), r2.question_id, r2.seed, r2.labels, r2.revealed)
    for name, a, b in zip(head, one, two, strict=True):
        if a != b:
            diff.found.append(Divergence(diff.replayed.written.get(("round", rid)),
                                         f"round {rid}: its {name} is {a!r} in the log, {b!r} in the rounds table"))
    # an answer streaming or waiting in the table is not logged until it finishes (Store.save_answer): left out
    in_flight = {fid for fid, a in table.answers.items() if a.status in (AnswerStatus.PENDING, AnswerStatus.STREAMING)}
    diff.rows("answer of", ("answer", rid), _finished(logged.answers, in_flight), _finished(table.answers, in_flight),
              lambda a: {"status": str(a.status), "ttft_ms": a.ttft_ms, "total_ms": a.total_ms, "tokens": a.tokens},
              rid)
    diff.rows("judgment of", ("judgment", rid), logged.judgments, table.judgments, _judgment_fields, rid)
    diff.rows("panel score of (finalist, panelist)", ("panel", rid), logged.panel, table.panel,
              lambda s: {"scores": dict(sorted(s.scores.items()))}, rid)
    diff.rows("vote of device", ("vote", rid), logged.votes, table.votes,
              lambda v: {"label": v.label, "origin": v.origin, "issued_at": v.issued_at}, rid)
    diff.rows("override", ("override", rid), logged.overrides, table.overrides,
              lambda o: {"finalist": o.finalist_id, "component": str(o.component), "action": str(o.action),
                         "value": o.value, "reverted": o.reverted, "panelist": o.panelist_id,
                         "discount": o.discount.to_json() if o.discount else None, "reason": o.reason}, rid)


def _compare_scores(diff: _Diff, event: Event, logged: Sequence[RoundRecord], table: Sequence[RoundRecord]) -> None:
    by_id = {r.round.id: r for r in table}
    for record in logged:
        other = by_id.get(record.round.id)
        if other is None:
            continue  # already named by the row comparison
        seq = diff.replayed.round_seq(record.round.id)
        mine, theirs = score_round(event, record), score_round(event, other)
        for fid in sorted(mine):
            a, b = mine[fid], theirs.get(fid)
            if b is None:
                continue
            for c in Component:
                va, vb = a.component(c), b.component(c)
                if not _same((va.value, va.waived, va.overridden), (vb.value, vb.waived, vb.overridden)):
                    diff.found.append(Divergence(seq, f"round {record.round.id}, {fid}: the {c} component is "
                                                      f"{va.value} from the log, {vb.value} from the tables"))
            if a.votes != b.votes or not _same(a.total, b.total):
                diff.found.append(Divergence(seq, f"round {record.round.id}, {fid}: {a.votes} votes and total "
                                                  f"{a.total} from the log, {b.votes} and {b.total} from the tables"))
    ours, yours = standings(event, logged), standings(event, table)
    for place, (s1, s2) in enumerate(zip(ours, yours, strict=True), start=1):
        if (s1.finalist_id, s1.rank, s1.votes) != (s2.finalist_id, s2.rank, s2.votes) or not _same(s1.total, s2.total):
            last = max((diff.replayed.round_seq(r.round.id) or 0 for r in logged), default=0) or None
            diff.found.append(Divergence(last, f"standings place {place}: {s1.finalist_id} with {s1.total:.4f} "
                                               f"from the log, {s2.finalist_id} with {s2.total:.4f} from the tables"))
            break


def divergences(replayed: ShowState, tables: Mapping[int, RoundState], event: Event,
                records: Sequence[RoundRecord]) -> list[Divergence]:
    """Every difference between the replay and the tables, the first (lowest event seq) first.

    `tables` are the rows read back per round; `records` what the console scores (Store.records()).
    """
    diff = _Diff(replayed)
    diff.found += [Divergence(p.seq, p.what) for p in replayed.problems]
    for rid in sorted(set(replayed.rounds) | set(tables)):
        if rid not in tables:
            diff.found.append(Divergence(replayed.written.get(("round", rid)),
                                         f"round {rid} is in the log, not in the rounds table"))
        elif rid not in replayed.rounds:
            diff.found.append(Divergence(None, f"round {rid} is in the rounds table but no event created it"))
        else:
            _compare_round(diff, rid, replayed.rounds[rid], tables[rid])
    _compare_scores(diff, event, [replayed.rounds[rid].record() for rid in sorted(replayed.rounds)], records)
    return sorted(diff.found, key=lambda d: (d.seq is None, d.seq or 0))
