"""The `Store`: every section of the store assembled on one connection.

Each section (audit log, setup, settings, rounds, panel, overrides, votes, show
state, rehearsal reset) is a mixin in its own module; they all share the
connection and the transaction of `StoreBase`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from finale.core.model import OverrideAction
from finale.core.scoring import RoundRecord
from finale.store.decisions import DecisionsMixin
from finale.store.drain import DrainMixin
from finale.store.overrides import OverridesMixin
from finale.store.panel import PanelMixin
from finale.store.questions import QuestionsMixin
from finale.store.rehearsal import RehearsalMixin
from finale.store.seal import SealMixin
from finale.store.settings import SettingsMixin
from finale.store.votes import VotesMixin


class Store(DrainMixin, SealMixin, SettingsMixin, PanelMixin, OverridesMixin, VotesMixin, RehearsalMixin,
            DecisionsMixin, QuestionsMixin):
    """Persistence for one event; safe to open from several processes at once (WAL)."""

    def __enter__(self) -> Store:
        return self

    def round_record(self, round_id: int) -> RoundRecord:
        """Everything scoring needs about one round, read from the store."""
        overrides = self.overrides(round_id)
        discounted = any(o.action is OverrideAction.DISCOUNT and not o.reverted for o in overrides)
        return RoundRecord(
            round=self.round(round_id), answers=self.answers(round_id), judgments=self.judgments(round_id),
            panel_scores=self.panel_scores(round_id), votes=self.vote_counts(round_id), overrides=overrides,
            vote_groups=self.vote_groups(round_id) if discounted else None,
            decisions=self.decisions(round_id),
        )

    def records(self) -> list[RoundRecord]:
        """The round records of every round, in order."""
        return [self.round_record(r.id) for r in self.rounds()]


if TYPE_CHECKING:  # mypy proves here that the SQLite store is every interface its callers are typed against
    from finale.store.interface import AudienceStore, ShowReader

    def _implements(store: Store) -> tuple[AudienceStore, ShowReader]:
        return store, store
