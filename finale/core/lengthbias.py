"""Length bias: LLM judges tend to reward the longer answer; flag a round where the top score may be that.

A round is flagged when its highest LLM score (the judge's own, before any
override) goes to an answer much longer than the round's median answer: more
than `Event.length_bias_ratio` times as many characters (characters, because a
token count is not reported by every endpoint). It takes three answers to have
a median worth the name; a ratio of 0 turns the flag off. The flag asks the
head judge to read the answers; it settles nothing by itself.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from finale.core.model import AnswerStatus, Event
from finale.core.scoring import RoundRecord, score_round

MIN_ANSWERS = 3


@dataclass(frozen=True)
class LengthBias:
    """The round's top LLM score went to an answer `ratio` times the median length."""

    finalist_id: str
    llm: float
    chars: int
    median_chars: float
    threshold: float

    @property
    def ratio(self) -> float:
        return self.chars / self.median_chars if self.median_chars else float("inf")

    @property
    def reason(self) -> str:
        return (f"length bias? the top LLM score ({self.llm:.0f}) went to an answer of {self.chars} characters, "
                f"{self.ratio:.1f}x the round's median of {self.median_chars:.0f} (threshold {self.threshold:g}x)")


def length_bias(event: Event, record: RoundRecord) -> list[LengthBias]:
    """The answers holding the round's top LLM score that are over the threshold times the median length."""
    if event.length_bias_ratio <= 0:
        return []
    lengths = {fid: len(a.text) for fid, a in record.answers.items()
               if a.status is AnswerStatus.OK and a.text.strip() and fid in event.finalist_ids}
    if len(lengths) < MIN_ANSWERS:
        return []
    median = statistics.median(lengths.values())
    llm = {fid: fr.llm.original for fid, fr in score_round(event, record).items()
           if fid in lengths and fr.llm.original is not None}
    if not llm:
        return []
    top = max(llm.values())
    return [LengthBias(fid, value, lengths[fid], median, event.length_bias_ratio)
            for fid, value in sorted(llm.items()) if value == top and lengths[fid] > event.length_bias_ratio * median]
