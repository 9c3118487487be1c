"""The report's per-round sections: scores table, vote timeline, and every answer with its scores."""

from __future__ import annotations

import statistics

from finale.core.model import Answer, Component, JudgmentStatus, Phase
from finale.core.ranking import round_order, round_winners
from finale.core.scoring import ComponentValue
from finale.report.charts import VoteSeries, colour, vote_timeline
from finale.report.data import ReportData, RoundView
from finale.report.judging import judge_flags, jury_block
from finale.report.markup import esc, ms, num, table, tag, when


def component_cell(value: ComponentValue, digits: int = 1) -> str:
    """A component value; an override shows the value used, a mark and the original struck through."""
    if value.waived:
        return tag("span", "waived*", cls="ovr", title=f"waived by override #{value.override_id}")
    shown = esc(num(value.value, digits))
    if not value.overridden:
        return shown
    return (tag("span", f"{shown}*", cls="ovr", title=f"override #{value.override_id}")
            + " " + tag("s", esc(num(value.original, digits)), title="value before the override"))


def _scores_table(data: ReportData, view: RoundView) -> str:
    w = data.event.weights
    rows = []
    ordered = [view.scored[fid] for fid in round_order(view.scored)]
    winners = set(round_winners(view.scored))
    total_votes = sum(fr.votes for fr in ordered)
    for fr in ordered:
        share = f" ({100 * fr.votes / total_votes:.0f}%)" if total_votes else ""
        rows.append([
            esc(data.names.get(fr.finalist_id, fr.finalist_id)) + (" *" if fr.overridden else "")
            + (" " + tag("span", "round winner" if len(winners) == 1 else "tied first", cls="win")
               if fr.finalist_id in winners else ""),
            esc(view.round.labels.get(fr.finalist_id, "?")),
            component_cell(fr.llm), component_cell(fr.panel), component_cell(fr.audience),
            esc(f"{fr.votes}{share}"),
            esc(num(fr.points.get(Component.LLM), 2)), esc(num(fr.points.get(Component.PANEL), 2)),
            esc(num(fr.points.get(Component.AUDIENCE), 2)), tag("b", esc(num(fr.total, 2))),
        ])
    headers = ["Finalist", "Label", "LLM /100", "Panel /100", "Audience /100", "Votes",
               f"LLM pts ×{w.llm:g}", f"Panel pts ×{w.panel:g}", f"Audience pts ×{w.audience:g}", "Round total"]
    return table(headers, rows, numeric=range(2, 10))


def _timeline(data: ReportData, view: RoundView) -> str:
    votes = view.votes
    origin = votes.origin
    if origin is None:
        return tag("p", "No votes were cast in this round.", cls="muted")
    position = {f.id: i for i, f in enumerate(data.event.finalists)}
    series = [
        VoteSeries(data.names.get(fid, fid), colour(position.get(fid, 0)), [t - origin for t in times])
        for fid, times in sorted(view.votes.by_finalist.items(), key=lambda kv: position.get(kv[0], 99))
    ]
    counted = sum(len(s.offsets) for s in series)
    chart = vote_timeline(f"Round {view.round.id}: votes over time", series,
                          None if votes.deadline is None else votes.deadline - origin,
                          None if votes.closed_at is None else votes.closed_at - origin)
    note = (f"{counted} counted votes (the last vote of each device) from {votes.casts} received; time 0 is "
            + ("the poll opening." if votes.opened_at is not None else "the first vote."))
    return tag("figure", chart + tag("figcaption", esc(note)))


def _answer_text(answer: Answer | None) -> str:
    if answer is None:
        return tag("p", "No answer recorded.", cls="muted")
    tokens = f"{answer.tokens} tokens" if answer.tokens or not answer.text else "tokens not reported"
    meta = f"{answer.status} · first token {ms(answer.ttft_ms)} · total {ms(answer.total_ms)} · {tokens}"
    out = tag("div", esc(answer.text), cls="answer-text") + tag("p", esc(meta), cls="muted")
    if answer.error:
        out += tag("p", esc(f"Error: {answer.error}"), cls="warn")
    return out


def _judge_block(data: ReportData, view: RoundView, fid: str) -> str:
    j = view.judgments.get(fid)
    if j is None:
        return tag("p", "LLM judge: no judgment.", cls="muted")
    judge = view.judge_names.get(fid, "judge")
    if j.status is not JudgmentStatus.OK:
        return (tag("p", esc(f"LLM judge ({judge}) failed: {j.reason or 'no reason given'}"), cls="warn")
                + jury_block(data, j))
    crit = [c.id for c in data.event.rubric]
    scores = [esc(num(j.scores.get(c), 0)) for c in crit]
    mean = statistics.fmean(j.scores.values()) if j.scores else None
    head = tag("h5", esc(f"LLM judge ({judge})"))
    return (head + table([*crit, "mean"], [[*scores, esc(num(mean, 2))]], cls="grid small",
                         numeric=range(len(crit) + 1))
            + tag("blockquote", esc(j.rationale or "(no rationale)"), cls="rationale") + jury_block(data, j))


def _panel_block(data: ReportData, view: RoundView, fid: str) -> str:
    crit = [c.id for c in data.event.rubric]
    rows = []
    for s in view.panel:
        if s.finalist_id != fid:
            continue
        mean = statistics.fmean(s.scores.values()) if s.scores else None
        rows.append([esc(data.panelists.get(s.panelist_id, s.panelist_id)),
                     *[esc(num(s.scores.get(c), 0)) for c in crit], esc(num(mean, 2))])
    if not rows:
        return tag("h5", "Panel") + tag("p", "No panel scores.", cls="muted")
    return tag("h5", "Panel") + table(["Panelist", *crit, "mean"], rows, cls="grid small",
                                      numeric=range(1, len(crit) + 2))


def _answer_card(data: ReportData, view: RoundView, fid: str) -> str:
    name = data.names.get(fid, fid)
    label = view.round.labels.get(fid, "?")
    fr = view.scored.get(fid)
    settings = view.settings.get(fid)
    parts = [tag("h4", esc(f"{name} (answer {label})"))]
    if settings is not None:
        parts.append(tag("p", esc(f"Settings v{settings.version}: temperature {settings.temperature:g}, "
                                  f"max tokens {settings.max_tokens}; system prompt: {settings.system_prompt!r}"),
                         cls="muted"))
    parts.append(_answer_text(view.answers.get(fid)))
    parts.append(tag("div", tag("div", _judge_block(data, view, fid)) + tag("div", _panel_block(data, view, fid)),
                     cls="verdicts"))
    if fr is not None:
        parts.append(tag("p", esc(f"Audience: {fr.votes} votes, component ") + component_cell(fr.audience)))
    for d in view.disputes:
        if d.finalist_id == fid:
            state = "resolved" if d.resolved else "open"
            parts.append(tag("p", esc(f"Dispute ({d.kind}, {state}): {d.reason}"), cls="warn"))
    parts.append(judge_flags(view, fid))
    return tag("article", "".join(parts), cls="answer")


def round_section(data: ReportData, view: RoundView) -> str:
    """One round: what was asked, the scores, the vote timeline, and every answer in full."""
    rnd = view.round
    facts = [
        ("Question", rnd.question_id or ("unseen: a question from the audience" if rnd.from_audience
                                         else "unseen (typed live)")),
        ("Expected", view.expected or "–"),
        ("Phase", str(rnd.phase) + ("" if rnd.phase is Phase.FINAL else " (not counted in the standings)")),
        ("Poll", f"opened {when(rnd.vote_opened_at)}, deadline {when(rnd.vote_deadline)}, "
                 f"closed {when(view.votes.closed_at)}"),
    ]
    dl = "".join(tag("dt", esc(k)) + tag("dd", esc(v)) for k, v in facts)
    answers = "".join(_answer_card(data, view, f.id) for f in data.event.finalists if f.id in rnd.labels)
    reference = ""
    if view.reference is not None:
        ref_name = data.config.reference.name if data.config.reference else "Reference"
        reference = tag("article", tag("h4", esc(f"{ref_name} · benchmark, not ranked"))
                        + _answer_text(view.reference), cls="answer reference")
    return tag(
        "section",
        tag("h2", esc(f"Round {rnd.id}")) + tag("p", esc(rnd.prompt), cls="prompt") + tag("dl", dl, cls="facts")
        + tag("h3", "Scores") + _scores_table(data, view)
        + (tag("p", esc(view.agreement.describe(f"round {rnd.id}")), cls="muted") if view.agreement else "")
        + tag("h3", "Vote timeline") + _timeline(data, view)
        + tag("h3", "Answers") + answers + reference,
        cls="round", id=f"round-{rnd.id}",
    )
