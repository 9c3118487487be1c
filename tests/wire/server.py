"""A small threaded HTTP/1.1 server for the wire fakes, and the script of what each target replies.

Every test target (a Bedrock model id, a SageMaker endpoint name, an OpenAI
model name) gets a `Reply` describing its timing and its fault, so one server
can hold healthy and faulty finalists side by side. The server counts requests
per target so tests can assert that a retry really happened.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What one target answers, and how it misbehaves."""

    text: str = "Hello from the wire."
    pieces: int = 4                       # chunks the answer streams in
    ttft_s: float = 0.0                   # delay before the first chunk
    total_s: float = 0.0                  # when the last chunk goes out (pieces spread evenly)
    repeat: int = 1                       # the text repeated this many times (answers beyond the cap)
    throttle_first: int = 0               # answer 429 throttling to this many requests first
    fail_status: int | None = None        # answer this HTTP error to every request
    fail_code: str = "InternalServerException"
    fail_message: str = "The server encountered an internal error."
    error_event: str | None = None        # after the first chunk, an error event of this type
    reset_after: int | None = None        # reset the TCP connection after this many chunks
    stall_s: float = 0.0                  # silence after the first chunk
    garbage: bool = False                 # after the first chunk, bytes that are not valid framing
    tool_input: dict[str, Any] | None = None  # judge: call record_scores with this input
    refuse_tool_choice: bool = False      # judge: reject a forced tool choice with a 400
    reject_stream_options: bool = False   # an older OpenAI-compatible server: 422 on stream_options
    endpoint_status: str = "InService"    # SageMaker DescribeEndpoint
    throttle_delay_s: float = 0.0         # each 429 of `throttle_first` comes after this long (a slow gateway)
    fail_body: str | None = None          # with fail_status: this raw body (an HTML page, a multi-line error)
    fail_content_type: str = "text/html; charset=utf-8"
    no_stream: bool = False               # a gateway without the streaming route: an HTML 404 page for it
    tgi_details: bool = True              # TGI honours `details: true` (generated_tokens) on whole replies
    decide: Callable[[str], dict[str, Any]] | None = None  # judge: the tool input, from the prompt it was shown

    def chunks(self) -> list[str]:
        """The answer cut into `pieces` chunks (never empty ones)."""
        text = self.text * self.repeat
        n = max(1, min(self.pieces, len(text)))
        size = -(-len(text) // n)
        return [text[i:i + size] for i in range(0, len(text), size)]

    def gap_s(self) -> float:
        return max(0.0, self.total_s - self.ttft_s) / max(1, len(self.chunks()) - 1)


NOT_FOUND_PAGE = ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>404 Not Found</title>"
                  "<style>body{font-family:sans-serif}</style></head>\n<body><h1>Not Found</h1>"
                  "<p>The requested URL was not found on this server.</p></body></html>\n")


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Script:
    """Replies per target, a default, and what was received."""

    replies: dict[str, Reply] = field(default_factory=dict)
    default: Reply = field(default_factory=Reply)
    counts: Counter[str] = field(default_factory=Counter)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, target: str, recorded: Recorded) -> tuple[Reply, int]:
        """The reply for `target` and which request this is for it (1-based)."""
        with self.lock:
            self.counts[target] += 1
            self.requests.append(recorded)
            return self.replies.get(target, self.default), self.counts[target]

    def bodies(self, path_part: str = "") -> list[Any]:
        with self.lock:
            return [r.json() for r in self.requests if path_part in r.path and r.body[:1] in (b"{", b"[")]


class WireHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, chunked streaming and a hard connection reset."""

    protocol_version = "HTTP/1.1"
    server: WireHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
        return None

    @property
    def script(self) -> Script:
        return self.server.script

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def record(self, body: bytes) -> Recorded:
        return Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)

    def send_body(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "00000000-0000-4000-8000-000000000000")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None,
                  content_type: str = "application/json") -> None:
        self.send_body(status, json.dumps(obj).encode("utf-8"), content_type, headers)

    def fault(self, reply: Reply, nth: int, streaming: bool, throttle: Callable[[], None],
              fail: Callable[[], None]) -> bool:
        """Answer the reply's scripted fault, if any (a slow 429, a gateway page, an error); True when it did."""
        if nth <= reply.throttle_first:
            self.pause(reply.throttle_delay_s)
            throttle()
            return True
        if streaming and reply.no_stream:
            self.send_body(404, NOT_FOUND_PAGE.encode(), "text/html; charset=utf-8")
            return True
        if reply.fail_status is not None and reply.fail_body is not None:
            self.send_body(reply.fail_status, reply.fail_body.encode(), reply.fail_content_type)
            return True
        if reply.fail_status is not None:
            fail()
            return True
        return False

    def start_chunked(self, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", "00000000-0000-4000-8000-000000000000")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()

    def chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    def end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def reset(self) -> None:
        """Abort the connection with a TCP RST, the way a crashed server or a dropped link looks."""
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def pause(self, seconds: float) -> None:
        if seconds > 0:
            self.server.stopping.wait(seconds)

    def signed_by(self, service: str) -> bool:
        """True when the request carries a SigV4 signature for `service`; answers 403 otherwise."""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("AWS4-HMAC-SHA256 Credential=") and f"/{service}/aws4_request" in auth \
                and self.headers.get("X-Amz-Date"):
            return True
        self.send_json(403, {"message": "Missing Authentication Token"},
                       {"x-amzn-ErrorType": "MissingAuthenticationTokenException"})
        return False

    def stream(self, reply: Reply, encode: Callable[[int, str], bytes], error: Callable[[str], bytes],
               garbage: bytes, tail: Iterator[bytes]) -> None:
        """Stream the reply's chunks with its timing and fault; `tail` ends a healthy stream."""
        self.pause(reply.ttft_s)
        gap = reply.gap_s()
        for i, piece in enumerate(reply.chunks()):
            if i:
                self.pause(gap)
            self.chunk(encode(i, piece))
            if i == 0:
                if reply.error_event:
                    self.chunk(error(reply.error_event))
                    self.end_chunked()
                    return
                if reply.garbage:
                    self.chunk(garbage)
                    self.end_chunked()
                    return
                self.pause(reply.stall_s)
            if reply.reset_after is not None and i + 1 >= reply.reset_after:
                self.reset()
                return
        for data in tail:
            self.chunk(data)
        self.end_chunked()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True


class WireHTTPServer(ThreadingHTTPServer):
    """Serves one handler class on 127.0.0.1 from a background thread."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # a real endpoint's backlog, not socketserver's 5: a jury opens many connections at once

    def __init__(self, handler: type[WireHandler], script: Script | None = None) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.script = script or Script()
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> WireHTTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


def now_ms() -> int:
    return int(time.time() * 1000)
