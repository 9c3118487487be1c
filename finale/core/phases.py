"""Named questions about a round's phase, each answered once.

The console, the hub, the store and the report all ask the same things of a
phase (is the round settled? may a panelist score it? are finalists' settings
locked?). Each answer lives here as a named predicate over one frozen set, so
a new phase or a changed rule is one edit, and no caller spells a phase set.
"""

from __future__ import annotations

from finale.core.model import Phase

_SETTLED = frozenset({Phase.FINAL, Phase.VOID})
_ANSWERS_IN = frozenset({Phase.ANSWERED, Phase.JUDGING, Phase.VOTING, Phase.CLOSED, Phase.FINAL})
_ANSWERS_PENDING = frozenset({Phase.DRAFT, Phase.ASKING})
_PANEL_OPEN = frozenset({Phase.ANSWERED, Phase.JUDGING, Phase.VOTING, Phase.CLOSED})
_BALLOT_SHOWN = frozenset({Phase.VOTING, Phase.CLOSED, Phase.FINAL})
_REVEALABLE = frozenset({Phase.CLOSED, Phase.FINAL})


def is_settled(phase: Phase | None) -> bool:
    """Final or void: nothing about the round changes any more (scores, overrides, settings lock)."""
    return phase in _SETTLED


def is_open(phase: Phase | None) -> bool:
    """A round is under way (neither settled nor absent): quitting or asking another question needs care."""
    return phase is not None and phase not in _SETTLED


def can_start_round(current: Phase | None) -> bool:
    """A new round may be drafted only when there is none or the current one is settled."""
    return current is None or current in _SETTLED


def answers_in(phase: Phase | None) -> bool:
    """The answers have all arrived: the anonymised answers may be shown to the panel and scored."""
    return phase in _ANSWERS_IN


def answers_pending(phase: Phase | None) -> bool:
    """The round has been drafted or is being asked: the answers are not all in yet."""
    return phase in _ANSWERS_PENDING


def accepts_panel_scores(phase: Phase | None) -> bool:
    """A panelist may enter or revise scores: once the answers are in and until the round is settled."""
    return phase in _PANEL_OPEN


def settings_locked(phase: Phase | None) -> bool:
    """Finalists' prompt settings cannot change: a round is being asked or is not yet settled."""
    return phase is not None and phase is not Phase.DRAFT and phase not in _SETTLED


def ballot_shown(phase: Phase | None) -> bool:
    """The audience sees the answers: from the poll's opening on."""
    return phase in _BALLOT_SHOWN


def can_reveal(phase: Phase | None) -> bool:
    """Who was who may be revealed: only once the poll has closed."""
    return phase in _REVEALABLE


def questions_may_open(phase: Phase | None) -> bool:
    """The MC may open questions from the floor: between rounds only (none yet, or the current one settled)."""
    return can_start_round(phase)
