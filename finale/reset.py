"""`finale reset --rehearsal`: clear a rehearsal's rounds so the real show starts from nothing.

Everything the show produced goes (rounds, answers, judgments, panel scores,
votes, overrides, show switches and their events); the event setup stays
(finalists, panelists and their private-link tokens, questions, prompt
settings), so links already handed out keep working. The wipe is one
transaction and is itself logged as a `rehearsal.reset` event.
"""

from __future__ import annotations

from dataclasses import dataclass

from finale.core.phases import is_open
from finale.store import Store

CONFIRM_WORD = "reset"
WIPED = ("rounds", "answers", "judgments", "panel_scores", "votes", "overrides")
KEPT = ("finalists", "panelists", "questions", "prompt_settings")


@dataclass(frozen=True)
class ResetPreview:
    """What a reset would delete and what it keeps, counted, for the confirmation prompt."""

    event_name: str
    wiped: dict[str, int]
    kept: dict[str, int]
    live_round: str | None  # a round still in progress, worth a warning


def preview(store: Store) -> ResetPreview:
    """Count what would go and what would stay; reads only."""
    current = store.current_round()
    live = None
    if current is not None and is_open(current.phase):
        live = f"round {current.id} is still {current.phase}"
    return ResetPreview(
        event_name=store.event_config().event.name,
        wiped={t: store.count(t) for t in WIPED},
        kept={t: store.count(t) for t in KEPT},
        live_round=live,
    )


def describe(p: ResetPreview) -> str:
    """The preview in words, shown before the confirmation."""
    lines = [
        f"Rehearsal reset of {p.event_name!r}.",
        "Will delete: " + ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in p.wiped.items())
        + ", and the events that record them.",
        "Will keep: " + ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in p.kept.items())
        + "; private-link tokens are unchanged.",
    ]
    if p.live_round:
        lines.append(f"Warning: {p.live_round}; stop the console and the hub before resetting.")
    return "\n".join(lines)


def confirmation_ok(typed: str, event_name: str) -> bool:
    """The typed confirmation must be the event's exact name or the word `reset`."""
    answer = typed.strip()
    return bool(answer) and answer in (CONFIRM_WORD, event_name.strip())


def reset_rehearsal(store: Store, actor: str = "organiser") -> dict[str, int]:
    """Wipe the rounds and everything hanging off them; returns the rows deleted per table."""
    if not actor.strip():
        raise ValueError("a reset needs an actor (who decided it)")
    return store.wipe_show(actor.strip())
