"""Answers flagged for the head judge: the checker disagrees with the judge, or judge and panel are far apart.

A flag is settled by an override of the LLM score, or, for a gap, by a ruling that
the judge's score stands (`keep_judge`): on the record, with a reason, and good
for the two values it was made on; a re-judged answer or a revised panel score
raises the flag again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from finale.core.checks import check_answer
from finale.core.model import AnswerStatus, Decision, DecisionKind, Event
from finale.core.scoring import RoundRecord, score_round

SAME_VALUE = 0.005  # a ruling stands while both values it was made on are unchanged (to the shown precision)


class DisputeError(ValueError):
    """A ruling the dispute rules refuse (no open gap to rule on, no reason)."""


class DisputeKind(StrEnum):
    """Why an answer is flagged."""

    CHECKER = "checker"  # the question's checker and the LLM judge disagree on correctness
    GAP = "gap"  # the LLM and panel components differ by more than the event's margin


@dataclass(frozen=True)
class Dispute:
    """An answer flagged for the head judge, with the reason in plain words."""

    finalist_id: str
    kind: DisputeKind
    reason: str
    resolved: bool = False
    kept: bool = False  # settled by a ruling that the judge's score stands (not by an override)


def disputes(event: Event, record: RoundRecord) -> list[Dispute]:
    """Checker-vs-judge disagreements and judge-vs-panel gaps above the event's margin."""
    out: list[Dispute] = []
    question = None
    if record.round.question_id is not None:
        try:
            question = event.question(record.round.question_id)
        except KeyError:
            question = None
    scored = score_round(event, record)
    for fid, fr in scored.items():
        llm = fr.llm.original
        resolved = fr.llm.overridden or fr.llm.waived
        answer = record.answers.get(fid)
        if (
            question is not None and question.expected is not None and question.check
            and answer is not None and answer.status is AnswerStatus.OK and llm is not None
        ):
            correct = check_answer(question.check, question.expected, answer.text)
            if correct and llm < 50:
                out.append(Dispute(fid, DisputeKind.CHECKER, f"checker says correct (expected "
                                   f"{question.expected!r}); judge gave {llm:.0f}/100", resolved))
            elif not correct and llm >= 50:
                out.append(Dispute(fid, DisputeKind.CHECKER, f"checker says wrong (expected "
                                   f"{question.expected!r}); judge gave {llm:.0f}/100", resolved))
        panel = fr.panel.original
        if llm is not None and panel is not None and abs(llm - panel) > event.dispute_margin:
            kept = kept_judge(record.decisions, fid, llm, panel)
            overridden = resolved or fr.panel.overridden
            out.append(Dispute(fid, DisputeKind.GAP, f"judge {llm:.0f} vs panel {panel:.0f}: gap "
                               f"{abs(llm - panel):.0f} > margin {event.dispute_margin:g}",
                               overridden or kept, kept and not overridden))
    return out


def _same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) < SAME_VALUE


def kept_judge(decisions: Iterable[Decision], finalist_id: str, llm: float, panel: float) -> bool:
    """A keep-the-judge ruling on this answer, made on these same judge and panel values, settles its gap."""
    return any(d.kind is DecisionKind.KEEP_JUDGE and d.finalist_id == finalist_id
               and _same(d.llm, llm) and _same(d.panel, panel) for d in decisions)


def keep_judge(event: Event, record: RoundRecord, finalist_id: str, reason: str, actor: str) -> Decision:
    """The head judge's ruling that the judge's score stands on an open gap; DisputeError when there is none."""
    if not reason.strip():
        raise DisputeError("keeping the judge's score needs a reason (it goes on the record)")
    if not actor.strip():
        raise DisputeError("keeping the judge's score needs the name of who decided it")
    gap = next((d for d in disputes(event, record) if d.finalist_id == finalist_id and d.kind is DisputeKind.GAP),
               None)
    label = record.round.labels.get(finalist_id, finalist_id)
    if gap is None:
        raise DisputeError(f"answer {label} has no judge-vs-panel gap to rule on")
    if gap.resolved:
        raise DisputeError(f"answer {label}'s gap is already settled (an override or an earlier ruling)")
    fr = score_round(event, record)[finalist_id]
    return Decision(record.round.id, finalist_id, DecisionKind.KEEP_JUDGE, reason.strip(), actor.strip(),
                    fr.llm.original, fr.panel.original)
