"""Wiping a rehearsal's rounds while keeping the event's setup."""

from __future__ import annotations

from finale.store.show_state import ShowStateMixin


class RehearsalMixin(ShowStateMixin):
    """The rehearsal reset (`finale reset`)."""

    def wipe_show(self, actor: str) -> dict[str, int]:
        """Delete every round and what hangs off it, with their events, in one logged transaction.

        The event setup stays: finalists, panelists and their tokens, questions, prompt settings.
        Returns the rows deleted per table (the payload of the `rehearsal.reset` event).
        """
        with self.transaction():
            # questions from the floor go first (an asked one names its round); listed only when there were any
            floor = {t: self.conn.execute(f"DELETE FROM {t}").rowcount
                     for t in ("question_upvotes", "audience_questions")}
            counts = {t: self.conn.execute(f"DELETE FROM {t}").rowcount for t in
                      ("votes", "panel_scores", "jury_verdicts", "head_to_head", "judgments", "answers",
                       "overrides", "rounds", "show_state")}
            counts["events"] = self.conn.execute(
                "DELETE FROM events WHERE round_id IS NOT NULL OR kind LIKE 'show.%' OR kind LIKE 'question%'").rowcount
            counts.update({t: n for t, n in floor.items() if n})
            self.log(actor, "rehearsal.reset", counts)
            self._forget_cached()  # the votes went without the vote ledger seeing them go
        return counts
