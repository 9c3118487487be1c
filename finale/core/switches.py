"""Show-wide switches the MC flips: pause, the stage freeze, the place-by-place reveal, the spotlight.

One typed value instead of loose key/value rows, with its transitions here:
each refuses with a reason when it would do nothing (pausing a paused show,
revealing a sixth place of five), so the console can say why.

A standings reveal is a moment, not a state: the MC starts it, may dismiss it,
and asking the next round ends it (`clear_moment`). Mid-show it is "standings
after round N" and its top place "the leader"; it names "the winner" only when
the deck is done or the MC declared the last round (`reveal_is_final`), and a
final reveal can always be run at the end, whatever was revealed before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from finale.core.model import Phase, Round

# While answers are on the stage (being asked, judged or voted on) the standings are not revealed.
_NO_REVEAL = frozenset({Phase.ASKING, Phase.ANSWERED, Phase.JUDGING, Phase.VOTING})


class SwitchRefused(ValueError):
    """A switch flip that would change nothing, with the reason."""


@dataclass(frozen=True)
class ShowSwitches:
    """What the MC has switched for the whole show; the default is a live, unpaused show."""

    paused: bool = False
    paused_at: float | None = None  # when the show was paused (the poll keeps its own time, see core.poll)
    frozen: bool = False  # the stage keeps the picture it had; every page that connects gets that picture
    reveal_step: int = 0  # places revealed from the bottom by the reveal on the stage now
    winner_revealed: bool = False  # the top of the standings revealed at once
    reveal_final: bool = False  # the reveal on now names the winner (the show is over), not the leader
    reveal_after: int | None = None  # the latest final round the revealed standings count
    last_round: int | None = None  # the round the MC declared the show's last
    spotlight: str | None = None  # the finalist whose answer fills the stage, by id (the stage shows its label)

    @property
    def revealing(self) -> bool:
        """A standings reveal is on the stage (and phones) now."""
        return self.reveal_step > 0 or self.winner_revealed

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the store and the audit log."""
        return {"paused": self.paused, "paused_at": self.paused_at, "frozen": self.frozen,
                "reveal_step": self.reveal_step, "winner_revealed": self.winner_revealed,
                "reveal_final": self.reveal_final, "reveal_after": self.reveal_after,
                "last_round": self.last_round, "spotlight": self.spotlight}

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> ShowSwitches:
        """Read back `as_dict`; unknown or missing keys fall back to the defaults."""
        raw = raw or {}
        step = raw.get("reveal_step", 0)
        at = raw.get("paused_at")
        spot = raw.get("spotlight")
        return cls(paused=bool(raw.get("paused", False)),
                   paused_at=float(at) if isinstance(at, int | float) and not isinstance(at, bool) else None,
                   frozen=bool(raw.get("frozen", False)),
                   reveal_step=step if _count(step) else 0,
                   winner_revealed=bool(raw.get("winner_revealed", False)),
                   reveal_final=bool(raw.get("reveal_final", False)),
                   reveal_after=raw["reveal_after"] if _count(raw.get("reveal_after")) else None,
                   last_round=raw["last_round"] if _count(raw.get("last_round")) else None,
                   spotlight=spot if isinstance(spot, str) and spot else None)


def _count(value: object) -> bool:
    """A positive int as stored (not a bool, which JSON would also give back as a number)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def pause(sw: ShowSwitches, now: float) -> ShowSwitches:
    """Pause the show (countdowns stand still); refused when already paused."""
    if sw.paused:
        raise SwitchRefused("the show is already paused")
    return replace(sw, paused=True, paused_at=now)


def resume(sw: ShowSwitches) -> ShowSwitches:
    """Resume a paused show; refused when it is not paused."""
    if not sw.paused:
        raise SwitchRefused("the show is not paused")
    return replace(sw, paused=False, paused_at=None)


def freeze(sw: ShowSwitches) -> ShowSwitches:
    """Freeze the stage on what it shows; refused when already frozen."""
    if sw.frozen:
        raise SwitchRefused("the stage is already frozen")
    return replace(sw, frozen=True)


def unfreeze(sw: ShowSwitches) -> ShowSwitches:
    """Let the stage follow the show again; refused when it is not frozen."""
    if not sw.frozen:
        raise SwitchRefused("the stage is not frozen")
    return replace(sw, frozen=False)


def reveal_blocked_by(rnd: Round | None) -> str | None:
    """Why the standings cannot be revealed now (answers are on the stage), or None."""
    if rnd is not None and rnd.phase in _NO_REVEAL:
        return (f"round {rnd.id} is {rnd.phase}: reveal the standings once its poll has closed "
                "(they clear when the next round is asked)")
    return None


def deck_done(question_ids: Iterable[str], rounds: Iterable[Round]) -> bool:
    """Every deck question has a final round: the show is over unless the MC types another."""
    final = {r.question_id for r in rounds if r.phase is Phase.FINAL}
    return all(q in final for q in question_ids)


def latest_final(rounds: Iterable[Round]) -> int | None:
    """The latest final round: the standings revealed now count up to it."""
    return max((r.id for r in rounds if r.phase is Phase.FINAL), default=None)


def reveal_is_final(sw: ShowSwitches, *, deck_is_done: bool, current: Round | None) -> bool:
    """The reveal names "the winner" only at the end: no round under way, and the deck done or the last round declared.

    A round that is closed but not yet final is under way: its points are not in the standings.
    """
    if current is not None and current.phase not in (Phase.FINAL, Phase.VOID):
        return False
    declared = sw.last_round is not None and current is not None and current.id >= sw.last_round
    return deck_is_done or declared


def reveal_next(sw: ShowSwitches, places: int, *, final: bool = False, after: int | None = None) -> ShowSwitches:
    """Reveal one more place, from the bottom up; refused once every place of this reveal is out.

    A reveal of another moment (more rounds final since, or the show now over) starts again from the
    bottom, so the final reveal is always available at the end.
    """
    if places <= 0:
        raise SwitchRefused("there are no places to reveal")
    same_moment = (sw.reveal_final, sw.reveal_after) == (final, after)
    step = sw.reveal_step if same_moment else 0
    if same_moment and (step >= places or sw.winner_revealed):
        raise SwitchRefused(f"all {places} places are already revealed; dismiss the reveal to end the moment")
    return replace(sw, reveal_step=step + 1, winner_revealed=False, reveal_final=final, reveal_after=after)


def dismiss_reveal(sw: ShowSwitches) -> ShowSwitches:
    """End the reveal on the stage and phones; refused when there is none."""
    if not sw.revealing:
        raise SwitchRefused("there is no reveal on the stage to dismiss")
    return clear_reveal(sw)


def clear_reveal(sw: ShowSwitches) -> ShowSwitches:
    """The switches with no reveal on (unchanged when there was none)."""
    return replace(sw, reveal_step=0, winner_revealed=False, reveal_final=False, reveal_after=None)


def clear_moment(sw: ShowSwitches) -> ShowSwitches:
    """What asking the next round ends: any reveal and the spotlight (unchanged when neither was on)."""
    return replace(clear_reveal(sw), spotlight=None)


def declare_last_round(sw: ShowSwitches, round_id: int | None) -> ShowSwitches:
    """Declare `round_id` the show's last (the reveal after it names the winner), or take it back with None."""
    if round_id is None and sw.last_round is None:
        raise SwitchRefused("no round is declared the last one")
    if round_id is not None and sw.last_round == round_id:
        raise SwitchRefused(f"round {round_id} is already declared the last one")
    return replace(sw, last_round=round_id)


def set_spotlight(sw: ShowSwitches, finalist_id: str | None) -> ShowSwitches:
    """Fill the stage with one answer (by finalist id), or give the stage back with None."""
    if finalist_id is None and sw.spotlight is None:
        raise SwitchRefused("no answer is in the spotlight")
    return replace(sw, spotlight=finalist_id)


def next_spotlight(sw: ShowSwitches, by_label: list[str]) -> str | None:
    """The spotlight's next stop in label order (`by_label` holds finalist ids A, B, C...), then off."""
    if not by_label:
        raise SwitchRefused("there are no answers to put in the spotlight")
    if sw.spotlight not in by_label:
        return by_label[0]
    i = by_label.index(sw.spotlight)
    return by_label[i + 1] if i + 1 < len(by_label) else None


def reveal_heading(sw: ShowSwitches, place: int) -> str:
    """What the stage and phones call a revealed place: "the winner" only in a final reveal."""
    if place != 1:
        return f"In place {place}"
    if sw.reveal_final:
        return "And the winner is"
    return f"Leader after round {sw.reveal_after}" if sw.reveal_after else "Leader so far"


def reveal_moment(sw: ShowSwitches) -> str:
    """The line that says which standings are being revealed."""
    if sw.reveal_final:
        return "Final standings"
    return f"Standings after round {sw.reveal_after}" if sw.reveal_after else "Standings so far"


def reveal_place(sw: ShowSwitches, places: int) -> int:
    """The place (1 = first) that the latest reveal step showed; 0 before the reveal starts."""
    return places - sw.reveal_step + 1 if 0 < sw.reveal_step <= places else 0
