"""Answers flagged for the head judge: the checker disagrees with the judge, or judge and panel are far apart."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from finale.core.checks import check_answer
from finale.core.model import AnswerStatus, Event
from finale.core.scoring import RoundRecord, score_round


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
            out.append(Dispute(fid, DisputeKind.GAP, f"judge {llm:.0f} vs panel {panel:.0f}: gap "
                               f"{abs(llm - panel):.0f} > margin {event.dispute_margin:g}",
                               resolved or fr.panel.overridden))
    return out
