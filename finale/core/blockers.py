"""What keeps a round from being final, as typed values the console can act on.

Each blocker names its kind and finalist, so the console can offer the fix
beside it (re-judge, waive, wait for a panelist) without reading the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from finale.core.model import Event, Phase
from finale.core.phases import can_reveal, is_settled
from finale.core.scoring import RoundRecord, score_round


class BlockerKind(StrEnum):
    """Why a round cannot be made final."""

    VOID = "void"  # the round is void: it is never final
    PHASE = "phase"  # the poll has not closed yet
    LLM = "llm"  # the LLM judge's score is missing or failed
    PANEL = "panel"  # a panelist has not scored an answer
    AUDIENCE = "audience"  # nobody voted


@dataclass(frozen=True)
class Blocker:
    """One thing between a round and `final`; `text` says it in words the MC can act on."""

    kind: BlockerKind
    text: str
    finalist_id: str | None = None
    panelist_ids: tuple[str, ...] = ()  # the panelists still to score, for a PANEL blocker

    def __str__(self) -> str:
        return self.text


def blockers(event: Event, record: RoundRecord) -> list[Blocker]:
    """Everything that keeps the round from being final; empty when it may be."""
    rnd = record.round
    if rnd.phase is Phase.VOID:
        return [Blocker(BlockerKind.VOID, "the round is void")]
    out: list[Blocker] = []
    if not can_reveal(rnd.phase) and not is_settled(rnd.phase):
        out.append(Blocker(BlockerKind.PHASE, f"the round is {rnd.phase}; the poll must be closed first"))
    names = {f.id: f.name for f in event.finalists}
    scored = score_round(event, record)
    panel_by = {(s.finalist_id, s.panelist_id) for s in record.panel_scores if s.scores}
    for fid, fr in scored.items():
        name = f"{names[fid]} ({rnd.labels.get(fid, '?')})"
        if not fr.llm.present:
            j = record.judgments.get(fid)
            why = f"judgment failed: {j.reason}" if j is not None and j.reason else "no judgment yet"
            out.append(Blocker(BlockerKind.LLM, f"LLM judge: {name}: {why}", fid))
        if not fr.panel.waived and not fr.panel.overridden:  # a waived panelist is not waited for
            missing = [p for p in event.panelists if (fid, p.id) not in panel_by and p.id not in fr.panel.left_out]
            if missing:
                out.append(Blocker(BlockerKind.PANEL, f"panel: {name}: waiting for "
                                   f"{', '.join(p.name for p in missing)}", fid, tuple(p.id for p in missing)))
        if not fr.audience.present:
            out.append(Blocker(BlockerKind.AUDIENCE, f"audience: {name}: no votes cast", fid))
    return out
