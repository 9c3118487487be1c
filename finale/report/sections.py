"""The report's show-wide sections: standings, latency per finalist, override log (the audit log: audit.py)."""

from __future__ import annotations

from finale.core.model import Component, Phase
from finale.report.charts import LatencyPoint, latency_chart, standings_chart
from finale.report.data import ReportData
from finale.report.markup import esc, ms, num, table, tag, when


def standings_section(data: ReportData) -> str:
    """Final standings with the weighted breakdown; `*` marks a finalist with an override in force."""
    w = data.event.weights
    final = sum(1 for v in data.rounds if v.round.phase is Phase.FINAL)
    rows = []
    for s in data.standings:
        name = esc(data.names.get(s.finalist_id, s.finalist_id))
        if s.overridden:
            name += tag("span", " *", cls="ovr", title="a human override applies (see the override log)")
        if s.tied:
            name += " (tie)"
        rows.append([esc(s.rank), name, esc(num(s.points[Component.LLM], 2)),
                     esc(num(s.points[Component.PANEL], 2)), esc(num(s.points[Component.AUDIENCE], 2)),
                     esc(s.votes), esc(ms(s.median_latency_ms)), tag("b", esc(num(s.total, 2)))])
    headers = ["#", "Finalist", f"LLM {w.llm:.0%}", f"Panel {w.panel:.0%}", f"Audience {w.audience:.0%}", "Votes",
               "Median latency", "Total"]
    chart = standings_chart([(data.names.get(s.finalist_id, s.finalist_id),
                              {c.value: s.points[c] for c in Component}) for s in data.standings])
    note = (f"Sum over the {final} final round(s) of {len(data.rounds)}. Round total = {w.llm:g} LLM + "
            f"{w.panel:g} panel + {w.audience:g} audience (each 0-100). * a human override applies. "
            "Ties: panel, then LLM, then votes, then lower median latency.")
    return tag("section", tag("h2", "Final standings") + table(headers, rows, cls="grid standings",
                                                               numeric=(0, 2, 3, 4, 5, 6, 7))
               + tag("p", esc(note), cls="muted") + tag("figure", chart), id="standings")


def rounds_index(data: ReportData) -> str:
    """One line per round, linking to its section."""
    rows = []
    for v in data.rounds:
        rnd = v.round
        overrides = sum(1 for o in data.overrides if o["round_id"] == rnd.id)
        rows.append([tag("a", esc(f"Round {rnd.id}"), href=f"#round-{rnd.id}"), esc(rnd.question_id or "live"),
                     esc(rnd.prompt[:90] + ("…" if len(rnd.prompt) > 90 else "")), esc(rnd.phase),
                     esc(sum(len(t) for t in v.votes.by_finalist.values())), esc(overrides),
                     esc(len(v.disputes))])
    return tag("section", tag("h2", "Rounds") + table(["Round", "Question", "Prompt", "Phase", "Votes", "Overrides",
                                                        "Disputes"], rows, numeric=(4, 5, 6)), id="rounds")


def latency_section(data: ReportData) -> str:
    """A chart per finalist: time to first token and total time in each round, on one shared scale."""
    totals = [a.total_ms for v in data.rounds for a in v.answers.values() if a.total_ms is not None]
    y_max = max(totals, default=0.0)
    charts = []
    for f in data.event.finalists:
        points = []
        for v in data.rounds:
            a = v.answers.get(f.id)
            points.append(LatencyPoint(f"R{v.round.id}", a.ttft_ms if a else None, a.total_ms if a else None,
                                       str(a.status) if a else "not asked"))
        charts.append(latency_chart(f.name, points, y_max))
    legend = (tag("span", "", cls="swatch ttft") + " time to first token " + tag("span", "", cls="swatch total")
              + " total time")
    return tag("section", tag("h2", "Latency per finalist") + tag("p", legend, cls="muted")
               + tag("div", "".join(charts), cls="charts"), id="latency")


def overrides_section(data: ReportData) -> str:
    """Every override on the record, with the original value, the reason, who decided and any revert."""
    if not data.overrides:
        return tag("section", tag("h2", "Override log") + tag("p", "No overrides.", cls="muted"), id="overrides")
    rows = []
    for o in data.overrides:
        value = "waived" if o["action"] == "waive" else num(o["value"])
        reverted = ("in force" if o["reverted_at"] is None else
                    f"reverted {when(o['reverted_at'])} by {o['reverted_by']}: {o['revert_reason'] or '(no reason)'}")
        rows.append([esc(o["id"]), tag("a", esc(o["round_id"]), href=f"#round-{o['round_id']}"),
                     esc(data.names.get(o["finalist_id"], o["finalist_id"])), esc(o["component"]), esc(o["action"]),
                     esc(value), esc(num(o["original"])), esc(o["reason"]), esc(o["actor"]),
                     esc(when(o["created_at"])), esc(reverted)])
    headers = ["#", "Round", "Finalist", "Component", "Action", "Value", "Original", "Reason", "By", "At", "Status"]
    return tag("section", tag("h2", "Override log") + table(headers, rows, numeric=(0, 1, 5, 6)), id="overrides")
