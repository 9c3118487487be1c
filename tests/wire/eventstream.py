"""An encoder for the AWS event-stream binary framing (botocore only ships the decoder).

Each message: a 12-byte prelude (total length, headers length, CRC32 of the
first 8 bytes), the headers, the payload, and a CRC32 of everything before it.
"""

from __future__ import annotations

import binascii
import json
import struct
from typing import Any

_STRING = 7


def encode_headers(headers: dict[str, str]) -> bytes:
    """String-valued headers, each: name length, name, type 7, value length, value."""
    out = b""
    for name, value in headers.items():
        n = name.encode("utf-8")
        v = value.encode("utf-8")
        out += struct.pack(">B", len(n)) + n + struct.pack(">BH", _STRING, len(v)) + v
    return out


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One complete event-stream message with both checksums."""
    head = encode_headers(headers)
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack(">II", total, len(head))
    prelude += struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + head + payload
    return body + struct.pack(">I", binascii.crc32(body) & 0xFFFFFFFF)


def event(event_type: str, payload: Any, content_type: str = "application/json") -> bytes:
    """A modelled event: JSON members (or raw bytes for a blob event payload)."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    return encode_message(
        {":event-type": event_type, ":content-type": content_type, ":message-type": "event"}, data
    )


def exception(exception_type: str, message: str, **members: Any) -> bytes:
    """A modelled error inside the stream (e.g. throttlingException, ModelStreamError)."""
    data = json.dumps({"message": message, "Message": message, **members}).encode("utf-8")
    return encode_message(
        {":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"}, data
    )
