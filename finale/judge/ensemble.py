"""Several judge models on the same answer: scores averaged, disagreement flagged for the head judge."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from finale.judge.base import Judge, JudgeRequest, JudgeVerdict


class EnsembleJudge:
    """Averages the judges that answered; a criterion whose scores spread more than `disagreement` is flagged."""

    def __init__(self, judges: Sequence[Judge], disagreement: float = 3.0) -> None:
        self.judges = list(judges)
        self.disagreement = disagreement
        self.name = "+".join(j.name for j in self.judges)

    async def judge(self, request: JudgeRequest) -> JudgeVerdict:
        verdicts = await asyncio.gather(*(j.judge(request) for j in self.judges))
        raw = json.dumps({j.name: {"ok": v.ok, "scores": v.scores, "rationale": v.rationale, "reason": v.reason,
                                   "raw": v.raw} for j, v in zip(self.judges, verdicts, strict=True)},
                         ensure_ascii=False)
        ok = [v for v in verdicts if v.ok]
        if not ok:
            reasons = "; ".join(f"{j.name}: {v.reason}" for j, v in zip(self.judges, verdicts, strict=True))
            return JudgeVerdict(False, reason=f"every judge model failed: {reasons}", raw=raw)
        scores, flags = {}, []
        for c in request.criteria:
            values = [v.scores[c.id] for v in ok]
            scores[c.id] = sum(values) / len(values)
            if max(values) - min(values) > self.disagreement:
                flags.append(f"judges disagree on {c.id}: {min(values):g} to {max(values):g}")
        rationale = ok[0].rationale
        if len(ok) < len(verdicts):
            rationale += f" ({len(ok)} of {len(verdicts)} judge models answered)"
        if flags:
            rationale += " [" + "; ".join(flags) + "]"
        return JudgeVerdict(True, scores, rationale.strip(), raw=raw, flags=tuple(flags))

    async def aclose(self) -> None:
        for j in self.judges:
            await j.aclose()
