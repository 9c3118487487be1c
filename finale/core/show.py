"""The round state machine: which phase may follow which, and why not otherwise.

Kept as data so the console can grey out keys that would be refused and the
refusal message can say exactly which transition was asked for. The poll's
own moves (open, pause, resume, extend, close) and the vote rule are in
core.poll; named phase questions in core.phases.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from dataclasses import replace

from finale.core.model import Phase, Round

LEGAL: dict[Phase, frozenset[Phase]] = {
    Phase.DRAFT: frozenset({Phase.ASKING, Phase.VOID}),
    # asking -> asking re-asks one finalist; answered -> asking retries one.
    Phase.ASKING: frozenset({Phase.ASKING, Phase.ANSWERED, Phase.VOID}),
    Phase.ANSWERED: frozenset({Phase.ASKING, Phase.JUDGING, Phase.VOID}),
    # judging -> judging re-judges one answer.
    Phase.JUDGING: frozenset({Phase.JUDGING, Phase.VOTING, Phase.VOID}),
    Phase.VOTING: frozenset({Phase.CLOSED, Phase.VOID}),
    Phase.CLOSED: frozenset({Phase.FINAL, Phase.JUDGING, Phase.VOID}),
    Phase.FINAL: frozenset({Phase.VOID}),
    Phase.VOID: frozenset(),
}

WHY_NOT: dict[Phase, str] = {
    Phase.DRAFT: "a round only starts as a draft",
    Phase.ASKING: "finalists can only be asked from a draft or re-asked before judging",
    Phase.ANSWERED: "a round is answered only after it was asked",
    Phase.JUDGING: "judging needs the answers in (or a closed poll, to re-judge)",
    Phase.VOTING: "the poll opens only after judging",
    Phase.CLOSED: "only an open poll can close",
    Phase.FINAL: "only a closed round with nothing blocking can be made final",
    Phase.VOID: "a void round stays void",
}


class IllegalTransition(ValueError):
    """Raised when the show is asked to move a round where the rules forbid."""

    def __init__(self, round_id: int, current: Phase, target: Phase, why: str) -> None:
        self.round_id = round_id
        self.current = current
        self.target = target
        self.why = why
        super().__init__(f"round {round_id}: cannot go from {current} to {target}: {why}")


def can_transition(current: Phase, target: Phase) -> bool:
    """True when the rules allow `current -> target`."""
    return target in LEGAL[current]


def transition(rnd: Round, target: Phase, blockers: Sequence[object] = ()) -> Round:
    """Return the round moved to `target`, or raise `IllegalTransition` saying why not.

    `blockers` are what keeps a round from being final (core.blockers.Blocker,
    shown by their text); a round with any is refused `final`.
    """
    if not can_transition(rnd.phase, target):
        why = "it is void" if rnd.phase is Phase.VOID else WHY_NOT[target]
        raise IllegalTransition(rnd.id, rnd.phase, target, why)
    if target is Phase.FINAL and blockers:
        raise IllegalTransition(rnd.id, rnd.phase, target, "still blocked by: " + "; ".join(str(b) for b in blockers))
    return replace(rnd, phase=target)


def assign_labels(finalist_ids: list[str] | tuple[str, ...], seed: int) -> dict[str, str]:
    """A fresh anonymous mapping finalist id -> label (A, B, ...), reproducible from the seed."""
    if len(finalist_ids) > len(string.ascii_uppercase):
        raise ValueError(f"at most 26 finalists can be labelled, got {len(finalist_ids)}")
    labels = list(string.ascii_uppercase[: len(finalist_ids)])
    random.Random(seed).shuffle(labels)
    return dict(zip(finalist_ids, labels, strict=True))


def finalist_for_label(labels: dict[str, str], label: str) -> str | None:
    """Reverse look-up of an anonymous label; None when the label is not in this round."""
    for finalist_id, lab in labels.items():
        if lab == label:
            return finalist_id
    return None


def freeze_settings(rnd: Round, versions: dict[str, int]) -> Round:
    """Record which prompt-settings version each finalist was asked with (first ask only)."""
    if rnd.settings_versions:
        return rnd
    return replace(rnd, settings_versions=dict(versions))
