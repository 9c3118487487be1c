"""What the judging screen says about the LLM judge itself: the head-to-head, each judge's scores, its flags.

Rendered from the snapshot with the core's rules (core.headtohead, core.lengthbias),
so the console says what the report and the stage say. Judge text is untrusted:
shown as plain Text, never markup.
"""

from __future__ import annotations

from rich.text import Text

from finale.core.headtohead import beat_reference, win_rates
from finale.core.lengthbias import length_bias
from finale.core.model import Judgment
from finale.core.text import inert, one_line
from finale.tui.state import ShowSnapshot


def head_to_head_line(snapshot: ShowSnapshot, show_names: bool) -> Text:
    """`Head to head with <reference>, both orders: this round A, C beat it · over the show: Ray 2 of 3 ...`.

    Rates by name count only revealed rounds unless the MC shows names (a rate must not tell who a label is).
    """
    ref = snapshot.config.reference
    if ref is None or not ref.head_to_head:
        return Text("")
    line = Text(f"Head to head with {ref.name}, both orders", style="bold")
    rec = snapshot.current
    if rec is not None:
        heads = {fid: j.head_to_head for fid, j in rec.judgments.items() if j.head_to_head is not None}
        if heads:
            won = [snapshot.names[f] if show_names else rec.round.labels.get(f, "?")
                   for f in beat_reference(rec.judgments, rec.round.labels)]
            sensitive = sum(h.order_sensitive for h in heads.values())
            line.append(": this round " + (", ".join(won) + " beat it" if won else "nobody beat it"))
            if sensitive:
                line.append(f" ({sensitive} order-sensitive tie{'s' if sensitive > 1 else ''})", style="magenta")
    rates = win_rates(snapshot.records, snapshot.event.finalist_ids, revealed_only=not show_names)
    if any(r.judged for r in rates.values()):
        line.append(" · win rate over the show: " + ", ".join(
            f"{snapshot.names[fid]} {r.text}" for fid, r in rates.items() if r.judged))
    if ref.head_to_head_weight > 0:
        line.append(f" · {ref.head_to_head_weight:.0%} of the LLM score", style="dim")
    return line


def flag_words(snapshot: ShowSnapshot, fid: str) -> list[str]:
    """Short words for the flags column: `jury` (a member dropped out, the jury disagrees), `length`."""
    rec = snapshot.current
    if rec is None:
        return []
    j = rec.judgments.get(fid)
    words = ["jury"] if j is not None and j.flags else []
    if any(b.finalist_id == fid for b in length_bias(snapshot.event, rec)):
        words.append("length")
    return words


def judge_detail(snapshot: ShowSnapshot, fid: str) -> Text:
    """Each judge model's own scores (a jury of several), the head-to-head, and every flag in full."""
    out = Text()
    rec = snapshot.current
    j: Judgment | None = rec.judgments.get(fid) if rec is not None else None
    if rec is None or j is None:
        return out
    criteria = snapshot.event.criterion_ids
    if len(j.jurors) > 1:
        for juror in j.jurors:
            out.append(f"\n  {one_line(juror.judge)}: ", style="bold")
            if juror.ok:
                out.append(" ".join(f"{c} {juror.scores.get(c, 0):g}" for c in criteria))
            else:
                out.append("dropped out: " + one_line(juror.reason or "no reason given"), style="yellow")
    if j.head_to_head is not None:
        out.append("\nHead to head with the reference: ", style="bold")
        out.append(inert(j.head_to_head.text), style="magenta" if j.head_to_head.order_sensitive else "")
    for flag in j.flags:
        out.append(f"\n⚑ jury: {one_line(flag)}", style="bold magenta")
    for bias in length_bias(snapshot.event, rec):
        if bias.finalist_id == fid:
            out.append(f"\n⚑ {bias.reason}", style="bold magenta")
    return out
