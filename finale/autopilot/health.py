"""The autopilot's health summary: did every vote the phones sent get acknowledged and stored?

"Sent" counts distinct vote messages (a resend after a reconnect carries the
same id and counts once); "stored" counts those ids found in the store's audit
log (`votes.recorded`), so a phone that changed its mind has two votes sent,
acknowledged and stored, and one counted. "Counted" checks the other side: the
vote the store counts for each device is the last one that device had
acknowledged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.table import Table
from rich.text import Text

from finale.autopilot.judges import PanelStats
from finale.autopilot.phones import CrowdStats
from finale.core.model import AnswerStatus
from finale.core.scoring import score_round
from finale.runner import waived_line
from finale.store import Store


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0-100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class FailedJudgment:
    """One answer the LLM judge could not score, even when re-judged."""

    round_id: int
    finalist: str  # the finalist's name
    reason: str
    waived: bool  # the LLM component was waived on the record


@dataclass(frozen=True)
class Health:
    """Figures for one unattended show."""

    phones: int
    joined: int
    connected_at_end: int
    reconnects: int
    resent: int
    sent: int
    acknowledged: int
    stored: int
    counted: int
    expected_counted: int
    final_mismatches: int
    p50_ms: float | None
    p99_ms: float | None
    panel_sent: int
    panel_acked: int
    answers_failed: int
    judgments_failed: int
    overrides: int
    refused: dict[str, int] = field(default_factory=dict)
    failed_judgments: tuple[FailedJudgment, ...] = ()

    @property
    def votes_match(self) -> bool:
        """sent == acknowledged == stored, and the store counts each device's last acknowledged vote."""
        return (self.sent == self.acknowledged == self.stored and self.final_mismatches == 0
                and self.counted == self.expected_counted)

    @property
    def ok(self) -> bool:
        """The votes match, every phone joined, and every panelist's page scored every answer."""
        panel_ok = self.panel_sent == self.panel_acked and not any(k.startswith("panel:") for k in self.refused)
        return self.votes_match and panel_ok and self.joined == self.phones

    @property
    def passed(self) -> bool:
        """`ok`, and the judge scored every answer: nothing had to be waived."""
        return self.ok and self.judgments_failed == 0


def verdict(h: Health) -> str | None:
    """One line saying why the rehearsal did not pass, or None when it did."""
    problems: list[str] = []
    if h.failed_judgments:
        waived = [f.round_id for f in h.failed_judgments if f.waived]
        unwaived = len(h.failed_judgments) - len(waived)
        problems += [waived_line(waived)] if waived else []
        problems += [f"{unwaived} failed judgments were not waived"] if unwaived else []
    if h.joined != h.phones:
        problems.append(f"only {h.joined} of {h.phones} phones joined")
    if not h.votes_match:
        problems.append(f"votes sent {h.sent}, acknowledged {h.acknowledged}, stored {h.stored}, "
                        f"counted {h.counted} of {h.expected_counted} ({h.final_mismatches} mismatched)")
    if h.panel_sent != h.panel_acked or any(k.startswith("panel:") for k in h.refused):
        problems.append(f"the panel pages had {h.panel_acked} of {h.panel_sent} scores acknowledged")
    return "autopilot: " + "; ".join(problems) if problems else None


def collect(store: Store, round_ids: Sequence[int], crowd: CrowdStats, panel: PanelStats, *,
            connected_at_end: int, overrides: int) -> Health:
    """Compare what the phones saw with what the store holds."""
    in_log: set[str] = set()
    counted = mismatches = answers_failed = 0
    finalists = store.event_config().finalists
    names = {f.id: f.name for f in finalists}
    order = {f.id: i for i, f in enumerate(finalists)}
    failed: list[FailedJudgment] = []
    for rid in round_ids:
        for ev in store.events(kind="votes.recorded", round_id=rid):
            in_log.update(str(row[2]) for row in ev.payload["votes"])
        stored_labels = {row["device_id"]: row["label"] for row in store.votes(rid)}
        for (r, device), label in crowd.final.items():
            if r == rid:
                counted += device in stored_labels
                mismatches += stored_labels.get(device) != label
        answers_failed += sum(1 for a in store.answers(rid).values() if a.status is not AnswerStatus.OK)
        scored = score_round(store.event(), store.round_record(rid))
        failed += [FailedJudgment(rid, names.get(fid, fid), j.reason or "no reason given",
                                  fid in scored and scored[fid].llm.waived)
                   for fid, j in sorted(store.judgments(rid).items(), key=lambda kv: order.get(kv[0], 0))
                   if j.failed]
    return Health(
        phones=crowd.phones, joined=crowd.joined, connected_at_end=connected_at_end, reconnects=crowd.reconnects,
        resent=crowd.resent, sent=len(crowd.sent), acknowledged=len(crowd.acked & crowd.sent),
        stored=len(crowd.sent & in_log), counted=counted, expected_counted=len(crowd.final),
        final_mismatches=mismatches, p50_ms=percentile(crowd.ack_ms, 50), p99_ms=percentile(crowd.ack_ms, 99),
        panel_sent=panel.sent, panel_acked=panel.acked, answers_failed=answers_failed,
        judgments_failed=len(failed), overrides=overrides,
        refused={**crowd.refused, **{f"panel:{k}": v for k, v in panel.refused.items()}},
        failed_judgments=tuple(failed),
    )


def _judgments_failed(h: Health) -> str:
    waived = sum(1 for f in h.failed_judgments if f.waived)
    if not h.judgments_failed:
        return "0"
    return f"{h.judgments_failed}, {'all' if waived == h.judgments_failed else waived} waived on the record"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _failed_rows(failed: Sequence[FailedJudgment]) -> list[tuple[str, str | Text]]:
    """Who the judge failed, round by round (and whether it was waived), then each distinct reason once."""
    by_round: dict[int, list[FailedJudgment]] = {}
    for f in failed:
        by_round.setdefault(f.round_id, []).append(f)
    rows: list[tuple[str, str | Text]] = []
    for rid, group in by_round.items():
        names = ", ".join(f"{f.finalist}{'' if f.waived else ' (NOT waived)'}" for f in group)
        rows.append((f"  round {rid}", names))
    reasons: dict[str, int] = {}
    for f in failed:
        reasons[f.reason] = reasons.get(f.reason, 0) + 1
    for reason, n in reasons.items():
        rows.append((f"  the judge's reason ({n}x)", Text(reason, justify="left")))
    return rows


def health_table(h: Health) -> Table:
    """The summary as a two-column table, ending with the verdict on the votes."""
    table = Table(title="Autopilot health", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    rows: list[tuple[str, str | Text]] = [
        ("phones connected", f"{h.joined} of {h.phones} joined, {h.connected_at_end} still connected at the end"),
        ("reconnects / votes resent", f"{h.reconnects} / {h.resent}"),
        ("votes sent", str(h.sent)),
        ("votes acknowledged", str(h.acknowledged)),
        ("votes stored", str(h.stored)),
        ("votes counted (last per device)", f"{h.counted} of {h.expected_counted}, {h.final_mismatches} mismatched"),
        ("ack latency p50 / p99", f"{_ms(h.p50_ms)} / {_ms(h.p99_ms)}"),
        ("panel scores sent / acknowledged", f"{h.panel_sent} / {h.panel_acked}"),
        ("answers failed", str(h.answers_failed)),
        ("judgments failed", _judgments_failed(h)),
        *_failed_rows(h.failed_judgments),
        ("overrides applied", str(h.overrides)),
        ("refusals", ", ".join(f"{k}: {v}" for k, v in sorted(h.refused.items())) or "none"),
    ]
    for what, value in rows:
        table.add_row(what, value)
    table.add_row("sent == acknowledged == stored", f"[bold]{'yes' if h.votes_match else 'NO'}[/bold]")
    table.add_row("every phone joined, every panel page scored", f"[bold]{'yes' if h.ok else 'NO'}[/bold]")
    table.add_row("the judge scored every answer", f"[bold]{'yes' if not h.judgments_failed else 'NO'}[/bold]")
    return table
