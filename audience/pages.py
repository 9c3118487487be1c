"""Plain HTTP from the hub's port: the pages, their static files, the QR codes and /healthz.

Served from websockets' `process_request`, so one port serves both the pages
and the WebSocket (`/ws`). Every response carries a Content-Security-Policy
that allows only the hub's own scripts and styles (no inline script), so an
answer that slipped into the DOM as HTML could still not run. Private-link
pages (`/judge/<token>`, `/finalist/<token>`) answer a wrong token exactly like
a missing page, and an address that keeps guessing is refused for a while
(its wrong guesses only: a valid link always works, see TokenGuard).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.datastructures import Headers
from websockets.http11 import Response

from audience.qr import qr_png, qr_svg
from audience.ratelimit import TokenBucket
from finale.config_pages import PagesSection

STATIC_DIR = Path(__file__).parent / "static"
TYPES = {
    ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
    ".ico": "image/x-icon", ".json": "application/json",
}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {frames}")
PAGES = {"/": "index.html", "/stage": "stage.html"}
PRIVATE = {"judge": ("panelists", "judge.html"), "finalist": ("finalists", "finalist.html")}
BLOCK_S = 60.0
log = logging.getLogger("finale.hub")


def _response(status: HTTPStatus, body: bytes, content_type: str, *, frames: str = "'none'",
              cache: str = "no-cache") -> Response:
    headers = Headers([
        ("Date", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())),
        ("Connection", "close"),
        ("Content-Length", str(len(body))),
        ("Content-Type", content_type),
        ("Content-Security-Policy", CSP.format(frames=frames)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", cache),
    ])
    return Response(status.value, status.phrase, headers, body)


def text_response(status: HTTPStatus, text: str) -> Response:
    """A short plain-text answer (errors, refusals)."""
    return _response(status, (text + "\n").encode(), "text/plain; charset=utf-8", cache="no-store")


NOT_FOUND = "not found"


@dataclass
class TokenGuard:
    """Wrong private-link tokens per address: an address that keeps guessing is refused for a while.

    Callers look the token up first (constant time, store.token_owner) and ask the guard only about
    a wrong one, so a valid link always works: a judge behind the same address (venue NAT) as a bad
    typist or a guesser is never refused. The log gets each counted wrong link (at most the allowance
    per minute per address), the block, and one summary of what was refused during it; never a token.
    """

    tries_per_min: int
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._bucket = TokenBucket(self.tries_per_min / 60.0, float(self.tries_per_min), self.clock)
        self._blocked: dict[str, float] = {}
        self._refused: dict[str, int] = {}  # wrong links refused during the current block, per address

    def blocked(self, address: str) -> bool:
        """True while `address` is refused for guessing."""
        until = self._blocked.get(address)
        if until is None:
            return False
        if self.clock() < until:
            return True
        del self._blocked[address]
        refused = self._refused.pop(address, 0)
        if refused:
            log.warning("%d more wrong private links from %s were refused while it was blocked", refused, address)
        return False

    def wrong(self, address: str, where: str = "link") -> bool:
        """Count a wrong token from `address`; True when the address was already refused (answer 429, not 404)."""
        if self.blocked(address):
            self._refused[address] = self._refused.get(address, 0) + 1
            return True
        if not self._bucket.allow(address) or self._bucket.remaining(address) < 1:
            self._blocked[address] = self.clock() + BLOCK_S
            log.warning("wrong private %s from %s: too many in a minute, refused for %d s (valid links still work)",
                        where, address, BLOCK_S)
        else:
            log.warning("wrong private %s from %s", where, address)
        return False


class Pages:
    """Answers every non-WebSocket request of the hub."""

    def __init__(self, join_url: str, token_owner: Callable[[str, str], str | None], guard: TokenGuard,
                 health: Callable[[], dict[str, Any]], static_dir: Path = STATIC_DIR,
                 join_qr: Callable[[str], str | None] | None = None) -> None:
        self.join_url = join_url
        self.join_qr = join_qr  # join code -> the URL its QR encodes, None when stale (voting.presence)
        self._join_images: dict[str, tuple[bytes, str]] = {}
        self.token_owner = token_owner
        self.guard = guard
        self.health = health
        self.files = {p.name: p.read_bytes() for p in static_dir.iterdir() if p.is_file()}
        self.qr = {"/qr.png": (qr_png(join_url), "image/png"), "/qr.svg": (qr_svg(join_url), "image/svg+xml")}
        self.use_pages(PagesSection())

    def use_pages(self, pages: PagesSection) -> None:
        """The event file's [pages] section: every catalogue is merged once, served as /i18n/<code>.json."""
        self.i18n = {"/i18n/index.json": json.dumps(pages.languages(), ensure_ascii=False).encode()}
        for code in pages.languages()["languages"]:
            merged = pages.catalogue(code["code"])
            self.i18n[f"/i18n/{code['code']}.json"] = json.dumps(merged, ensure_ascii=False).encode()

    def _file(self, name: str, *, frames: str = "'none'", cache: str = "no-cache") -> Response:
        body = self.files.get(name)
        if body is None:
            return text_response(HTTPStatus.NOT_FOUND, NOT_FOUND)
        return _response(HTTPStatus.OK, body, TYPES.get(Path(name).suffix, "application/octet-stream"),
                         frames=frames, cache=cache)

    def respond(self, path: str, address: str) -> Response:
        """The response for a GET of `path` (query string already removed)."""
        if path in PAGES:
            return self._file(PAGES[path], frames="*" if path == "/stage" else "'none'")
        if path in self.i18n:
            return _response(HTTPStatus.OK, self.i18n[path], "application/json; charset=utf-8")
        if path in self.qr:
            body, kind = self.qr[path]
            return _response(HTTPStatus.OK, body, kind, frames="*", cache="public, max-age=300")
        if path.startswith("/qr/"):
            return self._join_image(path.removeprefix("/qr/"))
        if path == "/healthz":
            return _response(HTTPStatus.OK, json.dumps(self.health()).encode(), "application/json",
                             cache="no-store")
        if path.startswith("/static/"):
            name = path.removeprefix("/static/")
            return self._file(name) if "/" not in name else text_response(HTTPStatus.NOT_FOUND, NOT_FOUND)
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] in PRIVATE:
            return self._private(parts[0], parts[1], address)
        return text_response(HTTPStatus.NOT_FOUND, NOT_FOUND)

    def _join_image(self, name: str) -> Response:
        """`/qr/<join code>.svg` (or .png): the stage's QR with a fresh join code; a stale or made-up code is a 404."""
        code, _, ext = name.partition(".")
        url = self.join_qr(code) if self.join_qr is not None and ext in ("svg", "png") else None
        if url is None:
            return text_response(HTTPStatus.NOT_FOUND, NOT_FOUND)
        if name not in self._join_images:
            if len(self._join_images) >= 8:  # the current code and a few before it
                self._join_images.pop(next(iter(self._join_images)))
            self._join_images[name] = (qr_svg(url), "image/svg+xml") if ext == "svg" else (qr_png(url), "image/png")
        body, kind = self._join_images[name]
        return _response(HTTPStatus.OK, body, kind, frames="*", cache="private, max-age=60")

    def _private(self, kind: str, token: str, address: str) -> Response:
        table, page = PRIVATE[kind]
        if self.token_owner(table, token) is not None:  # looked up first: others' guesses never refuse a valid link
            return self._file(page, cache="no-store")
        if self.guard.wrong(address, f"{kind} link"):
            response = text_response(HTTPStatus.TOO_MANY_REQUESTS, "too many wrong links from this address; "
                                     "wait a minute and check the link you were given")
            response.headers["Retry-After"] = str(int(BLOCK_S))
            return response
        return text_response(HTTPStatus.NOT_FOUND, NOT_FOUND)
