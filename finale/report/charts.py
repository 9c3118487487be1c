"""Inline SVG charts, drawn in Python so the report needs no script and no library.

Each function returns one `<svg>` element as a string. Every label that could
come from the show (names, round titles) is escaped; numbers are formatted
here. Scales are shared by the caller where charts sit side by side, so bars
in two finalists' charts compare at a glance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from finale.report.markup import esc

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
           "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
COMPONENT_COLOURS = {"llm": "#4e79a7", "panel": "#f28e2b", "audience": "#59a14f"}
COMPONENT_NAMES = {"llm": "LLM judge", "panel": "Panel", "audience": "Audience"}
TTFT_COLOUR = "#9ecae1"
TOTAL_COLOUR = "#2b6ca3"
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def colour(position: int) -> str:
    """A finalist's colour, by their position in the event file."""
    return PALETTE[position % len(PALETTE)]


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value` (1 for nothing)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-12:
            return step * power
    return 10 * power


def tick_count(y_max: float) -> int:
    """How many steps split a nice maximum into round numbers (5 -> 1, 2, 3...; 2 -> 0.5, 1, 1.5...)."""
    lead = round(y_max / 10 ** math.floor(math.log10(y_max)), 3) if y_max > 0 else 1
    return 4 if lead == 2 else 5


def _tick(value: float, unit: str) -> str:
    if unit == "ms" and value >= 1000:
        return f"{value / 1000:g} s"
    return f"{value:g}{(' ' + unit) if unit else ''}"


@dataclass(frozen=True)
class _Frame:
    """The plotting area inside an SVG and the mapping from data to pixels."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    x_max: float
    y_max: float

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom

    def x(self, value: float) -> float:
        return self.left + self.plot_w * (value / self.x_max if self.x_max else 0)

    def y(self, value: float) -> float:
        return self.top + self.plot_h * (1 - (value / self.y_max if self.y_max else 0))

    def y_axis(self, unit: str) -> str:
        ticks = tick_count(self.y_max)
        out = []
        for i in range(ticks + 1):
            v = self.y_max * i / ticks
            y = self.y(v)
            out.append(f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{y:.1f}" y2="{y:.1f}" '
                       f'stroke="#ddd" stroke-width="1"/>')
            out.append(f'<text x="{self.left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
                       f'{esc(_tick(v, unit))}</text>')
        return "".join(out)


def _svg(width: int, height: int, title: str, body: str, cls: str) -> str:
    return (f'<svg class="chart {esc(cls)}" role="img" aria-label="{esc(title)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" {FONT}><title>{esc(title)}</title>{body}</svg>')


@dataclass(frozen=True)
class LatencyPoint:
    """One finalist's answer in one round: times, or the status that explains why there are none."""

    round_label: str
    ttft_ms: float | None
    total_ms: float | None
    status: str


def latency_chart(name: str, points: Sequence[LatencyPoint], y_max_ms: float) -> str:
    """Grouped bars per round: time to first token beside total time, on a shared scale."""
    frame = _Frame(max(340, 70 + 36 * len(points)), 190, 58, 10, 28, 30, max(len(points), 1), nice_max(y_max_ms))
    body = [f'<text x="{frame.left}" y="16" font-size="13" font-weight="600">{esc(name)}</text>',
            frame.y_axis("ms")]
    group = frame.plot_w / max(len(points), 1)
    bar = group * 0.34
    base = frame.y(0)
    for i, p in enumerate(points):
        x0 = frame.left + i * group + group * 0.14
        for j, (value, fill, what) in enumerate(((p.ttft_ms, TTFT_COLOUR, "time to first token"),
                                                  (p.total_ms, TOTAL_COLOUR, "total time"))):
            x = x0 + j * bar
            if value is None:
                body.append(f'<text x="{x + bar / 2:.1f}" y="{base - 3:.1f}" text-anchor="middle" fill="#b00">'
                            f'×<title>{esc(p.round_label)}: no {what} ({esc(p.status)})</title></text>')
                continue
            top = frame.y(min(value, frame.y_max))
            body.append(f'<rect class="bar" x="{x:.1f}" y="{top:.1f}" width="{bar:.1f}" '
                        f'height="{max(base - top, 0.5):.1f}" fill="{fill}"><title>{esc(p.round_label)}: {what} '
                        f'{value:.1f} ms</title></rect>')
        body.append(f'<text x="{frame.left + (i + 0.5) * group:.1f}" y="{frame.height - 12}" '
                    f'text-anchor="middle" fill="#333">{esc(p.round_label)}</text>')
    return _svg(frame.width, frame.height, f"Latency of {name} per round", "".join(body), "latency")


def standings_chart(rows: Sequence[tuple[str, Mapping[str, float]]]) -> str:
    """Horizontal stacked bars of each finalist's LLM, panel and audience points, in rank order."""
    row_h = 26
    width, left, right = 640, 110, 70
    height = 30 + row_h * max(len(rows), 1)
    x_max = nice_max(max((sum(p.values()) for _, p in rows), default=0))
    frame = _Frame(width, height, left, right, 24, 6, x_max, 1)
    body = []
    for k, (comp, fill) in enumerate(COMPONENT_COLOURS.items()):
        body.append(f'<rect x="{left + k * 140}" y="6" width="10" height="10" fill="{fill}"/>'
                    f'<text x="{left + k * 140 + 14}" y="15">{COMPONENT_NAMES[comp]} points</text>')
    for i, (name, points) in enumerate(rows):
        y = 24 + i * row_h + 4
        body.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{esc(name)}</text>')
        x = float(left)
        for comp, fill in COMPONENT_COLOURS.items():
            w = frame.x(points.get(comp, 0.0)) - left
            body.append(f'<rect class="bar" x="{x:.1f}" y="{y}" width="{max(w, 0):.1f}" height="{row_h - 8}" '
                        f'fill="{fill}"><title>{esc(name)}: {esc(comp)} {points.get(comp, 0.0):.2f}</title></rect>')
            x += w
        body.append(f'<text x="{x + 5:.1f}" y="{y + 13}">{sum(points.values()):.2f}</text>')
    return _svg(width, height, "Standings: points by component", "".join(body), "standings")


@dataclass(frozen=True)
class VoteSeries:
    """One finalist's counted votes in a round, as seconds after the timeline's origin."""

    name: str
    colour: str
    offsets: Sequence[float]


MAX_STEPS = 300


def cumulative_steps(offsets: Sequence[float], max_steps: int = MAX_STEPS) -> list[tuple[float, int]]:
    """(time, votes so far) at each vote, thinned to at most `max_steps` exact samples for big audiences."""
    times = sorted(max(o, 0.0) for o in offsets)
    n = len(times)
    if n <= max_steps:
        picks: Sequence[int] = range(n)
    else:
        picks = sorted({round(k * (n - 1) / (max_steps - 1)) for k in range(max_steps)})
    return [(times[i], i + 1) for i in picks]


def vote_timeline(title: str, series: Sequence[VoteSeries], deadline_s: float | None,
                  closed_s: float | None) -> str:
    """Cumulative counted votes per finalist over time, with the poll's deadline and close marked."""
    ends = [max(s.offsets) for s in series if s.offsets]
    x_max = nice_max(max([*ends, deadline_s or 0, closed_s or 0, 0.001]))
    y_max = nice_max(max((len(s.offsets) for s in series), default=0))
    frame = _Frame(640, 230, 48, 120, 16, 30, x_max, y_max)
    body = [frame.y_axis("")]
    for i in range(5):
        v = x_max * i / 4
        body.append(f'<text x="{frame.x(v):.1f}" y="{frame.height - 12}" text-anchor="middle" fill="#555">'
                    f'{v:g} s</text>')
    for k, (label, at, dash) in enumerate((("deadline", deadline_s, "5,4"), ("closed", closed_s, ""))):
        if at is None:
            continue
        x = frame.x(min(max(at, 0.0), x_max))
        body.append(f'<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top}" y2="{frame.y(0):.1f}" '
                    f'stroke="#444" stroke-dasharray="{dash}"/><text x="{x + 3:.1f}" y="{frame.top + 10 + 12 * k}" '
                    f'fill="#444">{label}</text>')
    for k, s in enumerate(series):
        points = [f"{frame.x(0):.1f},{frame.y(0):.1f}"]
        count = 0
        for t, reached in cumulative_steps(s.offsets):
            x = frame.x(t)
            points.append(f"{x:.1f},{frame.y(count):.1f}")
            count = reached
            points.append(f"{x:.1f},{frame.y(count):.1f}")
        points.append(f"{frame.x(x_max):.1f},{frame.y(count):.1f}")
        body.append(f'<polyline class="series" points="{" ".join(points)}" fill="none" stroke="{s.colour}" '
                    f'stroke-width="2"><title>{esc(s.name)}: {count} votes</title></polyline>')
        ly = frame.top + 6 + k * 18
        lx = frame.width - frame.right + 10
        body.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{s.colour}"/>'
                    f'<text x="{lx + 14}" y="{ly + 9}">{esc(s.name)} ({count})</text>')
    return _svg(frame.width, frame.height, title, "".join(body), "votes")
