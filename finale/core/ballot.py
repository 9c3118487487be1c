"""Who may vote: voter credentials, proof of presence and the per-address limits, as pure functions.

A phone does not choose its voter identity: the hub issues one, a random voter
id and its issue time signed with HMAC-SHA256 keyed by the event's voter secret
(kept in the store, never logged or exported). The hub verifies a credential
with the same secret, so a forged one, or one from another event's database,
is refused, and a real one survives hub and console restarts without a look-up.

Proof of presence (`BallotPolicy.presence`): the stage's QR code carries a join
code derived from the secret and the current time window; a NEW credential
needs a code from the last few minutes, so a join link passed around outside
the room stops working. Credentials already issued keep working.

Where a vote came from is kept as a keyed hash of the address (`origin_tag`), never
the address itself: the integrity view and the discount work on it, and a leaked
database does not list the audience's addresses.

Randomness and clocks are the caller's: these functions take the random voter
id and the time as arguments, so the core stays free of I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from typing import NamedTuple

CREDENTIAL_VERSION = "v1"
VOTER_ID = re.compile(r"^v[0-9a-f]{24}$")
CREDENTIAL = re.compile(r"^v1\.v[0-9a-f]{24}\.[0-9]{1,15}\.[A-Za-z0-9_-]{43}$")
JOIN_CODE = re.compile(r"^[A-Z2-7]{8}$")
MAX_CREDENTIAL_CHARS = 96
Refusal = tuple[str, str]


@dataclass(frozen=True)
class BallotPolicy:
    """The event file's layered limits on who votes (see the README's `[voting]` reference).

    `credentials_per_address_per_min`: new voter credentials one address may be issued per minute;
    `devices_per_address`: voting devices (credentials) one address may have counted per round;
    `presence`: a new credential needs a join code from the stage's QR, at most `join_code_max_age_s` old,
    the code changing every `join_code_rotate_s`.
    """

    credentials_per_address_per_min: int = 5
    devices_per_address: int = 2
    presence: bool = False
    join_code_rotate_s: float = 30.0
    join_code_max_age_s: float = 180.0


@dataclass(frozen=True, slots=True)  # one per audience connection: small, no __dict__
class Credential:
    """A verified voter credential: whose it is and when the hub issued it (epoch seconds, ms precision)."""

    voter_id: str
    issued_at: float


def _mac(secret: bytes, *parts: str) -> bytes:
    return hmac.new(secret, "|".join(parts).encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def issue_credential(secret: bytes, voter_id: str, issued_at: float) -> str:
    """The credential string a phone keeps: `v1.<voter id>.<issue time in ms>.<signature>`."""
    if not VOTER_ID.match(voter_id):
        raise ValueError(f"a voter id is 'v' and 24 lowercase hex digits; got {voter_id!r}")
    if not secret:
        raise ValueError("the voter secret is empty; the store creates one when the event is set up")
    millis = str(max(0, round(issued_at * 1000)))
    return ".".join((CREDENTIAL_VERSION, voter_id, millis, _b64(_mac(secret, "voter", voter_id, millis))))


def verify_credential(secret: bytes, token: object) -> Credential | None:
    """The credential's voter and issue time when `token` was signed with `secret`; None otherwise."""
    if not isinstance(token, str) or len(token) > MAX_CREDENTIAL_CHARS or not CREDENTIAL.match(token):
        return None
    _, voter_id, millis, signature = token.split(".")
    if not hmac.compare_digest(signature, _b64(_mac(secret, "voter", voter_id, millis))):
        return None
    return Credential(voter_id, int(millis) / 1000.0)


def origin_tag(secret: bytes, address: str) -> str:
    """A keyed hash of a client address: the same address gives the same tag, the tag never gives the address."""
    return "o" + _mac(secret, "origin", address).hex()[:16]


def join_window(now: float, rotate_s: float) -> int:
    """The number of the join-code window `now` falls in."""
    if rotate_s <= 0:
        raise ValueError(f"the join code's rotation must be positive; got {rotate_s}")
    return math.floor(now / rotate_s)


def join_code(secret: bytes, window: int) -> str:
    """The join code of one time window: 8 characters of A-Z and 2-7, easy to read off a screen."""
    return base64.b32encode(_mac(secret, "join", str(window))[:5]).decode()


def current_join_code(secret: bytes, now: float, policy: BallotPolicy) -> str:
    """The join code the stage shows now."""
    return join_code(secret, join_window(now, policy.join_code_rotate_s))


def join_code_fresh(secret: bytes, code: object, now: float, policy: BallotPolicy) -> bool:
    """The code was shown on the stage within the last `join_code_max_age_s` (or is the current one)."""
    if not isinstance(code, str) or not JOIN_CODE.match(code):
        return False
    newest = join_window(now, policy.join_code_rotate_s)
    oldest = join_window(now - policy.join_code_max_age_s, policy.join_code_rotate_s)
    return any(hmac.compare_digest(code, join_code(secret, w)) for w in range(newest, oldest - 1, -1))


def credential_refusal(policy: BallotPolicy, *, join_ok: bool, within_rate: bool) -> Refusal | None:
    """Why a phone without a valid credential gets none now, or None: issue one.

    `join_ok`: its hello carried a fresh join code (only asked with `presence` on);
    `within_rate`: its address has had fewer than `credentials_per_address_per_min` new credentials
    in the last minute (the hub counts them).
    """
    if policy.presence and not join_ok:
        return ("join_code_needed", "to vote, scan the QR code on the screen in the room (the code in it changes "
                "every few minutes)")
    if not within_rate:
        return ("credential_limit", f"too many new phones from your network: at most "
                f"{policy.credentials_per_address_per_min} a minute; try again in a minute")
    return None


class OriginLoad(NamedTuple):  # one per vote, twice: built in 0.25 us, a frozen dataclass in 0.6; immutable as well
    """How many other voting devices of a ballot's origin are already counted in its round, and the cap."""

    others: int
    limit: int


def origin_refusal(round_id: int, load: OriginLoad | None) -> Refusal | None:
    """Refuse a ballot whose origin already has `limit` other devices counted in the round (part of decide_vote)."""
    if load is None or load.others < load.limit:
        return None
    return ("address_limit", f"{load.limit} phones from your network have already voted in round {round_id}; "
            "this vote was not counted (one phone per person)")
