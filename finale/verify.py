"""`finale verify`: replay the audit log from empty and check that the tables and the standings follow from it.

The I/O side of core.replay and core.replay_check: the store hands over the
events and the tables, the core replays and compares, this module also checks
the seal (each manifest hashes to its logged SHA-256, the `seals` table holds
exactly the logged manifests, and the event file the show is scored with is the
sealed one) and says the result in lines an organiser can paste into an email.
Nothing secret is printed: the manifest holds none (finale.seal), and neither
the seal key nor the voter secret is read here except to re-derive commitments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from finale.core.manifest import changed_sections
from finale.core.ranking import TIE_BREAKS
from finale.core.replay import CastVote, LoggedEvent, RoundState, ShowState, replay
from finale.core.replay_check import Divergence, divergences
from finale.seal import event_file_section, software
from finale.store import Store
from finale.store.seal import SealRow


@dataclass(frozen=True)
class VerifyResult:
    """What `finale verify` found: the events replayed, the differences (first first) and notes."""

    events: int
    divergences: list[Divergence]
    kinds: dict[int, str]  # seq -> kind, to name each difference's event
    seal: SealRow | None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.divergences

    def lines(self) -> list[str]:
        """The command's output: notes, then `verified: ...` or the first divergence and how many more."""
        out = list(self.notes)
        if self.ok:
            out.append(f"verified: {self.events} events, standings identical")
            return out
        out.append(f"divergence at {self.divergences[0].describe(self.kinds)}")
        if len(self.divergences) > 1:
            out.append(f"({len(self.divergences) - 1} more difference(s) follow from the log; the first is shown)")
        return out


def tables(store: Store) -> dict[int, RoundState]:
    """Every round as the tables hold it, in the replay's shape."""
    out: dict[int, RoundState] = {}
    for rnd in store.rounds():
        answers = store.answers(rnd.id, include_reference=True)
        reference = answers.pop("reference", None)
        votes = {str(v["device_id"]): _vote(v) for v in store.votes(rnd.id)}
        out[rnd.id] = RoundState(
            rnd, answers, reference, store.judgments(rnd.id),
            {(s.finalist_id, s.panelist_id): s for s in store.panel_scores(rnd.id)}, votes,
            {o.id: o for o in store.overrides(rnd.id)}, store.decisions(rnd.id))
    return out


def _vote(row: dict[str, Any]) -> CastVote:
    origin, issued = row.get("origin"), row.get("issued_at")
    return CastVote(str(row["label"]), None if origin is None else str(origin),
                    None if issued is None else float(issued))


def _seal_divergences(store: Store, replayed: ShowState) -> tuple[list[Divergence], list[str]]:
    """The `seals` table against the logged manifests, and the event file in use against the sealed one."""
    found: list[Divergence] = []
    notes: list[str] = []
    stored = store.seals()
    for i in range(max(len(stored), len(replayed.seals))):
        row = stored[i] if i < len(stored) else None
        logged = replayed.seals[i] if i < len(replayed.seals) else None
        if logged is None and row is not None:
            found.append(Divergence(row.seq, f"the seals table holds manifest {row.sha256} that no event logged"))
        elif row is None and logged is not None:
            found.append(Divergence(logged.seq, f"the log's manifest {logged.sha256} is not in the seals table"))
        elif row is not None and logged is not None and (row.seq, row.sha256, row.manifest) != (
                logged.seq, logged.sha256, dict(logged.manifest)):
            found.append(Divergence(logged.seq, f"the seals table's manifest ({row.sha256}, event {row.seq}) is not "
                                                f"the one logged ({logged.sha256})"))
    if not replayed.seals:
        notes.append("not sealed: no manifest on the record (`finale seal EVENT_FILE`, or the first ask, seals it)")
        return found, notes
    latest = replayed.seals[-1]
    in_use = event_file_section(store.event_config(), store.seal_key())
    sealed = latest.manifest.get("event_file", {})
    if in_use != sealed:
        where = ", ".join(changed_sections({"event_file": sealed}, {"event_file": in_use}))
        found.append(Divergence(latest.seq, f"the event file the database scores with is not the sealed one "
                                            f"({where} differ from manifest {latest.sha256})"))
    if list(latest.manifest.get("tie_breaks", [])) != list(TIE_BREAKS):
        found.append(Divergence(latest.seq, f"the sealed tie-break order {latest.manifest.get('tie_breaks')} is not "
                                            f"this finale's {list(TIE_BREAKS)}"))
    changes = len(replayed.seals) - 1
    notes.append(f"manifest sha256 {latest.sha256}" + (f" ({changes} change(s) after the seal, on the record)"
                                                       if changes else " (as sealed)"))
    sealed_core = latest.manifest.get("software", {}).get("core_sha256")
    if sealed_core != software()["core_sha256"]:
        notes.append("note: the rules' source (finale/core) differs from the one sealed; the standings below are "
                     "recomputed with this finale's")
    return found, notes


def verify(store: Store) -> VerifyResult:
    """Replay the database's events from empty and compare everything scoring reads, then the seal."""
    with store.read():
        events = [LoggedEvent(e.seq, e.at, e.actor, e.kind, e.round_id, e.payload) for e in store.events()]
        replayed = replay(events)
        found = divergences(replayed, tables(store), store.event(), store.records())
        sealed_found, notes = _seal_divergences(store, replayed)
        highest = store.highest_event_seq()
    if highest > replayed.last_seq:
        found.append(Divergence(None, f"the log ends at event {replayed.last_seq} but it issued up to {highest}: "
                                      "the latest events were deleted"))
    found = sorted(found + sealed_found, key=lambda d: (d.seq is None, d.seq or 0))
    return VerifyResult(replayed.events, found, {e.seq: e.kind for e in events}, store.sealed(), notes)
