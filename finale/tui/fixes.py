"""The console's keys for what the MC does next, and the key that fixes each blocker.

Words and keys only: which blockers exist comes from finale.core.blockers (through
the snapshot); this module says which key on which screen answers each kind, so
the next-step line, the show screen and the standings screen name the same fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from finale.core.blockers import Blocker, BlockerKind
from finale.tui.state import ShowSnapshot

SCREEN_KEYS = {"show": "1", "round": "2", "judging": "3", "panel": "4", "voting": "5", "standings": "6",
               "audit": "7"}
AUDIENCE = "*audience"  # a waiver of the audience (no panelist id starts with "*"); else a panelist's id


@dataclass(frozen=True)
class Action:
    """One key on one of `screens` (the first is where the console goes when the MC is elsewhere)."""

    screens: tuple[str, ...]
    key: str
    words: str

    def keys(self, current: str) -> tuple[str, ...]:
        """What to press from the screen `current`: the screen's number first when the key is not on it."""
        if not self.screens or current in self.screens:
            return (self.key,)
        return (SCREEN_KEYS[self.screens[0]], self.key)


@dataclass(frozen=True)
class Fix:
    """The key that clears some blockers, an alternative, and what a waiver would cover (`waive`)."""

    action: Action
    blockers: tuple[Blocker, ...]
    alternative: Action | None = None
    waive: str | None = None  # AUDIENCE or a panelist id: the waiver dialog opens on it

    def about(self, snapshot: ShowSnapshot) -> str:
        """The blockers it clears in a few words: "no votes for A, B, C"."""
        labels = _labels(snapshot, self.blockers)
        kind = self.blockers[0].kind
        if kind is BlockerKind.AUDIENCE:
            return f"no votes for {labels}"
        if kind is BlockerKind.PANEL and self.waive is not None:
            return f"{snapshot.panel_names.get(self.waive, self.waive)} has not scored {labels}"
        return str(self.blockers[0])


def _labels(snapshot: ShowSnapshot, found: Sequence[Blocker]) -> str:
    rnd = snapshot.round
    labels = sorted({rnd.labels.get(b.finalist_id, "?") for b in found if b.finalist_id} if rnd else set())
    return ", ".join(labels)


def _llm_fix(snapshot: ShowSnapshot, blocker: Blocker) -> Fix:
    rec = snapshot.current
    judged = rec is not None and blocker.finalist_id in rec.judgments
    if not judged:
        return Fix(Action(("judging", "round"), "j", "run the LLM judge"), (blocker,))
    return Fix(Action(("judging",), "e", "re-judge it"), (blocker,), Action(("judging",), "h", "score it by hand"))


def fixes(snapshot: ShowSnapshot) -> list[Fix]:
    """One fix per cause, in the order of the core's blockers: a waiver covers every finalist it blocks."""
    grouped: dict[tuple[BlockerKind, str], list[Blocker]] = {}  # insertion order: the blockers' order
    for b in snapshot.blockers:
        causes: list[tuple[BlockerKind, str]]
        if b.kind is BlockerKind.PANEL:
            causes = [(b.kind, p) for p in b.panelist_ids]
        elif b.kind is BlockerKind.LLM:
            causes = [(b.kind, b.finalist_id or "")]
        else:
            causes = [(b.kind, "")]
        for cause in causes:
            grouped.setdefault(cause, []).append(b)
    out: list[Fix] = []
    for (kind, who), found in grouped.items():
        group = tuple(found)
        if kind is BlockerKind.PHASE:
            out.append(Fix(Action(("voting",), "c", "close the poll"), group))
        elif kind is BlockerKind.AUDIENCE:
            out.append(Fix(Action(("standings", "panel"), "w", "waive the audience for this round"), group,
                           waive=AUDIENCE))
        elif kind is BlockerKind.PANEL:
            name = snapshot.panel_names.get(who, who)
            out.append(Fix(Action(("panel",), "i", f"type {name}'s scores"), group,
                           Action(("standings", "panel"), "w", f"waive {name} for this round"), waive=who))
        elif kind is BlockerKind.LLM:
            out.append(_llm_fix(snapshot, group[0]))
    return out


def fix_for(snapshot: ShowSnapshot, blocker: Blocker) -> Fix | None:
    """The fix that clears `blocker` (the first one, when several would)."""
    return next((f for f in fixes(snapshot) if blocker in f.blockers), None)


def fix_hint(fix: Fix, current: str) -> str:
    """The fix as plain words with its keys, for lists: "6 w waive the audience for this round"."""
    text = f"{' '.join(fix.action.keys(current))} {fix.action.words}"
    if fix.alternative is not None:
        text += f", or {' '.join(fix.alternative.keys(current))} {fix.alternative.words}"
    return text


def first_waiver(snapshot: ShowSnapshot) -> str | None:
    """What the waiver dialog opens on: the first blocker a waiver clears (the audience, or a panelist)."""
    return next((f.waive for f in fixes(snapshot) if f.waive is not None), None)
