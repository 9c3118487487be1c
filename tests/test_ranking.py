"""Round winners and order follow the declared tie-breaks; a full tie names nobody alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from finale.core.model import Component
from finale.core.ranking import round_order, round_places, round_winners
from finale.core.scoring import ComponentValue, FinalistRound


def fr(fid: str, total: float | None, panel: float = 0.0, llm: float = 0.0, votes: int = 0,
       latency: float | None = None) -> FinalistRound:
    cv = ComponentValue(None, None)
    points = {Component.LLM: llm, Component.PANEL: panel, Component.AUDIENCE: 0.0}
    return FinalistRound(fid, cv, cv, cv, votes, latency, points, total)


def test_equal_totals_go_to_the_panel_then_llm_then_votes_then_latency() -> None:
    assert round_winners({"a": fr("a", 67.7, panel=20), "b": fr("b", 67.7, panel=25)}) == ["b"]
    assert round_winners({"a": fr("a", 67.7, panel=20, llm=30), "b": fr("b", 67.7, panel=20, llm=29)}) == ["a"]
    assert round_winners({"a": fr("a", 50, votes=3), "b": fr("b", 50, votes=4)}) == ["b"]
    assert round_winners({"a": fr("a", 50, latency=900), "b": fr("b", 50, latency=1200)}) == ["a"]


def test_a_tie_on_everything_is_a_tie_not_a_winner() -> None:
    scored = {"a": fr("a", 67.7, 20, 30, 5, 1000), "b": fr("b", 67.7, 20, 30, 5, 1000), "c": fr("c", 10)}
    assert round_winners(scored) == ["a", "b"]
    places = round_places(scored)
    assert [(p.finalist_id, p.rank, p.tied) for p in places] == [("a", 1, True), ("b", 1, True), ("c", 3, False)]


def test_no_winner_while_a_total_is_missing() -> None:
    scored = {"a": fr("a", 80), "b": fr("b", None)}
    assert round_winners(scored) == [] and round_places(scored) == []
    assert round_order(scored) == ["a", "b"]


@given(st.dictionaries(st.sampled_from("abcdef"), st.floats(0, 100).map(lambda x: round(x, 6)), min_size=1))
def test_the_winner_has_the_highest_total(totals: dict[str, float]) -> None:
    """Totals are compared to 9 decimals (a float-noise tie is a tie); scores carry far fewer."""
    scored = {fid: fr(fid, t) for fid, t in totals.items()}
    winners = round_winners(scored)
    assert winners and all(totals[w] == max(totals.values()) for w in winners)
    assert round_order(scored)[0] in winners
