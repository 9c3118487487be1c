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

from finale.autopilot.judges import PanelStats
from finale.autopilot.phones import CrowdStats
from finale.core.model import AnswerStatus, JudgmentStatus
from finale.store import Store


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0-100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


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


def collect(store: Store, round_ids: Sequence[int], crowd: CrowdStats, panel: PanelStats, *,
            connected_at_end: int, overrides: int) -> Health:
    """Compare what the phones saw with what the store holds."""
    in_log: set[str] = set()
    counted = mismatches = answers_failed = judgments_failed = 0
    for rid in round_ids:
        for ev in store.events(kind="votes.recorded", round_id=rid):
            in_log.update(str(row[2]) for row in ev.payload["votes"])
        stored_labels = {row["device_id"]: row["label"] for row in store.votes(rid)}
        for (r, device), label in crowd.final.items():
            if r == rid:
                counted += device in stored_labels
                mismatches += stored_labels.get(device) != label
        answers_failed += sum(1 for a in store.answers(rid).values() if a.status is not AnswerStatus.OK)
        judgments_failed += sum(1 for j in store.judgments(rid).values() if j.status is JudgmentStatus.FAILED)
    return Health(
        phones=crowd.phones, joined=crowd.joined, connected_at_end=connected_at_end, reconnects=crowd.reconnects,
        resent=crowd.resent, sent=len(crowd.sent), acknowledged=len(crowd.acked & crowd.sent),
        stored=len(crowd.sent & in_log), counted=counted, expected_counted=len(crowd.final),
        final_mismatches=mismatches, p50_ms=percentile(crowd.ack_ms, 50), p99_ms=percentile(crowd.ack_ms, 99),
        panel_sent=panel.sent, panel_acked=panel.acked, answers_failed=answers_failed,
        judgments_failed=judgments_failed, overrides=overrides,
        refused={**crowd.refused, **{f"panel:{k}": v for k, v in panel.refused.items()}},
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def health_table(h: Health) -> Table:
    """The summary as a two-column table, ending with the verdict on the votes."""
    table = Table(title="Autopilot health", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = [
        ("phones connected", f"{h.joined} of {h.phones} joined, {h.connected_at_end} still connected at the end"),
        ("reconnects / votes resent", f"{h.reconnects} / {h.resent}"),
        ("votes sent", str(h.sent)),
        ("votes acknowledged", str(h.acknowledged)),
        ("votes stored", str(h.stored)),
        ("votes counted (last per device)", f"{h.counted} of {h.expected_counted}, {h.final_mismatches} mismatched"),
        ("ack latency p50 / p99", f"{_ms(h.p50_ms)} / {_ms(h.p99_ms)}"),
        ("panel scores sent / acknowledged", f"{h.panel_sent} / {h.panel_acked}"),
        ("answers failed", str(h.answers_failed)),
        ("judgments failed", str(h.judgments_failed)),
        ("overrides applied", str(h.overrides)),
        ("refusals", ", ".join(f"{k}: {v}" for k, v in sorted(h.refused.items())) or "none"),
    ]
    for what, value in rows:
        table.add_row(what, value)
    table.add_row("sent == acknowledged == stored", f"[bold]{'yes' if h.votes_match else 'NO'}[/bold]")
    table.add_row("every phone joined, every panel page scored", f"[bold]{'yes' if h.ok else 'NO'}[/bold]")
    return table
