"""The judging screen: the judge's scores and rationale beside the answer they are for, failures, dispute flags.

Where overrides are made, the head judge reads the answer itself; a judge-vs-panel
gap is settled by an override (o) or by ruling that the judge's score stands (k).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from finale.core.disputes import DisputeKind
from finale.core.model import AnswerStatus, Component, JudgmentStatus
from finale.core.text import inert, one_line
from finale.tui.judge_notes import flag_words, head_to_head_line, judge_detail
from finale.tui.screens.base import ConsoleScreen
from finale.tui.screens.standings_rows import mark
from finale.tui.screens.tables import Cell, fill_table, selected_key
from finale.tui.state import ShowSnapshot


class JudgingScreen(ConsoleScreen):
    """One row per answer; the selected row's rationale and flags below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "app.judge", "Judge all"),
        Binding("e", "rejudge", "Re-judge"),
        Binding("h", "by_hand", "Score by hand"),
        Binding("o", "override", "Override"),
        Binding("k", "keep_judge", "Keep judge's score"),
        Binding("m", "app.toggle_names", "Names/labels", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(id="judging-title", classes="section-title")
        yield Static(id="judging-h2h")
        yield DataTable(id="judgments", cursor_type="row", zebra_stripes=True)
        yield Static(id="round-agreement", classes="hint")
        with Horizontal(id="judging-below"):
            with VerticalScroll(id="judged-answer-box"):
                yield Static(id="judged-answer")
            with VerticalScroll(id="judgment-detail-box"):
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
        self.query_one("#judging-h2h", Static).update(head_to_head_line(snapshot, self.console.show_names))
        names = snapshot.names
        flagged: dict[str, list[str]] = {}
        for d in snapshot.disputes:
            flagged.setdefault(d.finalist_id, []).append(d.kind + ((" (kept)" if d.kept else " (resolved)")
                                                                   if d.resolved else ""))
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
            words = flagged.get(fid, []) + flag_words(snapshot, fid)
            flags = Text(", ".join(words), style="bold magenta") if words else Text("")
            rows.append((fid, (label, who, status, *scores, llm, flags)))
        rows.sort(key=lambda r: str(r[1][0]))
        fill_table(self.query_one("#judgments", DataTable), rows)
        if snapshot.agreement is not None:
            self.query_one("#round-agreement", Static).update(
                Text(snapshot.agreement.describe(f"round {rec.round.id}")))
        if rows:
            self._to_first_flagged()
        self._show_detail()

    @on(DataTable.RowHighlighted, "#judgments")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _selected(self) -> str | None:
        return selected_key(self.query_one("#judgments", DataTable))

    _auto_row: int | None = None  # where the screen put the cursor; once the MC moves it, it stays theirs

    def on_screen_resume(self) -> None:
        self._auto_row = None
        super().on_screen_resume()

    def _to_first_flagged(self) -> None:
        """Keep the cursor on the first answer that needs the head judge, until the MC moves it themselves."""
        snapshot = self.console.snapshot
        table: DataTable[Cell] = self.query_one("#judgments", DataTable)
        if snapshot is None or snapshot.current is None or table.row_count == 0:
            return
        if self._auto_row is not None and table.cursor_row != self._auto_row:
            return
        rec = snapshot.current
        flagged = {d.finalist_id for d in snapshot.disputes if not d.resolved}
        flagged |= {fid for fid, j in rec.judgments.items() if j.status is JudgmentStatus.FAILED}
        order = sorted(snapshot.event.finalist_ids, key=lambda f: rec.round.labels.get(f, "?"))
        target = next((i for i, fid in enumerate(order) if fid in flagged), table.cursor_row)
        if target != table.cursor_row:
            table.move_cursor(row=target, animate=False)
        self._auto_row = target

    def _show_answer(self, fid: str | None) -> None:
        """The selected answer's own text, beside its scores (untrusted: plain text, never markup)."""
        snapshot = self.console.snapshot
        text = Text()
        rec = snapshot.current if snapshot is not None else None
        answer = rec.answers.get(fid) if rec is not None and fid is not None else None
        if rec is not None and fid is not None:
            label = rec.round.labels.get(fid, "?")
            name = f" · {snapshot.names[fid]}" if snapshot is not None and self.console.show_names else ""
            text.append(f"Answer {label}{name}", style="bold")
            if answer is None:
                text.append("\nnot asked", style="dim")
            else:
                text.append(f" · {answer.status} · {answer.tokens} tokens", style="dim")
                text.append("\n")
                text.append(inert(answer.text) if answer.text else "(no text)")
        self.query_one("#judged-answer", Static).update(text)

    def _show_detail(self) -> None:
        snapshot = self.console.snapshot
        fid = self._selected()
        detail = Text()
        self._show_answer(fid)
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
        detail.append_text(judge_detail(snapshot, fid))  # each judge's scores, the head-to-head, judge flags
        answer = snapshot.current.answers.get(fid)
        if answer is not None and answer.status in (AnswerStatus.ERROR, AnswerStatus.TIMEOUT):
            detail.append(f"\nThis answer failed ({answer.status}): judged as an empty answer. ", style="bold yellow")
            detail.append("Judging closed re-asking; o overrides or waives its scores (reason on the record).",
                          style="yellow")
        for d in snapshot.disputes:
            if d.finalist_id == fid:
                detail.append(f"\n⚑ {d.kind}: ", style="bold magenta")
                if d.resolved:
                    detail.append(d.reason + (" (the judge's score was kept, on the record)" if d.kept
                                              else " (resolved by an override)"))
                elif d.kind is DisputeKind.GAP:
                    detail.append(d.reason + " → k keeps the judge's score, o overrides (a reason either way)")
                else:
                    detail.append(d.reason + " → press o to override")
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

    def action_keep_judge(self) -> None:
        self.console.action_keep_judge(self._selected())
