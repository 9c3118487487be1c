"""The Director's show-wide intents: pause, the stage freeze, the standings reveal, the last round, the spotlight.

A mixin of `Director` (finale.director), kept apart so the round intents stay in
one readable file. Each intent asks core.switches for the rule and writes the
switches with their audit event in one store transaction, as the MC's actor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from finale.config import EventConfig
from finale.core import poll, show, switches
from finale.core.model import Round
from finale.core.phases import answers_in
from finale.core.scoring import Standing
from finale.core.switches import ShowSwitches
from finale.store import Store


class SwitchIntents:
    """Pause, freeze, reveal, dismiss, last round and spotlight: one MC intent per method."""

    # set by Director.__init__
    store: Store
    actor: str
    clock: Callable[[], float]
    config: EventConfig

    if TYPE_CHECKING:  # defined by Director: the standings of final rounds, and the atomic round move
        def standings(self) -> list[Standing]: ...
        def _move(self, round_id: int, change: Callable[[Round], Round], kind: str,
                  payload: dict[str, Any] | Callable[[Round, Round], dict[str, Any]] | None = None) -> Round: ...

    def _end_moment(self, round_id: int) -> None:
        """A new round ends any reveal and the spotlight (core.switches.clear_moment), on the record."""
        with self.store.transaction():
            sw = self.store.switches()
            cleared = switches.clear_moment(sw)
            if cleared != sw:
                self.store.save_switches(cleared, self.actor, "show.moment_ended", {"round_id": round_id})

    def switches(self) -> ShowSwitches:
        """The show's switches as stored."""
        return self.store.switches()

    def pause(self) -> ShowSwitches:
        """Pause the show; an open poll stops its countdown with the time left kept exactly."""
        now = self.clock()
        with self.store.transaction():
            paused = self.store.save_switches(switches.pause(self.store.switches(), now), self.actor, "show.paused")
            rnd = self.store.current_round()
            if rnd is not None and poll.voting_open(rnd, now):
                self._move(rnd.id, lambda r: poll.pause_poll(r, now), "poll.paused",
                           lambda _b, a: {"remaining": poll.remaining(a, now)})
        return paused

    def resume(self) -> ShowSwitches:
        """Resume the show; a paused poll runs on with the time it had left."""
        now = self.clock()
        with self.store.transaction():
            resumed = self.store.save_switches(switches.resume(self.store.switches()), self.actor, "show.resumed")
            rnd = self.store.current_round()
            if rnd is not None and poll.is_paused(rnd):
                self._move(rnd.id, lambda r: poll.resume_poll(r, now), "poll.resumed",
                           lambda _b, a: {"remaining": poll.remaining(a, now), "deadline": a.vote_deadline})
        return resumed

    def toggle_pause(self) -> ShowSwitches:
        """Pause a running show, resume a paused one (the console's one key)."""
        return self.resume() if self.store.switches().paused else self.pause()

    def toggle_freeze(self) -> ShowSwitches:
        """Freeze the stage on its picture, or let it follow the show again."""
        with self.store.transaction():
            sw = self.store.switches()
            if sw.frozen:
                return self.store.save_switches(switches.unfreeze(sw), self.actor, "show.unfrozen")
            return self.store.save_switches(switches.freeze(sw), self.actor, "show.frozen")

    def reveal_next_place(self) -> tuple[int, Standing | None]:
        """Reveal one more place of the standings, from the bottom up: (the place, who holds it).

        Mid-show it reveals "standings after round N"; the winner only at the end (core.switches).
        """
        places = len(self.config.finalists)
        with self.store.transaction():
            current = self.store.current_round()
            if (why := switches.reveal_blocked_by(current)) is not None:
                raise switches.SwitchRefused(why)
            rounds = self.store.rounds()
            sw = self.store.switches()
            final = switches.reveal_is_final(sw, current=current, deck_is_done=switches.deck_done(
                [q.id for q in self.config.questions], rounds))
            sw = switches.reveal_next(sw, places, final=final, after=switches.latest_final(rounds))
            place = switches.reveal_place(sw, places)
            ranked = self.standings()
            who = ranked[place - 1] if 0 < place <= len(ranked) else None
            self.store.save_switches(sw, self.actor, "show.reveal",
                                     {"place": place, "finalist_id": who.finalist_id if who else None,
                                      "heading": switches.reveal_heading(sw, place)})
        return place, who

    def dismiss_reveal(self) -> ShowSwitches:
        """End the standings reveal on the stage and phones (the next round's ask ends it too)."""
        with self.store.transaction():
            return self.store.save_switches(switches.dismiss_reveal(self.store.switches()), self.actor,
                                            "show.reveal_dismissed")

    def declare_last_round(self) -> ShowSwitches:
        """Declare the current round the show's last, so the reveal after it names the winner; again takes it back."""
        with self.store.transaction():
            sw = self.store.switches()
            if sw.last_round is not None:
                return self.store.save_switches(switches.declare_last_round(sw, None), self.actor,
                                                "show.last_round_cancelled")
            rnd = self.store.current_round()
            if rnd is None:
                raise switches.SwitchRefused("there is no round yet to declare the last one")
            return self.store.save_switches(switches.declare_last_round(sw, rnd.id), self.actor,
                                            "show.last_round", {"round_id": rnd.id})

    def spotlight(self, label: str | None) -> ShowSwitches:
        """Fill the stage with the answer under `label` (None gives the stage back); the next round ends it."""
        with self.store.transaction():
            rnd = self.store.current_round()
            fid = None
            if label is not None:
                fid = show.finalist_for_label(rnd.labels, label) if rnd is not None else None
                if rnd is None or fid is None or not answers_in(rnd.phase):
                    raise switches.SwitchRefused(f"there is no answer {label} on the stage to spotlight")
            sw = switches.set_spotlight(self.store.switches(), fid)
            return self.store.save_switches(sw, self.actor, "show.spotlight", {"label": label})

    def spotlight_next(self) -> str | None:
        """Move the spotlight to the next answer (A, B, ... then off): the console's one key; returns the label."""
        rnd = self.store.current_round()
        if rnd is None or not answers_in(rnd.phase):
            raise switches.SwitchRefused("there are no answers on the stage to spotlight")
        by_label = sorted(rnd.labels, key=lambda fid: rnd.labels[fid])
        nxt = switches.next_spotlight(self.store.switches(), by_label)
        label = rnd.labels[nxt] if nxt is not None else None
        self.spotlight(label)
        return label
