"""Assemble the report page: one HTML file, inline CSS and SVG, no script, nothing fetched.

The Content-Security-Policy meta tag forbids every network request and every
script, so even if something slipped through escaping the browser would refuse
to run or fetch it; a reader can open the file offline, years later.
"""

from __future__ import annotations

import time

from finale.report.audit import audit_section
from finale.report.data import ReportData, collect
from finale.report.judging import head_to_head_section
from finale.report.markup import esc, tag, when
from finale.report.rounds import round_section
from finale.report.seal import agreement_section, seal_line, seal_section
from finale.report.sections import latency_section, overrides_section, rounds_index, standings_section
from finale.report.style import CSS
from finale.store import Store

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def render(data: ReportData, source: str, generated_at: float | None = None) -> str:
    """The whole page as a string."""
    title = f"{data.config.event.name}: report"
    nav = " · ".join(tag("a", esc(text), href=f"#{anchor}") for anchor, text in
                     (("standings", "Standings"), ("head-to-head", "Head to head"), ("rounds", "Rounds"),
                      ("latency", "Latency"),
                      ("overrides", "Overrides"), ("agreement", "Agreement"), ("seal", "Sealed score"),
                      ("audit", "Audit log")))
    header = tag("header", tag("h1", esc(title))
                 + tag("p", esc(f"Generated {when(generated_at if generated_at is not None else time.time())} "
                                f"from {source}. {len(data.names)} finalists, {len(data.panelists)} panelists, "
                                f"{len(data.rounds)} rounds."), cls="muted")
                 + seal_line(data) + tag("nav", nav))
    body = (header + standings_section(data) + head_to_head_section(data) + rounds_index(data)
            + "".join(round_section(data, v) for v in data.rounds)
            + latency_section(data) + overrides_section(data) + agreement_section(data) + seal_section(data)
            + audit_section(data))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="referrer" content="no-referrer">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>"
            f"<body>{body}</body></html>\n")


def build_report(store: Store, generated_at: float | None = None) -> str:
    """The report for the event in `store`, as HTML."""
    return render(collect(store), store.path.name, generated_at)

