"""A server's error body as one line a human can act on, the same for the AWS and the HTTP paths.

Gateways and proxies answer with web pages ("<!doctype html>..."), servers put
newlines in their messages, and a 429 means "throttled" whatever the wording.
An HTML page is summarised by its title and given a hint at the likely cause:
the usual one, when it answers the streaming route, is an endpoint that does
not offer streaming.
"""

from __future__ import annotations

import html
import re

MAX_MESSAGE = 200
THROTTLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "ThrottledException",
                            "throttlingException", "SlowDown", "RequestLimitExceeded"})
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")


def single_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """Whitespace (newlines included) collapsed to single spaces, cut at `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def is_html(text: str) -> bool:
    """True for a body that is a web page rather than an API's error message."""
    head = text.lstrip()[:300].lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body")) or ("<html" in head and "</" in head)


def html_summary(page: str) -> str:
    """`an HTML page ("404 Not Found")`: the page's title (or first heading) as plain text."""
    found = _TITLE.search(page) or _HEADING.search(page)
    title = single_line(html.unescape(_TAGS.sub(" ", found.group(1))), 80) if found else ""
    return f'an HTML page ("{title}")' if title else "an HTML page"


def html_hint(status: int | None, stream: bool) -> str:
    """The likely cause of a web page where the model API should have answered."""
    if stream and status in (404, 405, 501):
        return "the endpoint may not offer streaming: try `stream = false`"
    if status == 404:
        return "check the endpoint's URL and name (a gateway or web server answered, not the model API)"
    if status in (401, 403):
        return "a gateway refused the request: check its credentials or access rules"
    return "a gateway or web server answered, not the model API"


def readable_message(message: str, status: int | None, stream: bool) -> str:
    """A server's error message on one line; a web page summarised, with a hint."""
    if is_html(message):
        return f"{html_summary(message)} instead of an API error; {html_hint(status, stream)}"
    return single_line(message)


def throttled(status: int | None, code: str = "") -> bool:
    """True when the server said it is throttling us (HTTP 429, or an AWS throttling code)."""
    return status == 429 or code in THROTTLE_CODES
