"""The "next:" line above the footer: what the MC does next in this round, and which key does it.

Only words and keys live here; what blocks a round comes from finale.core
(`ShowSnapshot.blockers`, `disputes`), never from rules re-written here.
"""

from __future__ import annotations

from rich.text import Text

from finale.core.blockers import BlockerKind
from finale.core.model import AnswerStatus, JudgmentStatus, Phase
from finale.core.phases import answers_pending
from finale.director import REFERENCE_ID
from finale.tui.state import ShowSnapshot

WARN = "bold black on yellow"
KEY = "bold reverse"


def _steps(text: Text, *parts: str) -> Text:
    """Alternate plain words and keys: ("press ", "j", " to judge")."""
    for i, part in enumerate(parts):
        text.append(part, style=KEY if i % 2 else "")
    return text


def next_step(snapshot: ShowSnapshot | None) -> Text:
    """One line saying what to do now, with warnings (failed answers or judgments, disputes) first."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" next: ", style="bold")
    rec = snapshot.current if snapshot is not None else None
    if snapshot is None:
        return text.append("loading the show…")
    if rec is None or not snapshot.round_open:
        done = "" if rec is None else f"round {rec.round.id} is {rec.round.phase}. "
        if snapshot.next_question() is None:
            return _steps(text, done + "the deck is done: ", "1", " show screen, ", "a",
                          " to type an unseen question; ", "6", " standings to reveal the winner")
        return _steps(text, done + "on the show screen (", "1", ") press ", "n", " for the next question or ",
                      "a", " to type one")
    phase = rec.round.phase
    labels = rec.round.labels
    failed_answers = sorted(labels.get(fid, "?") for fid, a in rec.answers.items()
                            if fid != REFERENCE_ID and a.status in (AnswerStatus.ERROR, AnswerStatus.TIMEOUT))
    failed_judgments = sorted(labels.get(fid, "?") for fid, j in rec.judgments.items()
                              if j.status is JudgmentStatus.FAILED and fid in snapshot.scored
                              and not snapshot.scored[fid].llm.present)
    open_disputes = [f"{labels.get(d.finalist_id, '?')} {d.kind}" for d in snapshot.disputes if not d.resolved]
    if answers_pending(phase):
        return _steps(text, "answers are streaming on the round screen (", "2", "); wait for them, then ", "j",
                      " to judge")
    if failed_answers and phase is Phase.ANSWERED:
        text.append(f" failed: {', '.join(failed_answers)} ", style=WARN)
        return _steps(text, " ", "r", " re-asks them (or ←/→ and ", "e", " for one); ", "j",
                      " judges without them")
    if failed_judgments:
        text.append(f" judgment failed: {', '.join(failed_judgments)} ", style=WARN)
        _steps(text, " on ", "3", " select it, ", "e", " re-judge or ", "h", " score by hand · ")
    if open_disputes:
        text.append(f" ⚑ {', '.join(sorted(open_disputes))} ", style="bold white on magenta")
        _steps(text, " on ", "3", " select it, ", "o", " override · ")
    if phase is Phase.ANSWERED:
        return _steps(text, "press ", "j", " to run the LLM judge")
    if phase is Phase.JUDGING:
        return _steps(text, "on ", "5", " press ", "o", " to open the poll; panel scores on ", "4", " (", "i",
                      " types them)")
    if phase is Phase.VOTING:
        return _steps(text, "poll open on ", "5", ": ", "x", " +15 s, ", "c", " closes now (or let the countdown end)")
    blockers = [b for b in snapshot.blockers if b.kind is not BlockerKind.PHASE]
    if blockers:
        text.append(f" {len(blockers)} blocking final ", style=WARN)
        more = "; all of them on the show screen (1)" if len(blockers) > 1 else ""
        return text.append(" " + blockers[0].text + more)
    return _steps(text, "on ", "6", " press ", "f", f" to make round {rec.round.id} final")
