"""The report's SVG charts on their own: scales, big audiences, missing answers, hostile names."""

from __future__ import annotations

import random
import re

import pytest

from finale.report.charts import (
    LatencyPoint,
    VoteSeries,
    cumulative_steps,
    latency_chart,
    nice_max,
    tick_count,
    vote_timeline,
)


@pytest.mark.parametrize(("value", "expected"), [(0, 1), (-3, 1), (0.0023, 0.0025), (1, 1), (1.01, 2), (3.2, 5),
                                                 (416.39, 500), (2400, 2500), (99_999, 100_000)])
def test_nice_max_rounds_up_to_a_readable_number(value: float, expected: float) -> None:
    assert nice_max(value) == pytest.approx(expected)


def test_ticks_land_on_round_numbers() -> None:
    assert tick_count(5) == 5 and tick_count(2) == 4 and tick_count(250) == 5 and tick_count(1000) == 5


def test_a_big_audience_is_thinned_but_its_count_stays_exact() -> None:
    rng = random.Random(3)
    offsets = [rng.uniform(-1, 45) for _ in range(20_000)]
    steps = cumulative_steps(offsets)
    assert len(steps) == 300
    assert steps[-1] == (max(offsets), 20_000)
    assert steps[0][0] == 0.0  # votes stamped before the opening are drawn at time 0
    assert [c for _, c in steps] == sorted(c for _, c in steps)
    svg = vote_timeline("Round 1", [VoteSeries("Ray", "#123456", offsets)], 45.0, 46.0)
    assert len(svg) < 40_000
    assert "Ray (20000)" in svg and ">deadline<" in svg and ">closed<" in svg


def test_missing_answers_are_marked_not_drawn() -> None:
    svg = latency_chart("Zoe", [LatencyPoint("R1", 400, 2100, "ok"), LatencyPoint("R2", None, None, "timeout")], 2100)
    assert svg.count('<rect class="bar"') == 2
    assert svg.count("×<title>R2: no") == 2 and "(timeout)" in svg
    assert ">2.5 s<" in svg  # the shared scale reads in seconds above a second


def test_names_in_charts_are_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    svg = vote_timeline(hostile, [VoteSeries(hostile, "#000", [1.0])], None, None)
    svg += latency_chart(hostile, [LatencyPoint(hostile, 1, 2, "ok")], 2)
    assert "<script" not in svg
    assert len(re.findall("&lt;script&gt;alert", svg)) >= 4
