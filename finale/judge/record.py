"""A jury's verdict as the judgment the store keeps: untrusted text made inert, each judge's verdict kept.

Everything a judge model returns (rationales, reasons, its error messages) is
untrusted text: it is made inert here, once, before the console, the report or
an export can show it.
"""

from __future__ import annotations

from dataclasses import replace

from finale.core.model import Judgment, JudgmentStatus, JurorVerdict
from finale.core.text import inert, one_line
from finale.judge.base import JudgeVerdict


def _juror(j: JurorVerdict) -> JurorVerdict:
    return replace(j, rationale=inert(j.rationale), reason=one_line(j.reason) if j.reason else None)


def to_judgment(round_id: int, finalist_id: str, verdict: JudgeVerdict, head_to_head_weight: float = 0.0) -> Judgment:
    """The judgment for one answer. When the event feeds the head-to-head into the LLM component
    (`head_to_head_weight` > 0), a head-to-head that did not come out fails the judgment, saying so."""
    head = verdict.head_to_head
    if head is not None:
        head = replace(head, reason=one_line(head.reason) if head.reason else None)
    ok, reason = verdict.ok, verdict.reason
    if ok and head_to_head_weight > 0 and head is not None and head.outcome is None:
        ok, reason = False, f"the head-to-head with the reference failed: {head.reason or 'no verdict'}"
    return Judgment(
        round_id, finalist_id, JudgmentStatus.OK if ok else JudgmentStatus.FAILED,
        dict(verdict.scores) if ok else {}, inert(verdict.rationale), one_line(reason) if reason else None,
        verdict.raw, tuple(one_line(f) for f in verdict.flags), dict(verdict.spread) if ok else {},
        tuple(_juror(j) for j in verdict.jurors), head)
