"""The integrity view: is someone stuffing the audience vote? New phones per minute, votes per origin,
phones that joined during the poll, alarms past the event file's thresholds, and the remedy (d: discount).

The numbers are core.integrity's, from what the store returns; the discount is an override through the
Director (reason and actor on the record; u reverts the newest, or any from the audit log, key 7).
"""

from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static

from finale.config import EventConfig
from finale.core.discount import DiscountError, VoteDiscount
from finale.core.integrity import IntegrityReport, integrity_report
from finale.core.model import OverrideAction, Round
from finale.store import Store
from finale.tui.screens.base import ConsoleScreen
from finale.tui.screens.tables import Cell, fill_table, selected_key
from finale.tui.state import ShowSnapshot

READ_EVERY_S = 1.0  # the view reads at most this often, however fast votes arrive
ORIGIN = re.compile(r"^o[0-9a-f]{16}$")
WINDOW = re.compile(r"^(\d{1,2}:\d{2}(?::\d{2})?)\s*-\s*(\d{1,2}:\d{2}(?::\d{2})?)$")


def read_integrity(store: Store, config: EventConfig, rnd: Round | None, now: float) -> IntegrityReport:
    """The integrity report of the current round, from the store's votes and issued credentials (a worker thread)."""
    groups = store.vote_groups(rnd.id) if rnd is not None else []
    poll = (rnd.vote_opened_at, rnd.vote_deadline) if rnd is not None else (None, None)
    return integrity_report(rnd.id if rnd else None, poll, groups, store.credentials_since(now - 600), now,
                            config.voting.integrity_thresholds())


def _clock(text: str, day: float) -> float:
    """HH:MM[:SS] on the local day of `day` as epoch seconds."""
    parts = [int(p) for p in text.split(":")] + [0]
    base = time.localtime(day)
    return time.mktime((base.tm_year, base.tm_mon, base.tm_mday, parts[0], parts[1], parts[2], 0, 0, -1))


@dataclass(frozen=True)
class AddressScope:
    """The votes of one IP address the crew found: the Director turns it into that address's origin."""

    address: str


def parse_scope(text: str, rnd: Round, now: float) -> VoteDiscount | AddressScope | str:
    """What the head judge typed as a discount's scope, or (a str) why it cannot be one.

    `o` + 16 hex digits: an origin from the table; an IP address: that address's origin; `poll`:
    credentials minted during this round's poll; `HH:MM[:SS]-HH:MM[:SS]`: minted in that window today.
    """
    text = text.strip()
    if ORIGIN.match(text):
        return VoteDiscount(origin=text)
    try:
        return AddressScope(str(ipaddress.ip_address(text)))
    except ValueError:
        pass
    try:
        if text.lower() == "poll":
            if rnd.vote_opened_at is None:
                return "this round's poll has not opened: there is no minting window to discount"
            return VoteDiscount(minted_from=rnd.vote_opened_at, minted_to=rnd.vote_deadline or now)
        window = WINDOW.match(text)
        if window:
            return VoteDiscount(minted_from=_clock(window[1], now), minted_to=_clock(window[2], now))
    except DiscountError as exc:
        return str(exc)
    return ("expected an origin from the table (o + 16 hex digits), an IP address, 'poll', or a minting window "
            f"HH:MM:SS-HH:MM:SS; got {text[:40]!r}")


@dataclass(frozen=True)
class DiscountRequest:
    """What the discount dialog asks the Director for."""

    round_id: int
    scope: VoteDiscount | AddressScope
    reason: str


class DiscountModal(ModalScreen[DiscountRequest | None]):
    """Which votes to discount (prefilled from the selected origin) and why; Enter confirms, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, rnd: Round, scope: str, now: float) -> None:
        super().__init__()
        self.round, self.scope, self.now = rnd, scope, now

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Discount audience votes in round {self.round.id}", classes="dialog-title")
            yield Static(Text("An override on the record: the votes stay stored, the round counts without them, "
                              "and reverting it (u here, or the audit log) brings them back exactly."))
            yield Input(value=self.scope, placeholder="origin (o…), IP address, poll, or HH:MM:SS-HH:MM:SS",
                        id="scope")
            yield Input(placeholder="reason (required, on the record)", id="discount-reason", max_length=500)
            yield Static(id="discount-message")
            yield Static("Enter to confirm · Esc to cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#discount-reason", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, _event: Input.Submitted) -> None:
        scope = parse_scope(self.query_one("#scope", Input).value, self.round, self.now)
        reason = self.query_one("#discount-reason", Input).value.strip()
        if isinstance(scope, str) or not reason:
            problem = scope if isinstance(scope, str) else "A reason is required."
            self.query_one("#discount-message", Static).update(Text(problem, style="bold red"))
            return
        self.dismiss(DiscountRequest(self.round.id, scope, reason))

    def action_cancel(self) -> None:
        self.dismiss(None)


class IntegrityScreen(ConsoleScreen):
    """Alarms on top; new credentials per minute, the top origins of the round, the joined-during-poll share."""

    AUTO_FOCUS = "#origins"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "discount", "Discount votes"),
        Binding("u", "revert_discount", "Revert discount"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report: IntegrityReport | None = None
        self._read_at = 0.0

    def compose_body(self) -> ComposeResult:
        yield Static(id="integrity-alarms")
        with Horizontal(id="integrity-body"):
            with Vertical(id="integrity-left"):
                yield Static(id="integrity-summary")
                yield Static(id="integrity-minutes")
            yield DataTable(id="origins", cursor_type="row", zebra_stripes=True)
        yield Static(id="integrity-discounts")

    def on_mount(self) -> None:
        self._origins_table()
        super().on_mount()

    def _origins_table(self) -> DataTable[Cell]:
        """The top origins' table, with its columns (a report read by the worker may arrive before on_mount)."""
        table: DataTable[Cell] = self.query_one("#origins", DataTable)
        if not table.columns:
            table.add_columns("Origin", "Votes", "Share")
        return table

    def render_snapshot(self, snapshot: ShowSnapshot) -> None:
        self._discounts(snapshot)
        if time.monotonic() - self._read_at >= READ_EVERY_S:
            self._read_at = time.monotonic()
            self.load_report(snapshot.round)

    def tick(self) -> None:
        super().tick()
        if self.composed and self.console.snapshot is not None and time.monotonic() - self._read_at >= READ_EVERY_S:
            self.render_snapshot(self.console.snapshot)

    @work(name="read-integrity", thread=True, exclusive=True, group="integrity")
    def load_report(self, rnd: Round | None) -> None:
        config, now = self.console.config, self.console.clock()
        report = self.console.read_store(lambda store: read_integrity(store, config, rnd, now))
        self.app.call_from_thread(self.show_report, report)

    def show_report(self, report: IntegrityReport) -> None:
        """Paint one report (also what the tests read)."""
        if not self.composed:  # the read finished after the screen was closed
            return
        self.report = report
        alarms = Text()
        for alarm in report.alarms:
            alarms.append(f"ALARM · {alarm.message}\n", style="bold white on red")
        if not report.alarms:
            alarms.append("No alarm: the vote looks like an audience.", style="green")
        self.query_one("#integrity-alarms", Static).update(alarms)
        share = "–" if report.minted_share is None else f"{report.minted_share:.0%}"
        self.query_one("#integrity-summary", Static).update(Text(
            f"Round {report.round_id or '–'}: {report.votes} votes · {report.minted_during_poll} from phones "
            f"that joined during its poll ({share})\nNew voter credentials in the last minute: {report.last_minute}"))
        peak = max((n for _, n in report.per_minute), default=0) or 1
        minutes = Text("New credentials per minute\n", style="bold")
        for start, n in report.per_minute:
            minutes.append(f"{time.strftime('%H:%M', time.localtime(start))} {'█' * round(20 * n / peak):<20} {n}\n")
        self.query_one("#integrity-minutes", Static).update(minutes)
        fill_table(self._origins_table(), [
            (o.origin, (o.origin, str(o.votes), f"{o.share:.0%}")) for o in report.top_origins])

    def _discounts(self, snapshot: ShowSnapshot) -> None:
        rnd = snapshot.round
        standing = [o for o in snapshot.overrides if rnd is not None and o.round_id == rnd.id
                    and o.action is OverrideAction.DISCOUNT and not o.reverted and o.discount]
        text = Text("Discounts standing in this round: ", style="bold")
        text.append(", ".join(f"#{o.id} {o.discount.describe()} ({o.reason})" for o in standing if o.discount)
                    or "none", style="yellow" if standing else "")
        text.append("\nd discounts the selected origin (or type an IP, 'poll', or a minting window); "
                    "u reverts the newest discount", style="dim")
        self.query_one("#integrity-discounts", Static).update(text)

    def action_discount(self) -> None:
        snapshot = self.console.snapshot
        rnd = snapshot.round if snapshot is not None else None
        if rnd is None:
            self.notify("There is no round to discount votes in.", severity="warning")
            return
        origin = selected_key(self.query_one("#origins", DataTable)) or "poll"
        self.app.push_screen(DiscountModal(rnd, origin, self.console.clock()), self._confirmed)

    def _confirmed(self, request: DiscountRequest | None) -> None:
        if request is None:
            return
        director = self.console.director

        def job() -> str:
            scope = request.scope
            discount = VoteDiscount(origin=director.origin_of(scope.address)) if isinstance(scope, AddressScope) \
                else scope
            o = director.discount_votes(request.round_id, discount, request.reason)
            return f"Discount #{o.id} on the record: round {request.round_id} counts without {discount.describe()}."

        self.console._intent("discount", job)  # in order with the MC's other intents, reported as a toast
        self._read_at = 0.0

    def action_revert_discount(self) -> None:
        snapshot = self.console.snapshot
        rnd = snapshot.round if snapshot is not None else None
        standing = [o for o in (snapshot.overrides if snapshot else []) if rnd is not None and o.round_id == rnd.id
                    and o.action is OverrideAction.DISCOUNT and not o.reverted]
        if not standing:
            self.notify("No discount stands in this round.", severity="warning")
            return
        self.console.action_revert(standing[-1].id)
