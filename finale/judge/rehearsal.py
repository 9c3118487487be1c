"""The scripted judge: scores from the rehearsal script, deliberately wrong on strawberry."""

from __future__ import annotations

import asyncio
import json
import random
import statistics

from finale.demo.script import Script
from finale.judge.base import Better, JudgeRequest, JudgeVerdict, PairRequest, PairVerdict

REFERENCE = "reference"  # the script's judge scores for the reference model (its default when it has none)
TOO_CLOSE = 0.5  # a mean score gap under this is too close to call: the scripted judge leans to the first shown


class RehearsalJudge:
    """Scores each answer from the script, with seeded jitter of at most one point."""

    name = "rehearsal"

    def __init__(self, script: Script, seed: int = 0, delay_ms: float = 250.0, time_scale: float = 1.0) -> None:
        self.script = script
        self.seed = seed
        self.delay_s = delay_ms / 1000.0 * max(time_scale, 0.0)

    async def judge(self, request: JudgeRequest) -> JudgeVerdict:
        await asyncio.sleep(self.delay_s)
        if not request.answer.strip():
            scores = {c.id: 0.0 for c in request.criteria}
            return JudgeVerdict(True, scores, "No answer was given.", raw=json.dumps(scores))
        base = self.script.judge_scores(request.finalist_id, request.question_id)
        rng = random.Random(f"{self.seed}:{request.finalist_id}:{request.question_id}")
        scores = {}
        for i, criterion in enumerate(request.criteria):
            value = base[i % len(base)] + rng.choice((-1, 0, 0, 1))
            scores[criterion.id] = float(min(10, max(0, value)))
        mean = sum(scores.values()) / len(scores)
        rationale = (f"Answer {request.label}: " + ("clear and correct." if mean >= 7 else
                     "partly convincing." if mean >= 5 else "the answer looks wrong or off-topic."))
        return JudgeVerdict(True, scores, rationale, raw=json.dumps({"scores": scores, "rationale": rationale}))

    async def compare(self, request: PairRequest) -> PairVerdict:
        """The better script score wins; too close to call, it prefers the first answer, as real judges do."""
        await asyncio.sleep(self.delay_s)
        gap = (statistics.fmean(self.script.judge_scores(request.finalist_id, request.question_id))
               - statistics.fmean(self.script.judge_scores(REFERENCE, request.question_id)))
        if abs(gap) < TOO_CLOSE:
            better, why = Better.FIRST, "Too close to call; the first answer reads slightly better."
        else:
            better = Better.FIRST if (gap > 0) == request.finalist_first else Better.SECOND
            why = f"Answer {better.value} is clearer and more accurate."
        return PairVerdict(True, better, why, raw=json.dumps({"better": better.value, "rationale": why}))

    async def aclose(self) -> None:
        return None
