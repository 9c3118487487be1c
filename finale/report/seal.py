"""The report's integrity sections: the sealed manifest's hash (and every change after it), and agreement.

The hash printed here is the one the stage's idle screen showed; `finale verify
--db` replays the audit log and checks that the standings above follow from it.
Agreement with the humans is core.agreement's, per round and over the show.
"""

from __future__ import annotations

from finale.core.agreement import Agreement
from finale.core.manifest import changed_sections
from finale.report.data import ReportData
from finale.report.markup import esc, num, table, tag, when

VERIFY_HINT = "Anyone holding the database can check the standings: finale verify --db EVENT.db"


def seal_line(data: ReportData) -> str:
    """One line for the header: the manifest in force and whether it changed after the seal."""
    if not data.seals:
        return tag("p", "Not sealed: no manifest was stored before the first round.", cls="warn")
    latest = data.seals[-1]
    changes = len(data.seals) - 1
    after = f" ({changes} change(s) after the seal, listed below)" if changes else ""
    return tag("p", esc("Sealed manifest SHA-256: ") + tag("code", esc(latest.sha256)) + esc(after), cls="muted")


def seal_section(data: ReportData) -> str:
    """The seal and every change to it: when, by whom, its hash, and which parts of the event file changed."""
    if not data.seals:
        body = tag("p", esc("The show was not sealed (`finale seal EVENT_FILE` or the first ask seals it)."),
                   cls="warn")
    else:
        rows = []
        for before, s in zip([None, *data.seals], data.seals, strict=False):
            changed = ", ".join(changed_sections(before.manifest, s.manifest)) if before is not None else "–"
            rows.append([esc(s.seq), esc("sealed" if before is None else "changed after the seal"),
                         tag("code", esc(s.sha256)), esc(s.actor), esc(when(s.at)), esc(changed)])
        body = table(["Event", "What", "SHA-256", "By", "At", "Changed"], rows, numeric=(0,))
        software = data.seals[-1].manifest.get("software", {})
        body += tag("p", esc(f"Sealed with finale {software.get('finale', '?')} (rules' source "
                             f"{str(software.get('core_sha256', '?'))[:16]}…). {VERIFY_HINT}"), cls="muted")
    return tag("section", tag("h2", "Sealed score") + body, id="seal")


def _agreement_cells(ag: Agreement | None) -> list[str]:
    if ag is None or ag.answers == 0:
        return [esc(0), esc("–"), esc("–")]
    return [esc(ag.answers), esc("undefined" if ag.tau is None else f"{ag.tau:+.2f}"), esc(num(ag.mean_gap, 1))]


def agreement_section(data: ReportData) -> str:
    """The judge against the panel: Kendall's tau-b of their components and the mean gap, per round and overall."""
    rows = [[tag("a", esc(f"Round {v.round.id}"), href=f"#round-{v.round.id}"), esc(v.round.phase),
             *_agreement_cells(v.agreement)] for v in data.rounds]
    rows.append([tag("b", "The show"), esc("final rounds"), *_agreement_cells(data.agreement)])
    note = ("Rank agreement: Kendall's tau-b between the LLM judge's and the panel's own components of the answers "
            "of a round (1 the same order, -1 the reverse; ties handled), pooled over the final rounds using "
            "pairs within a round only. Mean gap: |LLM - panel| in points (0-100). Overrides do not count: this is "
            "how the machine agreed with the humans before anyone corrected it.")
    return tag("section", tag("h2", "Agreement with the humans")
               + table(["Round", "Phase", "Answers", "tau-b", "Mean gap"], rows, numeric=(2, 3, 4))
               + tag("p", esc(note), cls="muted"), id="agreement")
