"""The report on the LLM judge itself: the head-to-head with the reference, each jury member's scores, its flags."""

from __future__ import annotations

from finale.core.headtohead import beat_reference
from finale.core.model import Judgment
from finale.report.data import ReportData, RoundView
from finale.report.markup import esc, num, table, tag


def head_to_head_section(data: ReportData) -> str:
    """Each finalist's win rate against the reference, and who beat it in each round."""
    ref = data.config.reference
    if ref is None or not ref.head_to_head:
        return ""
    rows = []
    for fid, rate in data.win_rates.items():
        rows.append([esc(data.names.get(fid, fid)), esc(rate.wins), esc(rate.losses), esc(rate.ties),
                     esc(rate.order_sensitive), esc(rate.failed),
                     tag("b", esc("–" if rate.rate is None else f"{100 * rate.rate:.0f}%"))])
    per_round = []
    for view in data.rounds:
        record_won = beat_reference(view.judgments, view.round.labels)
        heads = [j.head_to_head for j in view.judgments.values() if j.head_to_head is not None]
        if not heads:
            continue
        sensitive = sum(h.order_sensitive for h in heads)
        who = ", ".join(data.names.get(f, f) for f in record_won) or "nobody"
        per_round.append(tag("li", tag("a", esc(f"Round {view.round.id}"), href=f"#round-{view.round.id}")
                             + esc(f": {who} beat {ref.name}" + (f"; {sensitive} order-sensitive tie(s)"
                                                                  if sensitive else ""))))
    place = (f"Fed into the LLM component: {ref.head_to_head_weight:.0%} of it (win 100, tie 50, loss 0)."
             if ref.head_to_head_weight > 0 else "Shown beside the score; it is not part of the round totals.")
    note = (f"Each answer was compared with {ref.name}'s twice, the order swapped. A win counts only when both "
            "orders prefer the finalist, a loss only when both prefer the reference; otherwise it is a tie, "
            f"order-sensitive when the two orders disagreed (position bias). Void rounds do not count. {place}")
    return tag("section", tag("h2", esc(f"Head to head with {ref.name}"))
               + table(["Finalist", "Wins", "Losses", "Ties", "of them order-sensitive", "Failed", "Win rate"],
                       rows, numeric=range(1, 7))
               + tag("p", esc(note), cls="muted") + (tag("ul", "".join(per_round)) if per_round else ""),
               id="head-to-head")


def jury_block(data: ReportData, j: Judgment) -> str:
    """Every judge model's own scores (a jury of several) and the head-to-head of this answer."""
    out = ""
    crit = [c.id for c in data.event.rubric]
    if len(j.jurors) > 1:
        rows = []
        for juror in j.jurors:
            if juror.ok:
                rows.append([esc(juror.judge), *[esc(num(juror.scores.get(c), 0)) for c in crit],
                             esc(juror.rationale or "")])
            else:
                rows.append([esc(juror.judge), *["–" for _ in crit],
                             tag("span", esc(f"dropped out: {juror.reason or 'no reason given'}"), cls="warn")])
        spread = ", ".join(f"{c} {num(v, 0)}" for c, v in j.spread.items())
        out += (tag("h5", esc("Jury: each judge's scores")) + table(["Judge", *crit, "Rationale"], rows,
                                                                    cls="grid small", numeric=range(1, len(crit) + 1))
                + (tag("p", esc(f"Spread (highest minus lowest): {spread}"), cls="muted") if spread else ""))
    if j.head_to_head is not None:
        out += tag("p", esc(f"Head to head with the reference ({j.head_to_head.judge}): {j.head_to_head.text}"),
                   cls="warn" if j.head_to_head.order_sensitive else "muted")
    return out


def judge_flags(view: RoundView, fid: str) -> str:
    """The flags about the judge on this answer, like the disputes: a jury member out, disagreement, length."""
    j = view.judgments.get(fid)
    out = "".join(tag("p", esc(f"Jury flag: {flag}"), cls="warn") for flag in (j.flags if j is not None else ()))
    out += "".join(tag("p", esc(f"Flag: {b.reason}"), cls="warn") for b in view.length_bias if b.finalist_id == fid)
    return out
