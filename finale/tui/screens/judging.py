"""The judging screen: the judge's scores and rationale, failures in warning style, dispute flags."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from finale.core.model import AnswerStatus, Component, JudgmentStatus
from finale.core.text import inert, one_line
from finale.tui.screens.base import ConsoleScreen
from finale.tui.screens.standings_rows import mark
from finale.tui.screens.tables import Cell, fill_table, selected_key
from finale.tui.state import ShowSnapshot


class JudgingScreen(ConsoleScreen):
    """One row per answer; the selected row's rationale and flags below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "app.judge", "Judge all"),
        Binding("e", "rejudge", "Re-judge selected"),
        Binding("h", "by_hand", "Score by hand"),
        Binding("o", "override", "Override"),
        Binding("m", "app.toggle_names", "Names/labels"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(id="judging-title", classes="section-title")
        yield DataTable(id="judgments", cursor_type="row", zebra_stripes=True)
        yield Static(id="round-agreement", classes="hint")
        yield Static(id="judgment-detail")

    def on_mount(self) -> None:
        table: DataTable[Cell] = self.query_one("#judgments", DataTable)
        columns = ["Label", "Finalist", "Judge", *self.console.config.to_core().criterion_ids, "LLM /100", "Flags"]
        table.add_columns(*columns)
        super().on_mount()

    def render_snapshot(self, snapshot: ShowSnapshot) -> None:
        rec = snapshot.current
        title = self.query_one("#judging-title", Static)
        if rec is None:
            title.update("No round yet.")
            return
        title.update(f"LLM judge · round {rec.round.id} · {rec.round.phase}")
        names = snapshot.names
        flagged: dict[str, list[str]] = {}
        for d in snapshot.disputes:
            flagged.setdefault(d.finalist_id, []).append(d.kind + (" (resolved)" if d.resolved else ""))
        rows: list[tuple[str, tuple[Cell, ...]]] = []
        for fid in snapshot.event.finalist_ids:
            label = rec.round.labels.get(fid, "?")
            who = names[fid] if self.console.show_names else "—"
            j = rec.judgments.get(fid)
            fr = snapshot.scored.get(fid)
            if j is None:
                status: Cell = Text("waiting", style="dim")
                scores = ["–"] * len(snapshot.event.criterion_ids)
            elif j.status is JudgmentStatus.FAILED:
                status = Text("FAILED", style="bold black on yellow")
                scores = ["–"] * len(snapshot.event.criterion_ids)
            else:
                status = Text("ok", style="bold green")
                scores = [f"{j.scores.get(c, 0):g}" for c in snapshot.event.criterion_ids]
            answer = rec.answers.get(fid)
            if answer is not None and answer.status in (AnswerStatus.ERROR, AnswerStatus.TIMEOUT):
                status = Text(f"no answer ({answer.status})", style="bold black on yellow")
            llm = "–"
            if fr is not None:
                llm = "waived" if fr.llm.waived else ("–" if fr.llm.value is None else f"{fr.llm.value:.1f}")
                llm += mark(fr.llm) if not fr.llm.waived else ""
            flags = Text(", ".join(flagged.get(fid, [])), style="bold magenta") if fid in flagged else Text("")
            rows.append((fid, (label, who, status, *scores, llm, flags)))
        rows.sort(key=lambda r: str(r[1][0]))
        fill_table(self.query_one("#judgments", DataTable), rows)
        if snapshot.agreement is not None:
            self.query_one("#round-agreement", Static).update(
                Text(snapshot.agreement.describe(f"round {rec.round.id}")))
        self._show_detail()

    @on(DataTable.RowHighlighted, "#judgments")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _selected(self) -> str | None:
        return selected_key(self.query_one("#judgments", DataTable))

    def _show_detail(self) -> None:
        snapshot = self.console.snapshot
        fid = self._selected()
        detail = Text()
        if snapshot is None or snapshot.current is None or fid is None:
            self.query_one("#judgment-detail", Static).update(detail)
            return
        j = snapshot.current.judgments.get(fid)
        if j is None:
            detail.append("Not judged yet. Press j to run the judge.", style="dim")
        elif j.status is JudgmentStatus.FAILED:
            detail.append("Judgment failed: ", style="bold black on yellow")
            detail.append(one_line(j.reason or "no reason given"))
            detail.append("\nPress e to re-judge this answer or h to score it by hand.", style="yellow")
        else:
            detail.append("Rationale: ", style="bold")
            detail.append(inert(j.rationale))
        answer = snapshot.current.answers.get(fid)
        if answer is not None and answer.status in (AnswerStatus.ERROR, AnswerStatus.TIMEOUT):
            detail.append(f"\nThis answer failed ({answer.status}): judged as an empty answer. ", style="bold yellow")
            detail.append("Judging closed re-asking; o overrides or waives its scores (reason on the record).",
                          style="yellow")
        for d in snapshot.disputes:
            if d.finalist_id == fid:
                detail.append(f"\n⚑ {d.kind}: ", style="bold magenta")
                detail.append(d.reason + (" (resolved by an override)" if d.resolved else " → press o to override"))
        self.query_one("#judgment-detail", Static).update(detail)

    def action_rejudge(self) -> None:
        fid = self._selected()
        if fid is not None:
            self.console.action_judge([fid])

    def action_by_hand(self) -> None:
        fid = self._selected()
        self.console.action_override(fid, Component.LLM)

    def action_override(self) -> None:
        self.console.action_override(self._selected(), None)
