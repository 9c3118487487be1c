"""The hub's voter desk: who votes, as the core's ballot rules say (core.ballot), kept in memory and batched.

On an audience `hello` the desk verifies the credential the phone kept, or issues a
new one (a random voter id, the issue time, the HMAC of both under the event's
secret) when the address is within `voting.credentials_per_address_per_min` and,
with `voting.presence`, the hello carries a fresh join code from the stage. Issued
credentials are recorded in batches through the hub's single write thread (group
commit, never one transaction per phone). Per round it remembers which voters of
each origin have a counted vote, so the per-address device limit is asked without
a read per vote; the store asks the same rule again when it commits the batch.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from audience.ratelimit import TokenBucket
from finale.core.ballot import (
    BallotPolicy,
    Credential,
    OriginLoad,
    credential_refusal,
    current_join_code,
    issue_credential,
    join_code_fresh,
    origin_tag,
    verify_credential,
)

log = logging.getLogger("finale.hub")
Refusal = tuple[str, str]
Issued = list[tuple[str, float, str]]  # (voter id, issue time, origin) of each credential issued
Recorder = Callable[[Issued], Awaitable[None]]
SharedRate = Callable[[str, int], Awaitable[bool | None]]  # (origin, per minute) -> a token taken; None: cannot say


@dataclass(frozen=True)
class Admission:
    """What an audience hello gets: the credential it votes with, whether it is new, and what went wrong.

    `error` says why there is no credential, or why the one the phone sent was replaced (`bad_credential`).
    """

    credential: Credential | None
    token: str | None
    error: Refusal | None
    new: bool = False


def _new_voter_id() -> str:
    return "v" + secrets.token_hex(12)


class VoterDesk:
    """Issues and checks voter credentials and keeps the per-origin voter counts of the current round."""

    def __init__(self, secret: bytes, record: Recorder, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self.record = record  # stores a batch of issued credentials: the SQLite writer thread, or a Redis stream
        self.clock = clock
        self._rates: dict[int, TokenBucket] = {}  # per-minute allowance -> bucket, so a changed event file applies
        self.shared_rate: SharedRate | None = None  # a Redis node's: the new-credential rate every node shares
        self._voters: dict[tuple[int, str], set[str]] = {}  # (round, origin) -> voter ids with a counted vote
        self._round: int | None = None
        self._queue: list[tuple[str, float, str]] = []
        self._flush: asyncio.Task[None] | None = None
        self.issued = 0
        self._join_shown: str | None = None
        self.record_failures = 0

    def use_secret(self, secret: bytes) -> None:
        """The event's voter secret, read once the hub has reached its database or Redis."""
        self._secret = secret

    def origin(self, address: str) -> str:
        """The keyed hash the votes of this address are stored under."""
        return origin_tag(self._secret, address)

    def join_url(self, base: str, policy: BallotPolicy, now: float) -> str:
        """The join URL the stage shows: with `voting.presence`, carrying the current join code."""
        return self.join_url_with(base, current_join_code(self._secret, now, policy)) if policy.presence else base

    @staticmethod
    def join_url_with(base: str, code: str) -> str:
        """`base` with a join code in its query string (`?j=CODE`), which the vote page sends in its hello."""
        return f"{base}{'&' if '?' in base else '?'}j={code}"

    def rotated(self, url: str) -> bool:
        """The stage's join URL differs from the one last sent (its code rotated): the stage needs a new state."""
        changed, self._join_shown = self._join_shown is not None and url != self._join_shown, url
        return changed

    def join_code_ok(self, code: str, policy: BallotPolicy) -> bool:
        """A code the stage showed within the policy's maximum age (the QR image route asks it)."""
        return join_code_fresh(self._secret, code, self.clock(), policy)

    async def admit(self, address: str, token: str | None, join: str | None, policy: BallotPolicy) -> Admission:
        """Verify the phone's credential, or issue a new one if the layered limits allow it.

        The join code is asked first, so a phone without one takes nothing of its address's rate.
        """
        bad: Refusal | None = None
        if token is not None:
            known = verify_credential(self._secret, token)
            if known is not None:
                return Admission(known, token, None)
            bad = ("bad_credential", "this phone's voter credential is not valid for this event")
        now = self.clock()
        join_ok = policy.presence and join_code_fresh(self._secret, join, now, policy)
        refused = credential_refusal(policy, join_ok=join_ok, within_rate=True)
        if refused is None:
            refused = credential_refusal(policy, join_ok=join_ok, within_rate=await self._take(address, policy))
        if refused is not None:
            code, message = bad if bad is not None else refused
            return Admission(None, None, (code, message if bad is None else f"{message}; {refused[1]}"))
        credential = Credential(_new_voter_id(), round(now, 3))
        signed = issue_credential(self._secret, credential.voter_id, credential.issued_at)
        self._record(credential, self.origin(address))
        return Admission(credential, signed, bad, new=True)

    async def _take(self, address: str, policy: BallotPolicy) -> bool:
        """One new credential's token of the address's rate: the one every node shares on Redis, or this hub's own."""
        per_min = policy.credentials_per_address_per_min
        if self.shared_rate is not None:
            shared = await self.shared_rate(self.origin(address), per_min)
            if shared is not None:
                return shared
        rate = self._rates.get(per_min)
        if rate is None:
            rate = self._rates[per_min] = TokenBucket(per_min / 60.0, float(per_min))
        return rate.allow(address)

    # -- the per-origin device limit --------------------------------------------------------------

    def load(self, round_id: int, origin: str, voter_id: str, limit: int) -> OriginLoad:
        """Other voters of `origin` with a counted vote in the round, as far as this hub has seen."""
        if round_id != self._round:
            self._voters.clear()
            self._round = round_id
        voters = self._voters.get((round_id, origin), set())
        return OriginLoad(len(voters) - (1 if voter_id in voters else 0), limit)

    def counted(self, round_id: int, origin: str, voter_id: str) -> None:
        """A vote of this voter from this origin is committed in the round."""
        if round_id == self._round:
            self._voters.setdefault((round_id, origin), set()).add(voter_id)

    # -- recording issued credentials, in batches ----------------------------------------------

    def _record(self, credential: Credential, origin: str) -> None:
        self.issued += 1
        self._queue.append((credential.voter_id, credential.issued_at, origin))
        if self._flush is None or self._flush.done():
            self._flush = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        """Commit what is queued, then what was queued meanwhile, until the queue is empty."""
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self.record(batch)
            except Exception as exc:  # forensics only: the credential itself is valid; say so once per streak
                self.record_failures += 1
                if self.record_failures == 1:
                    log.warning("could not record %d issued voter credentials (%s: %s); votes still carry their "
                                "issue time", len(batch), type(exc).__name__, exc)
                return
            self.record_failures = 0

    async def close(self) -> None:
        """Commit the credentials still queued (at the hub's shutdown)."""
        if self._flush is not None and not self._flush.done():
            await self._flush
        if self._queue:
            await self._drain()
