"""The sealed manifest's rules: its canonical bytes and hash, the deck's commitments, and what never goes in.

A manifest is plain JSON data (finale.seal builds it from the event file): the
rubric, weights, tie-break order, judge models and prompts, the question deck,
the finalists' endpoints and settings versions, the software version. Its
SHA-256 over one canonical encoding (sorted keys, no spaces, UTF-8, no NaN) is
what the stage shows and the report prints, so anyone holding the manifest can
recompute it.

The deck's expected answers and checkers stay secret until used: each is an
HMAC-SHA256 commitment under a per-question key derived from the event's seal
key (kept in the database, never exported). Revealing one question's key opens
that question's commitments and no other; `finale verify` re-derives them all.
Secrets never enter a manifest: `scrub` drops keys named like one (api keys,
tokens, passwords; the *name* of an environment variable, `..._env`, stays) and
the user name, password, query and fragment of any URL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

FORMAT = "finale-manifest/1"
COMMITMENT = "hmac-sha256:"

# A key ending in one of these holds a secret (compared lower-case; `max_tokens` ends in "tokens", not "token").
SECRET_SUFFIXES = ("api_key", "apikey", "secret", "password", "passwd", "token", "credentials", "authorization",
                   "headers", "access_key_id", "secret_access_key", "session_token", "private_key")


class ManifestError(ValueError):
    """A manifest that cannot be encoded canonically (a NaN, a non-JSON value)."""


def canonical(manifest: Mapping[str, Any]) -> bytes:
    """The one encoding the hash is taken over."""
    try:
        return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"a manifest is plain JSON data (no NaN, no objects): {exc}") from None


def digest(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical encoding, lower-case hex (64 characters)."""
    return hashlib.sha256(canonical(manifest)).hexdigest()


def question_key(seal_key: bytes, question_id: str) -> bytes:
    """The key of one question's commitments (revealing it opens that question only)."""
    return hmac.new(seal_key, f"finale-question:{question_id}".encode(), hashlib.sha256).digest()


def commitment(seal_key: bytes, question_id: str, field: str, value: str | None) -> str | None:
    """A hiding, binding commitment to one secret field of a deck question; None for a field left empty."""
    if value is None:
        return None
    message = canonical({"question": question_id, "field": field, "value": value})
    return COMMITMENT + hmac.new(question_key(seal_key, question_id), message, hashlib.sha256).hexdigest()


def is_secret_key(name: str) -> bool:
    """A mapping key whose value is a secret (`api_key_env`, the variable's name, is not)."""
    lowered = name.lower().replace("-", "_")
    return not lowered.endswith("_env") and lowered.endswith(SECRET_SUFFIXES)


def clean_url(value: str) -> str:
    """A URL without its user name, password, query and fragment (where tokens hide); other text as it is."""
    if "://" not in value:
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if not parts.scheme or not parts.netloc:
        return value
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def scrub(value: Any) -> Any:
    """`value` with every secret-named key dropped and every URL cleaned, recursively."""
    if isinstance(value, Mapping):
        return {str(k): scrub(v) for k, v in value.items() if not is_secret_key(str(k))}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return clean_url(value)
    return value


def changed_sections(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Which parts differ, named down to the event file's sections (`event_file.judge`, `settings`)."""
    out: list[str] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping) and key == "event_file":
            out += [f"{key}.{sub}" for sub in changed_sections(old, new)]
        else:
            out.append(key)
    return out
