"""Scripted finalists for dry runs and the demo: real streaming, realistic timing, no network."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator

from finale.config import RehearsalEndpoint
from finale.demo.script import Script
from finale.providers.base import GenerationRequest, ProviderError, StreamEvent, TextDelta, Usage


class RehearsalProvider:
    """Streams a scripted answer token by token, with seeded jitter on its timing.

    `time_scale` stretches every delay (0 makes it instant, for tests).
    """

    def __init__(self, name: str, spec: RehearsalEndpoint, script: Script, seed: int = 0,
                 time_scale: float = 1.0) -> None:
        self.name = name
        self.spec = spec
        self.script = script
        self.seed = seed
        self.time_scale = time_scale

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        rng = random.Random(f"{self.seed}:{self.name}:{request.round_id}:{request.question_id}")
        text = self.script.answer(self.spec.style, request.question_id)
        tokens = re.findall(r"\S+\s*|\s+", text)[: request.max_tokens]
        ttft = self.spec.ttft_ms * rng.uniform(0.8, 1.25) / 1000.0
        per_token = 1.0 / (self.spec.tokens_per_s * rng.uniform(0.85, 1.15))
        await self._sleep(ttft)
        if self.spec.fail == "error":
            raise ProviderError("rehearsal endpoint scripted to fail (HTTP 500 from the model server)")
        if self.spec.fail == "timeout":
            await asyncio.sleep(3600)
        for token in tokens:
            yield TextDelta(token)
            await self._sleep(per_token)
        yield Usage(len(tokens))

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.time_scale if self.time_scale > 0 else 0)

    async def aclose(self) -> None:
        return None
