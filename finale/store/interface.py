"""The store as its callers see it: small typed Protocols, so another backend can stand in.

`AudienceStore` is exactly what the audience hub (audience/) asks of the store; a
later issue implements it on Redis so many hub processes can share votes and
poll state, while SQLite stays the source of truth for scoring, audit and export.
It is made of four parts, each a Protocol of its own so a caller can ask for no
more than it uses:

- `SnapshotReader`: the reads behind one `state` message, inside `read()`
  (on top of `ShowBasics`, the reads the console shares);
- `ChangeSource`: whether anything the pages show changed since the last look;
- `VoteStore`: deciding and storing votes, and the counts;
- `QuestionStore`: questions from the floor and their upvotes (core.questions decides);
- `PageWriter`: what judges' and finalists' pages write.

`ShowReader` is the reading side the console's screens and the report use.
`finale.store.Store` implements all of them (mypy checks it in finale/store/store.py).
Every method raises `finale.store.StoreError` for a write it refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from finale.config import EventConfig
from finale.core.model import Answer, Event, Override, PanelScore, PromptSettings, Round
from finale.core.poll import VoteDecision
from finale.core.questions import Board, FloorQuestion
from finale.core.scoring import RoundRecord
from finale.core.switches import ShowSwitches
from finale.store.audit import EventRow
from finale.store.seal import SealRow
from finale.store.votes import VoteIn


@runtime_checkable
class ShowBasics(Protocol):
    """The reads every view of the show starts from, the hub's pages and the console's screens alike."""

    def read(self) -> AbstractContextManager[None]:
        """A scope in which every read below sees one committed state."""
        ...

    def event(self) -> Event:
        """The event, with each finalist's current prompt settings."""
        ...

    def current_round(self) -> Round | None:
        """The round the show is on, or None before the first."""
        ...

    def answers(self, round_id: int, include_reference: bool = False) -> dict[str, Answer]:
        """A round's answers by finalist id."""
        ...

    def records(self) -> list[RoundRecord]:
        """The round records of every round, for the standings."""
        ...

    def switches(self) -> ShowSwitches:
        """The MC's show-wide switches (pause, freeze, reveal progress)."""
        ...


@runtime_checkable
class SnapshotReader(ShowBasics, Protocol):
    """The reads of one consistent snapshot of the show (the hub's `state` messages)."""

    def panel_scores(self, round_id: int) -> list[PanelScore]:
        """A round's panel scores."""
        ...

    def round_record(self, round_id: int) -> RoundRecord:
        """Everything scoring needs about one round."""
        ...

    def settings_lock(self) -> str | None:
        """Why finalists' settings cannot change now, or None."""
        ...

    def settings_history(self, finalist_id: str) -> list[dict[str, Any]]:
        """Every version of a finalist's settings, oldest first."""
        ...

    def tokens(self, table: str) -> dict[str, str]:
        """Private-link tokens per id, for "panelists" or "finalists"."""
        ...

    def seal_hash(self) -> str | None:
        """SHA-256 of the sealed manifest in force, or None before the seal (the stage's idle screen shows it)."""
        ...

    def question_board(self) -> Board:
        """Questions from the floor every page may know of: open or not, the approved ones, the rejected ids."""
        ...


@runtime_checkable
class ChangeSource(Protocol):
    """Cheap questions that tell a change the pages show from a burst of votes."""

    def event_kinds_since(self, seq: int) -> list[tuple[int, str]]:
        """(sequence number, kind) of every audit event after `seq`, oldest first."""
        ...

    def latest_answer_update(self) -> float | None:
        """When any answer last changed (streamed text is not in the audit log), or None."""
        ...


@runtime_checkable
class VoteStore(Protocol):
    """The audience's votes: one per device per round, decided by the core's rule at commit."""

    def decide_votes(self, votes: Sequence[VoteIn], actor: str = "hub") -> list[VoteDecision]:
        """Decide each vote on the round as it is now and store the accepted ones, atomically."""
        ...

    def counted_vote(self, round_id: int, device_id: str) -> tuple[str | None, str] | None:
        """(client message id, label) of a device's counted vote, to acknowledge a resend; or None."""
        ...

    def device_vote(self, round_id: int, device_id: str) -> str | None:
        """The label a device voted for, shown again when it reconnects; or None."""
        ...

    def vote_labels(self, round_id: int) -> dict[str, int]:
        """Votes per anonymous label (the stage's live tally)."""
        ...

    def voter_secret(self) -> bytes:
        """The event's key for voter credentials, join codes and origin hashes; never logged or exported."""
        ...

    def record_credentials(self, issued: Sequence[tuple[str, float, str]], actor: str = "hub") -> None:
        """A batch of issued voter credentials, (voter id, issue time, origin) each."""
        ...


@runtime_checkable
class QuestionStore(Protocol):
    """Questions from the floor as phones send them: keyed by the voter credential, decided by core.questions."""

    def submit_question(self, voter_id: str, text: object, at: float | None = None,
                        actor: str = "hub") -> FloorQuestion:
        """Store a pending question if the rules take it now (open, length, filter, rate limit); else StoreError."""
        ...

    def upvote_question(self, question_id: int, voter_id: str, at: float | None = None,
                        actor: str = "hub") -> FloorQuestion:
        """Count one upvote of an approved question per voter; the question with its new count; else StoreError."""
        ...


@runtime_checkable
class PageWriter(Protocol):
    """What the judges' and finalists' private pages write through the hub."""

    def save_panel_score(self, score: PanelScore, actor: str) -> None:
        """A panelist's scores for one answer; refused outside the scoring window."""
        ...

    def save_settings(self, finalist_id: str, system_prompt: object, temperature: object, max_tokens: object,
                      actor: str) -> PromptSettings:
        """A finalist's new settings version; refused while a round is being asked."""
        ...


@runtime_checkable
class AudienceStore(SnapshotReader, ChangeSource, VoteStore, QuestionStore, PageWriter, Protocol):
    """Everything the audience hub asks of the store, and nothing more."""

    def event_id(self) -> str | None:
        """The database's identity, made at setup (the hub reports it on /healthz for adoption)."""
        ...

    def event_config(self) -> EventConfig:
        """The event file the database was set up from (the hub takes the pages' languages and wording from it)."""
        ...

    def close(self) -> None:
        """Release the connection; the hub calls it once, at shutdown."""
        ...


@runtime_checkable
class ShowReader(ShowBasics, Protocol):
    """The reads of the console's screens and the post-show report."""

    def event_config(self) -> EventConfig:
        """The event file the database was set up from."""
        ...

    def overrides(self, round_id: int | None = None, include_reverted: bool = True) -> list[Override]:
        """Human overrides, oldest first."""
        ...

    def panel_actors(self, round_id: int) -> dict[tuple[str, str], str]:
        """Who entered each panel score of a round: the judge's page or the MC."""
        ...

    def judges(self, round_id: int) -> dict[str, str]:
        """Which judge model gave each judgment of a round."""
        ...

    def settings(self, finalist_id: str, version: int | None = None) -> PromptSettings:
        """A finalist's settings, latest or of one version."""
        ...

    def votes(self, round_id: int) -> list[dict[str, Any]]:
        """A round's counted votes as rows, in casting order."""
        ...

    def events(self, since: int = 0, kind: str | None = None, round_id: int | None = None,
               limit: int | None = None) -> list[EventRow]:
        """The audit log, filtered."""
        ...

    def event_kind_counts(self) -> dict[str, int]:
        """How many audit events of each kind."""
        ...

    def seals(self) -> list[SealRow]:
        """The sealed manifest and every change after it, oldest first (the report prints their hashes)."""
        ...
