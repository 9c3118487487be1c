"""The replay: the audit log, from an empty state, to every round's record (events in, state out).

`finale verify` gives it the `events` table and compares what comes out with
the tables the screens read (core.replay_check). Every kind that can change a
score is applied here; the kinds that cannot are declared (NO_SCORE_EFFECT,
and every `show.*` switch); any other kind is a problem the replay reports, not
one it skips, because it might change a score the tables then hold unexplained.
Each piece of state remembers the event that last wrote it, so a difference is
named by that event's sequence number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from finale.core.discount import VoteDiscount, VoteGroup
from finale.core.headtohead import HeadToHead, Pick
from finale.core.manifest import digest
from finale.core.model import (
    Answer,
    AnswerStatus,
    Component,
    Decision,
    DecisionKind,
    Judgment,
    JudgmentStatus,
    JurorVerdict,
    Override,
    OverrideAction,
    PanelScore,
    Phase,
    Round,
)
from finale.core.poll import votes_per_finalist
from finale.core.scoring import RoundRecord
from finale.core.show import assign_labels

REFERENCE_ID = "reference"  # the reference model's answers (finale.director.REFERENCE_ID): shown, never scored
# Moves of a round (Store.move_round): each carries the phase the round is in afterwards.
MOVE_KINDS = frozenset({"round.asked", "round.answered", "round.judging", "poll.opened", "poll.extended",
                        "poll.paused", "poll.resumed", "poll.closed", "round.final", "round.void", "round.revealed"})
# Kinds that change no score, no vote and no override: the replay reads past them.
NO_SCORE_EFFECT = frozenset({"settings.changed", "credentials.issued",
                             "votes.drain_refused", "redis.unreadable"})  # refused or unread at the drain: not stored
NO_SCORE_EFFECT_PREFIXES = ("show.", "question.", "questions.")  # switches, moments; questions from the floor


@dataclass(frozen=True)
class LoggedEvent:
    """One row of the audit log, as the store hands it over."""

    seq: int
    at: float
    actor: str
    kind: str
    round_id: int | None
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class CastVote:
    """A device's counted vote in a round."""

    label: str
    origin: str | None = None
    issued_at: float | None = None


@dataclass(frozen=True)
class Seal:
    """A manifest on the record (`seal.sealed` or `seal.changed`)."""

    seq: int
    kind: str
    sha256: str
    manifest: Mapping[str, Any]


@dataclass
class RoundState:
    """One round as the log (or the tables) say it is."""

    round: Round
    answers: dict[str, Answer] = field(default_factory=dict)
    reference: Answer | None = None
    judgments: dict[str, Judgment] = field(default_factory=dict)
    panel: dict[tuple[str, str], PanelScore] = field(default_factory=dict)  # (finalist, panelist)
    votes: dict[str, CastVote] = field(default_factory=dict)  # device id -> counted vote
    overrides: dict[int, Override] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)

    def record(self) -> RoundRecord:
        """What scoring needs (core.scoring.RoundRecord), with the vote groups a discount needs."""
        by_label = Counter(v.label for v in self.votes.values())
        groups = Counter((v.label, v.origin, v.issued_at) for v in self.votes.values())
        return RoundRecord(
            round=self.round, answers=dict(self.answers), judgments=dict(self.judgments),
            panel_scores=[self.panel[k] for k in sorted(self.panel, key=lambda k: (k[1], k[0]))],
            votes=votes_per_finalist(dict(by_label), self.round.labels),
            overrides=[self.overrides[i] for i in sorted(self.overrides)], decisions=list(self.decisions),
            vote_groups=[VoteGroup(label, origin, at, n) for (label, origin, at), n in groups.items()],
        )


@dataclass(frozen=True)
class Problem:
    """An event the replay could not apply, or a hole in the log."""

    seq: int | None
    what: str


@dataclass
class ShowState:
    """The show as replayed: rounds, seals, and which event last wrote each piece of state."""

    rounds: dict[int, RoundState] = field(default_factory=dict)
    finalist_ids: tuple[str, ...] = ()
    seals: list[Seal] = field(default_factory=list)
    events: int = 0
    last_seq: int = 0
    written: dict[tuple[Any, ...], int] = field(default_factory=dict)  # ("vote", round, device) -> seq
    problems: list[Problem] = field(default_factory=list)

    def round_seq(self, round_id: int) -> int | None:
        """The last event that wrote anything of a round (what a difference in its scores is named by)."""
        seqs = [seq for key, seq in self.written.items() if len(key) > 1 and key[1] == round_id]
        return max(seqs) if seqs else None


def replay(events: Iterable[LoggedEvent]) -> ShowState:
    """Apply the log in order to an empty show."""
    state = ShowState()
    ordered = sorted(events, key=lambda e: e.seq)
    resets = [e.seq for e in ordered if e.kind == "rehearsal.reset"]
    for event in ordered:
        # a rehearsal reset deletes the earlier rounds' events: a hole before a reset is that, any other is not
        if event.seq != state.last_seq + 1 and not any(r >= event.seq for r in resets):
            missing = (f"event {state.last_seq + 1} is" if event.seq == state.last_seq + 2
                       else f"events {state.last_seq + 1}-{event.seq - 1} are")
            state.problems.append(Problem(event.seq, f"{missing} missing from the log"))
        state.events += 1
        state.last_seq = event.seq
        try:
            _apply(state, event)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            state.problems.append(Problem(event.seq, f"{event.kind}: its payload cannot be replayed ({exc!r})"))
    return state


def _round(state: ShowState, event: LoggedEvent) -> RoundState:
    if event.round_id is None or event.round_id not in state.rounds:
        raise ValueError(f"no round {event.round_id} was created before it")
    return state.rounds[event.round_id]


def _apply(state: ShowState, event: LoggedEvent) -> None:
    """One event's effect on the show: one branch per kind, all in one place."""
    kind, p, seq = event.kind, event.payload, event.seq
    if kind in NO_SCORE_EFFECT or kind.startswith(NO_SCORE_EFFECT_PREFIXES):
        return
    if kind == "event.setup":
        state.finalist_ids = tuple(p["finalists"])
    elif kind in ("seal.sealed", "seal.changed"):
        state.seals.append(Seal(seq, kind, str(p["sha256"]), p["manifest"]))
        if digest(p["manifest"]) != p["sha256"]:
            state.problems.append(Problem(seq, f"{kind}: the manifest logged does not hash to the logged "
                                               f"{p['sha256']} (it hashes to {digest(p['manifest'])})"))
    elif kind == "rehearsal.reset":
        state.rounds.clear()
        state.written = {k: v for k, v in state.written.items() if k[0] not in _ROUND_KEYS}
    elif kind == "round.created":
        if event.round_id is None:
            raise ValueError("a round.created event without its round id")
        labels = p.get("labels") or assign_labels(state.finalist_ids, int(p["seed"]))
        state.rounds[event.round_id] = RoundState(Round(event.round_id, str(p["prompt"]), Phase.DRAFT,
                                                        p.get("question_id"), int(p["seed"]), dict(labels)))
        state.written[("round", event.round_id)] = seq
    elif kind in MOVE_KINDS:
        rs = _round(state, event)
        rs.round = replace(rs.round, phase=Phase(p["phase"]), revealed=rs.round.revealed or kind == "round.revealed")
        if kind == "round.revealed" and p.get("labels") not in (None, rs.round.labels):
            state.problems.append(Problem(seq, f"round {rs.round.id} was revealed with labels {p['labels']}, "
                                               f"not the {rs.round.labels} its seed gives"))
        state.written[("round", rs.round.id)] = seq
    elif kind == "answer.saved":
        _answer(state, _round(state, event), p, seq)
    elif kind == "judgment.saved":
        rs, fid = _round(state, event), str(p["finalist_id"])
        rs.judgments[fid] = _judgment(rs.round.id, fid, p)
        state.written[("judgment", rs.round.id, fid)] = seq
    elif kind == "panel.scored":
        rs, fid, pid = _round(state, event), str(p["finalist_id"]), str(p["panelist_id"])
        rs.panel[(fid, pid)] = PanelScore(rs.round.id, fid, pid, _scores(p["scores"]))
        state.written[("panel", rs.round.id, fid, pid)] = seq
    elif kind == "votes.recorded":
        _votes(state, _round(state, event), p, seq)
    elif kind == "override.added":
        _override(state, _round(state, event), p, event.actor, seq)
    elif kind == "override.reverted":
        rs, oid = _round(state, event), int(p["override_id"])
        if oid not in rs.overrides:
            raise ValueError(f"override {oid} was never added in round {rs.round.id}")
        rs.overrides[oid] = replace(rs.overrides[oid], reverted=True)
        state.written[("override", rs.round.id, oid)] = seq
    elif kind == "dispute.decided":
        rs = _round(state, event)
        rs.decisions.append(Decision(rs.round.id, str(p["finalist_id"]), DecisionKind(p["decision"]),
                                     str(p["reason"]), event.actor, p.get("llm"), p.get("panel"), seq))
    else:
        state.problems.append(Problem(seq, f"kind {kind!r} is unknown to the replay and may change a score "
                                           "(finale/core/replay.py must apply it, or declare it NO_SCORE_EFFECT)"))


_ROUND_KEYS = frozenset({"round", "answer", "reference", "judgment", "panel", "vote", "override"})


def _answer(state: ShowState, rs: RoundState, p: Mapping[str, Any], seq: int) -> None:
    fid = str(p["finalist_id"])
    answer = Answer(rs.round.id, fid, "", AnswerStatus(p["status"]), p.get("error"), _num(p.get("ttft_ms")),
                    _num(p.get("total_ms")), int(p.get("tokens") or 0))
    if p.get("reference") or fid == REFERENCE_ID:
        rs.reference = answer
        state.written[("reference", rs.round.id)] = seq
    else:
        rs.answers[fid] = answer
        state.written[("answer", rs.round.id, fid)] = seq


def _judgment(round_id: int, fid: str, p: Mapping[str, Any]) -> Judgment:
    """The aggregate the LLM component is scored from, each jury member's verdict and the head-to-head (which
    an event may blend into the component); a payload logged before juries has the aggregate only."""
    h = p.get("head_to_head")
    head = None if not h else HeadToHead(str(h["judge"]), _pick(h.get("finalist_first")),
                                         _pick(h.get("reference_first")), h.get("reason"))
    jurors = tuple(JurorVerdict(str(j["judge"]), j["status"] == "ok", _scores(j.get("scores")), reason=j.get("reason"))
                   for j in p.get("jury") or ())
    return Judgment(round_id, fid, JudgmentStatus(p["status"]), _scores(p.get("scores")), reason=p.get("reason"),
                    flags=tuple(p.get("flags") or ()), spread=_scores(p.get("spread")), jurors=jurors,
                    head_to_head=head)


def _scores(raw: Mapping[str, Any] | None) -> dict[str, float]:
    return {str(k): float(v) for k, v in (raw or {}).items()}


def _pick(value: str | None) -> Pick | None:
    return Pick(value) if value else None


def _votes(state: ShowState, rs: RoundState, p: Mapping[str, Any], seq: int) -> None:
    """One hub batch, in arrival order: a later vote of a device replaces its counted one (Store.decide_votes)."""
    rows = p["votes"]
    sources = p.get("sources") or [[None, None]] * len(rows)  # logged before votes kept their origin
    for row, (origin, issued_at) in zip(rows, sources, strict=True):
        device, label = str(row[0]), str(row[1])
        rs.votes[device] = CastVote(label, origin, _num(issued_at))
        state.written[("vote", rs.round.id, device)] = seq


def _override(state: ShowState, rs: RoundState, p: Mapping[str, Any], actor: str, seq: int) -> None:
    oid = int(p["override_id"])
    action = OverrideAction(p["action"])
    scope = p.get("scope")
    discount = VoteDiscount.from_json(scope) if action is OverrideAction.DISCOUNT and scope else None
    rs.overrides[oid] = Override(oid, rs.round.id, str(p["finalist_id"]), Component(p["component"]), action,
                                 str(p["reason"]), actor, _num(p.get("value")), False, discount,
                                 p.get("panelist_id"))
    state.written[("override", rs.round.id, oid)] = seq


def _num(value: Any) -> float | None:
    return None if value is None else float(value)
