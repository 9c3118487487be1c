"""Scores, totals, standings, blockers and disputes: computed here and nowhere else.

Components are on a 0-100 scale:
- LLM: mean of the judge's criterion scores (0-10) times 10; with a jury, each
  criterion's score is the mean (or median) of its members' (aggregate_jury);
- panel: mean over panelists of each panelist's mean criterion score, times 10
  (optionally z-normalised per panelist within the round);
- audience: the finalist's share of the round's votes, times 100.
A round total is the weighted sum. A waived component drops out and the other
weights are scaled up to sum to 1 again, so a waiver neither rewards nor
punishes. A panelist waived for a round leaves the panel: it is the mean of the
other panelists (with every panelist waived, the panel is waived). Standings
sum the totals of final rounds; ties follow core.ranking (panel points, then
LLM points, then more votes, then the lower median latency).
What blocks a round is in core.blockers, disputes in core.disputes.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from finale.core.discount import VoteGroup, discounted_counts
from finale.core.headtohead import blend
from finale.core.model import (
    Answer,
    Component,
    Decision,
    Event,
    Judgment,
    JudgmentStatus,
    JurorVerdict,
    Override,
    OverrideAction,
    PanelScore,
    Phase,
    Round,
    Weights,
)
from finale.core.ranking import rank, tie_key

WEIGHT_TOLERANCE = 1e-6


class ScoringError(ValueError):
    """Raised for inputs the scoring rules refuse (bad weights, bad overrides)."""


def validate_weights(weights: Weights) -> Weights:
    """Refuse negative weights or weights that do not sum to 1."""
    values = (weights.llm, weights.panel, weights.audience)
    if any(v < 0 for v in values):
        raise ScoringError(f"weights must not be negative; got llm={weights.llm}, panel={weights.panel}, "
                           f"audience={weights.audience}")
    total = sum(values)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise ScoringError(f"weights must sum to 1; got {total:g} (llm={weights.llm}, panel={weights.panel}, "
                           f"audience={weights.audience})")
    return weights


@dataclass(frozen=True)
class RoundRecord:
    """Everything the store knows about one round that scoring needs."""

    round: Round
    answers: Mapping[str, Answer] = field(default_factory=dict)
    judgments: Mapping[str, Judgment] = field(default_factory=dict)
    panel_scores: Sequence[PanelScore] = ()
    votes: Mapping[str, int] = field(default_factory=dict)
    overrides: Sequence[Override] = ()
    decisions: Sequence[Decision] = ()  # the head judge's rulings that change no score (core.disputes)
    # the counted votes by label, origin and credential issue time: loaded when a discount stands (core.discount)
    vote_groups: Sequence[VoteGroup] | None = None


@dataclass(frozen=True)
class ComponentValue:
    """One component for one finalist: the value used and where it came from."""

    value: float | None
    original: float | None
    overridden: bool = False
    waived: bool = False
    override_id: int | None = None
    left_out: frozenset[str] = frozenset()  # panelists waived for this round: the value is the others' mean

    @property
    def present(self) -> bool:
        return self.waived or self.value is not None


@dataclass(frozen=True)
class FinalistRound:
    """A finalist's scored round: components, weighted points and total."""

    finalist_id: str
    llm: ComponentValue
    panel: ComponentValue
    audience: ComponentValue
    votes: int
    latency_ms: float | None
    points: dict[Component, float]
    total: float | None

    def component(self, component: Component) -> ComponentValue:
        return {Component.LLM: self.llm, Component.PANEL: self.panel, Component.AUDIENCE: self.audience}[
            component
        ]

    @property
    def overridden(self) -> bool:
        return any(c.overridden or c.waived or c.left_out for c in (self.llm, self.panel, self.audience))


def llm_component(judgment: Judgment | None, head_to_head_weight: float = 0.0) -> float | None:
    """Mean criterion score (the jury's, aggregate_jury) times 10; None when the judgment is missing or failed.

    An event that feeds the head-to-head with the reference into it blends it in (core.headtohead.blend).
    """
    if judgment is None or judgment.status is not JudgmentStatus.OK or not judgment.scores:
        return None
    return blend(statistics.fmean(judgment.scores.values()) * 10.0, judgment.head_to_head, head_to_head_weight)


@dataclass(frozen=True)
class JuryScores:
    """What a jury's verdicts add up to: scores per criterion (None below the quorum), spread, flags, why."""

    scores: dict[str, float] | None
    spread: dict[str, float]
    flags: tuple[str, ...]
    reason: str | None = None


def aggregate_jury(jurors: Sequence[JurorVerdict], criterion_ids: Sequence[str], aggregation: str = "mean",
                   quorum: int = 1, margin: float = 3.0) -> JuryScores:
    """Per criterion the mean (or median) of the jury members that answered, once `quorum` of them did.

    A member that failed drops out with a flag, so one throttled model does not fail the judgment;
    the spread (highest minus lowest score) per criterion is kept, and flagged past `margin`.
    """
    usable = [j.ok and all(c in j.scores for c in criterion_ids) for j in jurors]
    answered = [j for j, ok in zip(jurors, usable, strict=True) if ok]
    flags = [f"{j.judge} dropped out: {j.reason or 'no usable scores'}"
             for j, ok in zip(jurors, usable, strict=True) if not ok]
    if len(answered) < max(1, quorum):
        reason = jurors[0].reason if len(jurors) == 1 else (
            f"{len(answered)} of {len(jurors)} judge models answered, short of the quorum of {max(1, quorum)}: "
            + "; ".join(flags))
        return JuryScores(None, {}, tuple(flags), reason or "the judge gave no usable scores")
    pick = statistics.median if aggregation == "median" else statistics.fmean
    scores: dict[str, float] = {}
    spread: dict[str, float] = {}
    for c in criterion_ids:
        values = [j.scores[c] for j in answered]
        scores[c], spread[c] = float(pick(values)), max(values) - min(values)
        if spread[c] > margin:
            flags.append(f"judges disagree on {c}: {min(values):g} to {max(values):g}")
    return JuryScores(scores, spread if len(answered) > 1 else {}, tuple(flags))


def panel_components(
    scores: Iterable[PanelScore], finalist_ids: Sequence[str], z_normalise: bool = False,
    left_out: Mapping[str, frozenset[str]] | None = None,
) -> dict[str, float | None]:
    """Panel component per finalist, from every panelist's criterion scores but those `left_out` (waived)."""
    per_panelist: dict[str, dict[str, float]] = {}
    for s in scores:
        if left_out and s.panelist_id in left_out.get(s.finalist_id, ()):
            continue
        if s.finalist_id in finalist_ids and s.scores:
            per_panelist.setdefault(s.panelist_id, {})[s.finalist_id] = statistics.fmean(s.scores.values())
    if z_normalise:
        per_panelist = _z_normalised(per_panelist)
    result: dict[str, float | None] = {}
    for fid in finalist_ids:
        means = [by_f[fid] for by_f in per_panelist.values() if fid in by_f]
        result[fid] = statistics.fmean(means) * 10.0 if means else None
    return result


def _z_normalised(per_panelist: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Map each panelist's means onto the pooled mean and spread, so a harsh marker counts the same."""
    pooled = [v for by_f in per_panelist.values() for v in by_f.values()]
    if len(pooled) < 2:
        return per_panelist
    pooled_mean = statistics.fmean(pooled)
    pooled_sd = statistics.pstdev(pooled)
    out: dict[str, dict[str, float]] = {}
    for panelist, by_f in per_panelist.items():
        values = list(by_f.values())
        mean = statistics.fmean(values)
        sd = statistics.pstdev(values) if len(values) > 1 else 0.0
        out[panelist] = {
            fid: min(10.0, max(0.0, pooled_mean + ((v - mean) / sd) * pooled_sd if sd > 0 else pooled_mean))
            for fid, v in by_f.items()
        }
    return out


def audience_components(votes: Mapping[str, int], finalist_ids: Sequence[str]) -> dict[str, float | None]:
    """Share of the round's votes times 100; None for everyone when nobody voted."""
    counted = {fid: max(0, votes.get(fid, 0)) for fid in finalist_ids}
    total = sum(counted.values())
    if total == 0:
        return {fid: None for fid in finalist_ids}
    return {fid: 100.0 * n / total for fid, n in counted.items()}


def active_overrides(overrides: Iterable[Override]) -> dict[tuple[str, Component], Override]:
    """The override in force per (finalist, component): the latest one not reverted (of a whole component)."""
    current: dict[tuple[str, Component], Override] = {}
    for o in sorted(overrides, key=lambda o: o.id):
        if not o.reverted and o.action is not OverrideAction.DISCOUNT and o.panelist_id is None:
            current[(o.finalist_id, o.component)] = o
    return current


def waived_panelists(overrides: Iterable[Override]) -> dict[str, frozenset[str]]:
    """Per finalist, the panelists waived for the round: their scores leave the panel, nobody waits for them."""
    out: dict[str, set[str]] = {}
    for o in overrides:
        if o.panelist_id is not None and not o.reverted:
            out.setdefault(o.finalist_id, set()).add(o.panelist_id)
    return {fid: frozenset(p) for fid, p in out.items()}


def _panel_value(event: Event, fid: str, counted: float | None, left_out: frozenset[str],
                 overrides: Sequence[Override], whole: Override | None) -> ComponentValue:
    """The panel component: a whole-component override first; else the counted panelists' mean (all waived: waived)."""
    if whole is not None or not left_out:
        return _apply(counted, whole)
    latest = max(o.id for o in overrides if o.panelist_id is not None and o.finalist_id == fid and not o.reverted)
    if {p.id for p in event.panelists} <= left_out:
        return ComponentValue(None, None, waived=True, override_id=latest, left_out=left_out)
    return ComponentValue(counted, counted, override_id=latest, left_out=left_out)


def validate_override(override: Override) -> Override:
    """Refuse an override without a reason or actor, or with a value off the 0-100 scale."""
    if not override.reason.strip():
        raise ScoringError("an override needs a reason")
    if not override.actor.strip():
        raise ScoringError("an override needs an actor (who decided it)")
    if override.action is OverrideAction.DISCOUNT:
        if override.component is not Component.AUDIENCE or override.discount is None or override.value is not None:
            raise ScoringError("a discount removes audience votes: it names which (an origin or a minting window) "
                               "and carries no value")
    elif override.panelist_id is not None:
        if override.component is not Component.PANEL or override.action is not OverrideAction.WAIVE:
            raise ScoringError("a panelist is only ever waived (their scores leave the panel for that finalist)")
        if override.value is not None:
            raise ScoringError("a waiver carries no value")
    elif override.action is OverrideAction.REPLACE:
        if override.value is None or not 0.0 <= override.value <= 100.0:
            raise ScoringError(f"a replacement value must be between 0 and 100; got {override.value}")
    elif override.value is not None:
        raise ScoringError("a waiver carries no value")
    return override


def _apply(original: float | None, override: Override | None) -> ComponentValue:
    if override is None:
        return ComponentValue(value=original, original=original)
    if override.action is OverrideAction.WAIVE:
        return ComponentValue(value=None, original=original, waived=True, override_id=override.id)
    return ComponentValue(value=override.value, original=original, overridden=True, override_id=override.id)


def counted_votes(record: RoundRecord) -> tuple[Mapping[str, int], int | None]:
    """The round's votes per finalist once the standing discounts are applied, and the newest discount's id."""
    standing = [o for o in record.overrides if o.action is OverrideAction.DISCOUNT and not o.reverted and o.discount]
    if not standing:
        return record.votes, None
    if record.vote_groups is None:
        raise ScoringError(f"round {record.round.id} has a discount but its vote groups were not loaded")
    counts = discounted_counts(record.vote_groups, [o.discount for o in standing if o.discount],
                               record.round.labels)
    return counts, max(o.id for o in standing)


def _discounted(value: ComponentValue, before: float | None, discount_id: int | None) -> ComponentValue:
    """The audience value marked as overridden by a discount (a replace or waive of it takes precedence)."""
    if discount_id is None or value.overridden or value.waived:
        return value
    return ComponentValue(value=value.value, original=before, overridden=True, override_id=discount_id)


def round_total(
    components: Mapping[Component, ComponentValue], weights: Weights
) -> tuple[dict[Component, float], float | None]:
    """Weighted points per component and the total; None while a component is missing."""
    live = {c: v for c, v in components.items() if not v.waived}
    if any(v.value is None for v in live.values()):
        return {}, None
    weight_sum = sum(weights.of(c) for c in live)
    if weight_sum <= 0:
        return {c: 0.0 for c in components}, 0.0
    points = {c: (weights.of(c) / weight_sum) * v.value for c, v in live.items() if v.value is not None}
    for c in components:
        points.setdefault(c, 0.0)
    return points, sum(points.values())


def score_round(event: Event, record: RoundRecord) -> dict[str, FinalistRound]:
    """Every finalist's components, points and total for one round."""
    fids = list(event.finalist_ids)
    left_out = waived_panelists(record.overrides)
    panel = panel_components(record.panel_scores, fids, event.z_normalise_panel, left_out)
    votes, discount_id = counted_votes(record)
    audience = audience_components(votes, fids)
    before = audience_components(record.votes, fids) if discount_id is not None else audience
    overrides = active_overrides(record.overrides)
    out: dict[str, FinalistRound] = {}
    for fid in fids:
        comps = {
            Component.LLM: _apply(llm_component(record.judgments.get(fid), event.head_to_head_weight),
                                  overrides.get((fid, Component.LLM))),
            Component.PANEL: _panel_value(event, fid, panel[fid], left_out.get(fid, frozenset()), record.overrides,
                                          overrides.get((fid, Component.PANEL))),
            Component.AUDIENCE: _discounted(_apply(audience[fid], overrides.get((fid, Component.AUDIENCE))),
                                            before[fid], discount_id),
        }
        points, total = round_total(comps, event.weights)
        answer = record.answers.get(fid)
        out[fid] = FinalistRound(
            finalist_id=fid,
            llm=comps[Component.LLM],
            panel=comps[Component.PANEL],
            audience=comps[Component.AUDIENCE],
            votes=votes.get(fid, 0),
            latency_ms=answer.total_ms if answer is not None else None,
            points=points,
            total=total,
        )
    return out


@dataclass(frozen=True)
class Standing:
    """A finalist's place in the overall standings, with the 40/40/20 breakdown."""

    rank: int
    finalist_id: str
    total: float
    points: dict[Component, float]
    votes: int
    median_latency_ms: float | None
    rounds: int
    overridden: bool
    tied: bool = False


def standings(event: Event, records: Iterable[RoundRecord]) -> list[Standing]:
    """Overall standings over final rounds, ranked by total then the tie-breaks."""
    totals = {fid: 0.0 for fid in event.finalist_ids}
    points = {fid: {c: 0.0 for c in Component} for fid in event.finalist_ids}
    votes = {fid: 0 for fid in event.finalist_ids}
    latencies: dict[str, list[float]] = {fid: [] for fid in event.finalist_ids}
    overridden = {fid: False for fid in event.finalist_ids}
    rounds = 0
    for record in records:
        if record.round.phase is not Phase.FINAL:
            continue
        rounds += 1
        for fid, fr in score_round(event, record).items():
            totals[fid] += fr.total or 0.0
            for c, p in fr.points.items():
                points[fid][c] += p
            votes[fid] += fr.votes
            if fr.latency_ms is not None:
                latencies[fid].append(fr.latency_ms)
            overridden[fid] = overridden[fid] or fr.overridden
    unranked = [
        Standing(
            rank=0, finalist_id=fid, total=totals[fid], points=points[fid], votes=votes[fid],
            median_latency_ms=statistics.median(latencies[fid]) if latencies[fid] else None,
            rounds=rounds, overridden=overridden[fid],
        )
        for fid in event.finalist_ids
    ]
    ranked = rank(unranked, lambda s: tie_key(s.total, s.points, s.votes, s.median_latency_ms),
                  lambda s: s.finalist_id)
    return [replace(s, rank=r.rank, tied=r.tied) for s, r in ranked]
