"""The jury: every judge model of the event on each answer, each verdict kept, added up by the core's rule.

Each member scores the answer on its own (one call per answer, concurrently);
the scores per criterion are the mean or median of those that answered
(core.scoring.aggregate_jury, the one implementation), so a member that fails
drops out with a flag while the quorum holds. When the request carries the
reference model's answer, the head-to-head is judged too, both ways round, by
the first member that answers both orders (core.headtohead.combine decides).
A single judge model is a jury of one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from finale.core.headtohead import HeadToHead, Pick
from finale.core.model import JurorVerdict
from finale.core.scoring import aggregate_jury
from finale.core.text import one_line
from finale.judge.base import Better, Judge, JudgeRequest, JudgeVerdict, PairRequest, PairVerdict


def _pick(verdict: PairVerdict, finalist_first: bool) -> Pick | None:
    """Which answer won one call, by whose it is rather than where it was shown."""
    if not verdict.ok or verdict.better is None:
        return None
    if verdict.better is Better.TIE:
        return Pick.TIE
    return Pick.FINALIST if (verdict.better is Better.FIRST) == finalist_first else Pick.REFERENCE


class Jury:
    """The event's judge models as one judge; `judge` returns every member's verdict with the aggregate."""

    def __init__(self, members: Sequence[Judge], *, aggregation: str = "mean", quorum: int = 1,
                 margin: float = 3.0) -> None:
        if not members:
            raise ValueError("a jury needs at least one judge model")
        self.members = list(members)
        self.aggregation = aggregation
        self.quorum = quorum
        self.margin = margin
        self.name = "+".join(m.name for m in self.members)

    async def _one(self, member: Judge, request: JudgeRequest) -> JudgeVerdict:
        try:
            return await member.judge(request)
        except Exception as exc:  # one member's bug drops that member out, never the jury
            return JudgeVerdict(False, reason=one_line(f"{member.name}: {type(exc).__name__}: {exc}"))

    async def judge(self, request: JudgeRequest) -> JudgeVerdict:
        scoring = asyncio.gather(*(self._one(m, request) for m in self.members))
        if request.reference is None:
            verdicts, head = await scoring, None
        else:
            verdicts, head = await asyncio.gather(scoring, self.head_to_head(request, request.reference))
        jurors = tuple(JurorVerdict(m.name, v.ok, dict(v.scores) if v.ok else {}, v.rationale, v.reason, v.raw)
                       for m, v in zip(self.members, verdicts, strict=True))
        added = aggregate_jury(jurors, [c.id for c in request.criteria], self.aggregation, self.quorum, self.margin)
        raw = verdicts[0].raw if len(jurors) == 1 else json.dumps(
            {j.judge: {"ok": j.ok, "scores": j.scores, "reason": j.reason, "raw": j.raw} for j in jurors},
            ensure_ascii=False)
        if added.scores is None:
            return JudgeVerdict(False, reason=added.reason, raw=raw, flags=added.flags, jurors=jurors,
                                head_to_head=head)
        rationale = next(j.rationale for j in jurors if j.ok)
        return JudgeVerdict(True, added.scores, rationale, raw=raw, flags=added.flags, spread=added.spread,
                            jurors=jurors, head_to_head=head)

    async def compare(self, request: PairRequest) -> PairVerdict:
        return await self.members[0].compare(request)

    async def head_to_head(self, request: JudgeRequest, reference: str) -> HeadToHead:
        """The finalist's answer against the reference's, both orders, by the first member that answers both."""
        if not request.answer.strip():
            return HeadToHead(self.members[0].name, Pick.REFERENCE, Pick.REFERENCE, "no answer: a loss, not asked")
        first_failure: HeadToHead | None = None
        for member in self.members:
            result = await self._both_orders(member, request, reference)
            if result.outcome is not None:
                return result
            first_failure = first_failure or result
        assert first_failure is not None
        return first_failure

    async def _both_orders(self, member: Judge, request: JudgeRequest, reference: str) -> HeadToHead:
        def pair(finalist_first: bool) -> PairRequest:
            first, second = (request.answer, reference) if finalist_first else (reference, request.answer)
            return PairRequest(request.question, first, second, request.criteria, request.expected,
                               request.question_id, request.finalist_id, finalist_first)
        try:
            ahead, behind = await asyncio.gather(member.compare(pair(True)), member.compare(pair(False)))
        except Exception as exc:  # a member's bug is a failed head-to-head, never a stopped show
            return HeadToHead(member.name, None, None, one_line(f"{type(exc).__name__}: {exc}"))
        reasons = [v.reason for v in (ahead, behind) if not v.ok and v.reason]
        raw = json.dumps({"finalist_first": ahead.raw, "reference_first": behind.raw}, ensure_ascii=False)
        return HeadToHead(member.name, _pick(ahead, True), _pick(behind, False),
                          one_line("; ".join(reasons)) if reasons else None, raw)

    def answering_in_json(self) -> list[str]:
        """The members that answer in JSON, not through a forced tool call (refused, or set so)."""
        return [m.name for m in self.members if getattr(getattr(m, "loop", None), "tool", True) is False]

    async def aclose(self) -> None:
        for member in self.members:
            await member.aclose()
