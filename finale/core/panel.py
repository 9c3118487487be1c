"""When a panelist's scores are taken: one rule for the judge pages and the MC's typed scores."""

from __future__ import annotations

from finale.core.model import Round
from finale.core.phases import accepts_panel_scores, is_settled

Refusal = tuple[str, str]


def panel_score_refusal(rnd: Round | None, round_id: int, finalist_id: str | None) -> Refusal | None:
    """Why a panel score for `finalist_id` in `round_id` cannot be taken now, as (code, message); None if it can.

    `rnd` is the round as the deciding side knows it (the hub's view, or the row
    inside the store's transaction). Scores are taken once the answers are in
    and until the round is final; a revision replaces the earlier scores.
    """
    if rnd is None:
        return ("wrong_round", f"there is no round {round_id} to score")
    if rnd.id != round_id:
        return ("wrong_round", f"round {round_id} is not the current round ({rnd.id})")
    if is_settled(rnd.phase):
        return ("locked", f"round {rnd.id} is {rnd.phase}; panel scores are locked")
    if not accepts_panel_scores(rnd.phase):
        return ("not_open", f"round {rnd.id} is {rnd.phase}; scores are taken once the answers are in "
                "and until the round is final")
    if finalist_id is None or finalist_id not in rnd.labels:
        return ("bad_label", f"that answer is not in round {rnd.id}; label must be one of "
                f"{', '.join(sorted(rnd.labels.values()))}")
    return None
