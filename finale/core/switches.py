"""Show-wide switches the MC flips: pause, the stage freeze, the place-by-place reveal.

One typed value instead of loose key/value rows, with its transitions here:
each refuses with a reason when it would do nothing (pausing a paused show,
revealing a sixth place of five), so the console can say why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


class SwitchRefused(ValueError):
    """A switch flip that would change nothing, with the reason."""


@dataclass(frozen=True)
class ShowSwitches:
    """What the MC has switched for the whole show; the default is a live, unpaused show."""

    paused: bool = False
    paused_at: float | None = None  # when the show was paused (the poll keeps its own time, see core.poll)
    frozen: bool = False  # the stage keeps the picture it had; every page that connects gets that picture
    reveal_step: int = 0  # places revealed from the bottom by the final reveal
    winner_revealed: bool = False  # the overall winner revealed at once

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the store and the audit log."""
        return {"paused": self.paused, "paused_at": self.paused_at, "frozen": self.frozen,
                "reveal_step": self.reveal_step, "winner_revealed": self.winner_revealed}

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> ShowSwitches:
        """Read back `as_dict`; unknown or missing keys fall back to the defaults."""
        raw = raw or {}
        step = raw.get("reveal_step", 0)
        at = raw.get("paused_at")
        return cls(paused=bool(raw.get("paused", False)),
                   paused_at=float(at) if isinstance(at, int | float) and not isinstance(at, bool) else None,
                   frozen=bool(raw.get("frozen", False)),
                   reveal_step=step if isinstance(step, int) and not isinstance(step, bool) and step > 0 else 0,
                   winner_revealed=bool(raw.get("winner_revealed", False)))


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


def reveal_next(sw: ShowSwitches, places: int) -> ShowSwitches:
    """Reveal one more place, from the bottom up; refused once every place is out."""
    if places <= 0:
        raise SwitchRefused("there are no places to reveal")
    if sw.reveal_step >= places:
        raise SwitchRefused(f"all {places} places are already revealed")
    return replace(sw, reveal_step=sw.reveal_step + 1)


def reveal_place(sw: ShowSwitches, places: int) -> int:
    """The place (1 = first) that the latest reveal step showed; 0 before the reveal starts."""
    return places - sw.reveal_step + 1 if 0 < sw.reveal_step <= places else 0
