"""The human decisions on the record: overrides, waivers, the panel's typed scores, rulings on disputes.

A mixin under `MCIntents` (finale.tui.intents), with the helpers every intent
shares: the one ordered intent queue, the one-key confirmation, and who goes on
the record. Each names the person at the console (the Director's actor); a
decision of the head judge records them too, as "<head judge> (entered by <person>)"
when the two differ. Nothing here decides a rule: the Director asks the core.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App

from finale.config import EventConfig
from finale.core.disputes import DisputeKind
from finale.core.model import Component
from finale.director import Director
from finale.tui.fixes import AUDIENCE, first_waiver
from finale.tui.screens.base import ConsoleScreen
from finale.tui.screens.modals import (
    COMPONENT_TITLES,
    ConfirmModal,
    OverrideModal,
    OverrideRequest,
    ReasonModal,
)
from finale.tui.screens.panel_grid import PanelGrid, PanelGridModal
from finale.tui.screens.waive import WaiveModal, WaiveRequest
from finale.tui.state import ShowSnapshot

if TYPE_CHECKING:
    _AppBase = App[None]  # the checker sees the App the mixin is mixed into
else:
    _AppBase = object  # at run time a plain mixin: Textual's CSS and bindings see FinaleApp as before


class HumanIntents(_AppBase):
    """Overrides, waivers, typed panel scores and rulings; the shared intent helpers."""

    # set by FinaleApp.__init__
    config: EventConfig
    director: Director
    snapshot: ShowSnapshot | None
    show_names: bool
    _intents: queue.Queue[tuple[str, Callable[[], str]] | None]

    @property
    def console_screen(self) -> ConsoleScreen | None:
        """The console screen in front, or the one under the open dialog: it keeps rendering and ticking."""
        return next((s for s in reversed(self.screen_stack) if isinstance(s, ConsoleScreen)), None)

    def _intent(self, name: str, job: Callable[[], str]) -> None:
        self._intents.put((name, job))

    def _current_round_id(self) -> int | None:
        rnd = self.snapshot.round if self.snapshot is not None else None
        if rnd is None:
            self.notify("There is no round yet: press 1 then n to ask the first question.", severity="warning")
            return None
        return rnd.id

    def ask_first(self, title: str, body: str, yes: str, then: Callable[[], None]) -> None:
        """A one-key question (y does it, n or Esc does not) before a step that is hard to undo on stage."""
        if isinstance(self.screen, ConfirmModal):
            return

        def answered(ok: bool | None) -> None:
            if ok:
                then()

        self.push_screen(ConfirmModal(title, body, yes=yes), answered)

    # -- who is on the record ----------------------------------------------------

    @property
    def operator(self) -> str:
        """The person at the console (`--as NAME`): the actor of every intent."""
        return self.director.actor

    @property
    def head_judge(self) -> str:
        """Who decides overrides and rulings: `[event] head_judge`, else the person at the console."""
        return self.config.event.head_judge or self.operator

    def on_record(self, decided_by: str) -> str:
        """The actor of a decision taken by `decided_by` and typed in by the person at the console."""
        who = decided_by.strip()
        return self.operator if who in ("", self.operator) else f"{who} (entered by {self.operator})"

    # -- overrides -------------------------------------------------------------

    def action_override(self, finalist_id: str | None = None, component: str | None = None) -> None:
        if self.snapshot is None or self.snapshot.current is None:
            self._current_round_id()
            return
        comp = Component(component) if component else None
        self.push_screen(OverrideModal(self.snapshot, finalist_id, comp, self.show_names, self.head_judge),
                         self._override_confirmed)

    def _override_confirmed(self, request: OverrideRequest | None) -> None:
        if request is None:
            return
        self._intent("override", lambda: self._apply_override(request))

    def _apply_override(self, r: OverrideRequest) -> str:
        o = self.director.override(r.round_id, r.finalist_id, r.component, r.reason, value=r.value, waive=r.waive,
                                   actor=self.on_record(r.decided_by))
        label = self.snapshot.round.labels.get(r.finalist_id, "?") if self.snapshot and self.snapshot.round else "?"
        name = self.config_names().get(r.finalist_id, r.finalist_id)
        what = "waived" if r.waive else f"now {r.value:g}"
        return f"Override #{o.id} on the record: {COMPONENT_TITLES[r.component]} for {label} ({name}) {what}."

    def config_names(self) -> dict[str, str]:
        """Finalist id -> name, from the event file."""
        return {f.id: f.name for f in self.config.finalists}

    def action_revert(self, override_id: int) -> None:
        def revert(reason: str) -> str:
            self.director.revert(override_id, reason)
            return f"Override #{override_id} reverted."

        def reverted(reason: str | None) -> None:
            if reason:
                self._intent("revert", partial(revert, reason))

        self.push_screen(ReasonModal(f"Revert override #{override_id}?", "reason (required)"), reverted)

    def action_type_panel_scores(self, panelist_id: str | None = None) -> None:
        """One grid for all of a panelist's answers and criteria (the first one still to score, unless named)."""
        if self.snapshot is None or self.snapshot.current is None:
            self._current_round_id()
            return
        self.push_screen(PanelGridModal(self.snapshot, panelist_id, self.show_names), self._grid_entered)

    def _grid_entered(self, grid: PanelGrid | None) -> None:
        if grid is None or not grid.scores:
            return

        def job() -> str:
            self.director.score_panel_grid(grid.round_id, grid.panelist_id, grid.scores)
            who = self.snapshot.panel_names.get(grid.panelist_id, grid.panelist_id) if self.snapshot else ""
            return f"{len(grid.scores)} answers' scores saved for {who}."
        self._intent("panel-scores", job)

    # -- waivers and rulings -------------------------------------------------------

    def action_waive(self, what: str | None = None) -> None:
        """Waive the audience, or one panelist, for every finalist of this round: one action, one reason."""
        if self.snapshot is None or self.snapshot.current is None:
            self._current_round_id()
            return
        preset = what or first_waiver(self.snapshot) or AUDIENCE
        self.push_screen(WaiveModal(self.snapshot, preset, self.head_judge), self._waive_confirmed)

    def _waive_confirmed(self, request: WaiveRequest | None) -> None:
        if request is None:
            return
        actor = self.on_record(request.decided_by)

        def job() -> str:
            if request.what == AUDIENCE:
                done = self.director.waive_audience(request.round_id, request.reason, actor=actor)
                what = "the audience"
            else:
                done = self.director.waive_panelist(request.round_id, request.what, request.reason, actor=actor)
                what = self.snapshot.panel_names.get(request.what, request.what) if self.snapshot else request.what
            return f"Waived {what} for round {request.round_id}: {len(done)} overrides on the record."
        self._intent("waive", job)

    def action_keep_judge(self, finalist_id: str | None) -> None:
        """Rule that the judge's score stands on the selected answer's judge-vs-panel gap (a reason, on the record)."""
        snap = self.snapshot
        rnd = snap.round if snap is not None else None
        if snap is None or rnd is None or finalist_id is None:
            self._current_round_id()
            return
        label = rnd.labels.get(finalist_id, "?")
        gap = next((d for d in snap.disputes if d.finalist_id == finalist_id and d.kind is DisputeKind.GAP
                    and not d.resolved), None)
        if gap is None:
            self.notify(f"Answer {label} has no open judge-vs-panel gap: k rules on a gap (⚑ gap); "
                        "o overrides a score.", severity="warning")
            return
        judge = self.head_judge

        def kept(reason: str | None) -> None:
            if reason:
                self._intent("keep-judge", partial(self._keep, rnd.id, finalist_id, label, reason, judge))

        self.push_screen(ReasonModal(f"Keep the judge's score for answer {label}? ({gap.reason})",
                                     f"reason (required, on the record for {judge})"), kept)

    def _keep(self, round_id: int, finalist_id: str, label: str, reason: str, judge: str) -> str:
        self.director.keep_judge_score(round_id, finalist_id, reason, actor=self.on_record(judge))
        return f"Answer {label}: the judge's score stands, on the record; the gap flag is cleared."
