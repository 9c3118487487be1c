"""The report's audit log: every event in order, with its time, who did it and what changed.

Not counts per kind: a reader after the show must be able to follow each decision (a
void and its reason, an override and the value it replaced, who revealed what and when)
without opening the database. Each kind has a one-line description built from its
payload; a kind this module does not know is shown as its payload's fields, so nothing
is left out. Every piece of text goes through `esc` (names, reasons and prompts are
untrusted).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from finale.report.data import ReportData
from finale.report.markup import esc, table, tag, when
from finale.store import EventRow

Describe = Callable[[dict[str, Any], "Names"], str]
LONG = 160  # characters of a prompt or free text shown in one line


class Names:
    """Finalist and panelist names for the descriptions (ids stay when a name is unknown)."""

    def __init__(self, finalists: Mapping[str, str], panelists: Mapping[str, str]) -> None:
        self.finalists = finalists
        self.panelists = panelists

    def f(self, fid: object) -> str:
        return self.finalists.get(str(fid), str(fid)) if fid is not None else "–"

    def p(self, pid: object) -> str:
        return self.panelists.get(str(pid), str(pid))


def _short(text: object, limit: int = LONG) -> str:
    s = " ".join(str(text if text is not None else "").split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _num(value: object, fmt: str = "g") -> str:
    return format(value, fmt) if isinstance(value, int | float) and not isinstance(value, bool) else "–"


def _scores(scores: object) -> str:
    return ", ".join(f"{k} {_num(v)}" for k, v in scores.items()) if isinstance(scores, dict) else ""


def _reason(p: dict[str, Any]) -> str:
    return f"; reason: {_short(p['reason'])}" if p.get("reason") else ""


def _tally(votes: object) -> str:
    return ", ".join(f"{label} {n}" for label, n in sorted(votes.items())) if isinstance(votes, dict) else ""


def _source(p: dict[str, Any]) -> str:
    """Where an unseen round's prompt came from: typed live, or a question from the audience."""
    return "a question from the audience" if p.get("source") == "audience" else "typed live"


def _only(p: dict[str, Any], n: Names, whole: str) -> str:
    only = p.get("only")
    return f"{whole}: only {', '.join(n.f(x) for x in only)}" if only else whole


def _answer(p: dict[str, Any], n: Names) -> str:
    who = "reference" if p.get("reference") else n.f(p.get("finalist_id"))
    timing = f", {_num(p.get('total_ms'), '.0f')} ms" if p.get("total_ms") is not None else ""
    error = f"; {_short(p['error'])}" if p.get("error") else ""
    tokens, chars = p.get("tokens", 0), p.get("chars", 0)
    return (f"{who}: {p.get('status')}, {tokens} token{'' if tokens == 1 else 's'}, {chars} character"
            f"{'' if chars == 1 else 's'}{timing}{error}")


def _override(p: dict[str, Any], n: Names) -> str:
    what = "waived" if p.get("action") == "waive" else f"set to {_num(p.get('value'))}"
    return (f"override #{p.get('override_id')}: {p.get('component')} of {n.f(p.get('finalist_id'))} {what} "
            f"(was {_num(p.get('original'), '.1f')}){_reason(p)}")


def _reveal(p: dict[str, Any], n: Names) -> str:
    heading = p.get("heading") or f"place {p.get('place')}"
    return f"stage: {heading}: {n.f(p.get('finalist_id'))}"


def _votes(p: dict[str, Any], _n: Names) -> str:
    rows = p.get("votes") or []
    by_label = Counter(str(r[1]) for r in rows if isinstance(r, list | tuple) and len(r) > 1)
    return f"{len(rows)} votes recorded ({_tally(dict(by_label))})" if rows else "no votes"


DESCRIBE: dict[str, Describe] = {
    "event.setup": lambda p, n: (f"event set up: {_short(p.get('name'))}; {len(p.get('finalists', []))} finalists, "
                                 f"{len(p.get('panelists', []))} panelists, {len(p.get('questions', []))} questions"),
    "round.created": lambda p, n: (f"round created ({p.get('question_id') or _source(p)}): "
                                   f"{_short(p.get('prompt'))}"),
    "round.asked": lambda p, n: _only(p, n, "every finalist asked"),
    "round.answered": lambda p, n: "every answer in",
    "round.judging": lambda p, n: _only(p, n, "the LLM judge scores every answer"),
    "answer.saved": _answer,
    "judgment.saved": lambda p, n: (f"{n.f(p.get('finalist_id'))}: {p.get('status')} by {p.get('judge')}"
                                    f"{': ' + _scores(p.get('scores')) if p.get('scores') else ''}{_reason(p)}"),
    "panel.scored": lambda p, n: f"{n.p(p.get('panelist_id'))} scored {n.f(p.get('finalist_id'))}: "
                                 f"{_scores(p.get('scores'))}",
    "poll.opened": lambda p, n: f"poll opened for {_num(p.get('window_s'))} s",
    "poll.extended": lambda p, n: f"poll extended by {_num(p.get('seconds'))} s",
    "poll.paused": lambda p, n: f"poll paused with {_num(p.get('remaining'), '.0f')} s left",
    "poll.resumed": lambda p, n: f"poll resumed with {_num(p.get('remaining'), '.0f')} s left",
    "poll.closed": lambda p, n: f"poll closed ({p.get('why', 'by the MC')}): {_tally(p.get('votes')) or 'no votes'}",
    "votes.recorded": _votes,
    "override.added": _override,
    "override.reverted": lambda p, n: f"override #{p.get('override_id')} reverted{_reason(p)}",
    "round.revealed": lambda p, n: "who was who: " + ", ".join(
        f"{label} {n.f(fid)}" for fid, label in sorted((p.get("labels") or {}).items(), key=lambda kv: kv[1])),
    "round.final": lambda p, n: "made final",
    "round.void": lambda p, n: f"voided{_reason(p)}",
    "settings.changed": lambda p, n: f"{n.f(p.get('finalist_id'))}'s settings, version {p.get('version')}",
    "show.paused": lambda p, n: "show paused",
    "show.resumed": lambda p, n: "show resumed",
    "show.frozen": lambda p, n: "stage frozen",
    "show.unfrozen": lambda p, n: "stage live again",
    "show.reveal": _reveal,
    "show.reveal_dismissed": lambda p, n: "standings reveal dismissed",
    "show.moment_ended": lambda p, n: f"reveal and spotlight ended by round {p.get('round_id')}",
    "show.last_round": lambda p, n: f"round {p.get('round_id')} declared the last",
    "show.last_round_cancelled": lambda p, n: "last round taken back",
    "show.spotlight": lambda p, n: f"spotlight on answer {p['label']}" if p.get("label") else "spotlight off",
    "credentials.issued": lambda p, n: f"{len(p.get('voters') or [])} voter credentials issued",
    "rehearsal.reset": lambda p, n: f"rehearsal reset: {p.get('rounds', 0)} rounds wiped",
    # questions from the floor: never their text here (a rejected one is shown nowhere; an asked one is its round's)
    "questions.opened": lambda p, n: "questions from the floor opened",
    "questions.closed": lambda p, n: f"questions from the floor closed ({_short(p.get('why') or 'by the MC')})",
    "question.submitted": lambda p, n: f"question #{p.get('question_id')} submitted ({p.get('chars')} characters)",
    "question.upvoted": lambda p, n: f"question #{p.get('question_id')} upvoted ({p.get('upvotes')} in all)",
    "question.approved": lambda p, n: f"question #{p.get('question_id')} approved",
    "question.rejected": lambda p, n: f"question #{p.get('question_id')} rejected",
    "question.starred": lambda p, n: f"question #{p.get('question_id')} starred",
    "question.unstarred": lambda p, n: f"question #{p.get('question_id')} unstarred",
    "question.asked": lambda p, n: f"question #{p.get('question_id')} asked as this round (from the audience)",
}


def _fields(p: dict[str, Any]) -> str:
    """A kind without its own line: its payload's fields (lists and objects by their size)."""
    parts = []
    for key, value in sorted(p.items()):
        if isinstance(value, list | dict):
            parts.append(f"{key}: {len(value)} items")
        else:
            parts.append(f"{key}: {_short(value, 80)}")
    return "; ".join(parts)


def describe(event: EventRow, names: Names) -> str:
    """What one event changed, in one line."""
    known = DESCRIBE.get(event.kind)
    try:
        return known(event.payload, names) if known else _fields(event.payload)
    except (AttributeError, KeyError, TypeError, ValueError):  # an older or odd payload: its fields, not a crash
        return _fields(event.payload)


def audit_section(data: ReportData) -> str:
    """Every event of the audit log, oldest first: number, time (UTC), actor, round, kind and what changed."""
    names = Names(data.names, data.panelists)
    rows = [[esc(e.seq), esc(when(e.at)), esc(e.actor), esc(e.round_id if e.round_id is not None else "–"),
             tag("code", esc(e.kind)), esc(describe(e, names))] for e in data.events]
    kinds = len({e.kind for e in data.events})
    out = tag("h2", "Audit log") + tag("p", esc(f"{len(data.events)} events of {kinds} kinds, oldest first. Times "
                                                "are UTC."), cls="muted")
    for r in data.resets:
        out += tag("p", esc(f"Rehearsal reset {when(r['at'])} by {r['actor']}: {r.get('rounds', 0)} rounds wiped."),
                   cls="warn")
    out += table(["#", "Time", "By", "Round", "Kind", "What changed"], rows, cls="grid audit", numeric=(0, 3))
    return tag("section", out, id="audit")
