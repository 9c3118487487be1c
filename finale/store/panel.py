"""Panel judges' scores, one row per (round, answer, panelist); a revision replaces the row."""

from __future__ import annotations

import json
import time
from dataclasses import replace

from finale.core.model import PanelScore, Round
from finale.core.panel import panel_score_refusal
from finale.core.ranges import ScoreError, check_scores
from finale.store.base import StoreError
from finale.store.rounds import RoundsMixin
from finale.store.setup import SetupMixin


class PanelMixin(RoundsMixin, SetupMixin):
    """Writing and reading panel scores."""

    def save_panel_score(self, score: PanelScore, actor: str) -> None:
        """A panelist's scores for one answer; revising replaces them. Written at once."""
        try:
            checked = check_scores(score.scores, self.event_config().to_core().criterion_ids)
        except ScoreError as exc:
            raise StoreError(str(exc), "bad_scores") from None
        score = replace(score, scores=checked)
        with self.transaction():
            try:
                rnd: Round | None = self.round(score.round_id)
            except StoreError:
                rnd = None
            refused = panel_score_refusal(rnd, score.round_id, score.finalist_id)
            if refused is not None:
                raise StoreError(refused[1], refused[0])
            self.conn.execute(
                "INSERT INTO panel_scores VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(round_id, finalist_id, panelist_id) "
                "DO UPDATE SET scores=excluded.scores, actor=excluded.actor, updated_at=excluded.updated_at",
                (score.round_id, score.finalist_id, score.panelist_id, json.dumps(score.scores), actor, time.time()),
            )
            self.log(actor, "panel.scored", {"finalist_id": score.finalist_id, "panelist_id": score.panelist_id,
                                             "scores": score.scores}, score.round_id)

    def panel_scores(self, round_id: int) -> list[PanelScore]:
        """A round's panel scores, by panelist then finalist."""
        return [
            PanelScore(r["round_id"], r["finalist_id"], r["panelist_id"], json.loads(r["scores"]))
            for r in self.db.query("SELECT * FROM panel_scores WHERE round_id=? ORDER BY panelist_id, finalist_id",
                                   [round_id])
        ]

    def panel_actors(self, round_id: int) -> dict[tuple[str, str], str]:
        """Who entered each panel score of a round, by (panelist id, finalist id): the judge's page or the MC."""
        rows = self.conn.execute("SELECT panelist_id, finalist_id, actor FROM panel_scores WHERE round_id=?",
                                 (round_id,))
        return {(str(pid), str(fid)): str(actor) for pid, fid, actor in rows}
