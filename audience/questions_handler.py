"""What the hub does with a phone's `question` and `upvote`: keyed by its voter credential, decided by core.questions.

A mixin of `Hub` (through audience.handlers). The hub refuses at once what its view
already settles (no credential; questions not open), then writes through a
`QuestionStore` (finale.store.interface), which asks core.questions again inside its
transaction: a rejection, the rate limit, the filter and the upvote rules have one
home, and a Redis implementation of the same Protocol can stand in on a hub node
without the database. Nothing here shows a question to anyone: only approved ones
reach pages, through the snapshot (audience.state).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from audience import protocol, state
from audience.health import WriteHealth
from finale.core.ballot import Credential
from finale.store import DatabaseError, QuestionStore, Store, StoreError

if TYPE_CHECKING:
    from audience.handlers import Client
    from audience.scale.node import ScaleNode

T = TypeVar("T")


class QuestionHandlers:
    """The `question` and `upvote` messages of audience phones."""

    snap: state.Snapshot | None
    write_health: WriteHealth
    scale: ScaleNode | None

    if TYPE_CHECKING:  # defined by Hub and HubHandlers
        @property
        def store_w(self) -> Store: ...
        @property
        def private_pages(self) -> bool: ...
        async def _write(self, fn: Callable[..., T], *args: Any) -> T: ...
        async def _refuse(self, c: Client, code: str, message: str, msg_id: str | None = None) -> None: ...
        async def _send(self, c: Client, message: dict[str, Any]) -> None: ...

    def _question_store(self) -> QuestionStore | None:
        """Where questions are kept on this hub: the event database (a hub node without one has none yet)."""
        return self.store_w if self.private_pages else None

    async def _floor_voter(self, c: Client, msg_id: str, what: str) -> Credential | None:
        """The phone's credential while questions are open, or None once the phone has been told why not."""
        voter = c.voter
        if voter is None:  # keyed by the hub's credential, never by what the client calls itself
            why_not = c.no_voter[1] if c.no_voter else "it said hello without one"
            await self._refuse(c, "no_credential", f"this phone has no voter credential ({why_not}); this {what} "
                               "was not taken", msg_id)
            return None
        if self.snap is None or not self.snap.questions.open:
            await self._refuse(c, "questions_closed", "questions are not open now; the MC opens them between rounds",
                               msg_id)
            return None
        return voter

    async def _floor_store(self, c: Client, msg_id: str) -> QuestionStore | None:
        """Where this hub keeps questions, or None once the phone has been told it cannot take them."""
        store = self._question_store()
        if store is None:
            await self._refuse(c, "unavailable", "this hub node cannot take questions; reload the page", msg_id)
        return store

    async def _relayed(self, c: Client, msg_id: str, kind: str, voter: Credential, subject: str | int) -> bool:
        """On a node without the database: the console's bridge decides (audience.scale.floor); True if handled."""
        relay = self.scale.floor if self.scale is not None and not self.private_pages else None
        if relay is None:
            return False
        reply = await relay.ask(kind, voter.voter_id, subject, time.time())
        if reply.code is not None:
            await self._refuse(c, reply.code, reply.message or reply.code, msg_id)
        elif kind == "question":
            await self._send(c, protocol.ack(msg_id, question_id=reply.question_id, status=reply.status))
        else:
            await self._send(c, protocol.ack(msg_id, question_id=reply.question_id, upvotes=reply.upvotes))
        return True

    async def _stored(self, c: Client, msg_id: str, call: Callable[[], T]) -> T | None:
        """Run one write in the writer thread; a refusal or a failing disk is told to the phone (None)."""
        try:
            result = await self._write(call)
        except StoreError as exc:
            await self._refuse(c, exc.code, str(exc), msg_id)
            return None
        except (DatabaseError, OSError) as exc:
            self.write_health.failed("questions from the floor", exc)
            await self._refuse(c, "unavailable", "the hub cannot store this now; send it again in a moment", msg_id)
            return None
        self.write_health.stored("questions from the floor")
        return result

    async def _question(self, c: Client, msg: protocol.Question) -> None:
        voter = await self._floor_voter(c, msg.id, "question")
        if voter is None or await self._relayed(c, msg.id, "question", voter, msg.text):
            return
        store = await self._floor_store(c, msg.id)
        if store is None:
            return
        now = time.time()
        saved = await self._stored(c, msg.id, lambda: store.submit_question(voter.voter_id, msg.text, now, "hub"))
        if saved is not None:  # pending: only the moderator sees it until it is approved
            await self._send(c, protocol.ack(msg.id, question_id=saved.id, status=saved.status.value))

    async def _upvote(self, c: Client, msg: protocol.Upvote) -> None:
        voter = await self._floor_voter(c, msg.id, "upvote")
        if voter is None or await self._relayed(c, msg.id, "upvote", voter, msg.question_id):
            return
        store = await self._floor_store(c, msg.id)
        if store is None:
            return
        now = time.time()
        counted = await self._stored(c, msg.id,
                                     lambda: store.upvote_question(msg.question_id, voter.voter_id, now, "hub"))
        if counted is not None:
            await self._send(c, protocol.ack(msg.id, question_id=counted.id, upvotes=counted.upvotes))
