"""The console's view of the audience hub: is it up, how many phones are connected, what is failing.

The hub is a separate process (see DESIGN.md). The console only asks it for
its health over HTTP; when there is no hub the status is simply "off". A hub
that answers but cannot store votes (its /healthz says `ok: false` with the
problems) is "failing", shown red with the reason: up is not the same as working.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import httpx

from finale.core.text import one_line


class HubWatch(Protocol):
    """What the console reads from the supervisor running its hub (finale.supervisor.HubSupervisor)."""

    log_path: Path
    blocked_by: str | None

    @property
    def started(self) -> bool: ...

    @property
    def alive(self) -> bool: ...

    @property
    def adopted(self) -> bool: ...

    @property
    def blocked_short(self) -> str | None: ...

    @property
    def health_note(self) -> str | None: ...


def supervisor_note(sup: HubWatch | None) -> str | None:
    """The supervisor's words for the header: adopted, and /healthz answers missed or a restart for them."""
    if sup is None:
        return None
    notes = (["adopted"] if sup.adopted else []) + ([sup.health_note] if sup.health_note else [])
    return "; ".join(notes) or None


@dataclass(frozen=True)
class HubStatus:
    """What the header shows about the hub."""

    state: str = "off"  # off | up | failing | down | starting | blocked
    phones: int | None = None
    url: str | None = None
    note: str | None = None  # from the supervisor: "adopted", or what holds the port
    problem: str | None = None  # failing: what the hub cannot do, from its /healthz
    nodes: tuple[int, ...] = ()  # with [scale] redis_url: phones on each live hub node (this hub's /healthz)

    @property
    def label(self) -> str:
        note = f" ({self.note})" if self.note else ""
        phones = f" · {self.phones} phones" if self.phones is not None else ""
        if len(self.nodes) > 1:  # many hubs on Redis: every node's phones, as the primary hub sees them
            phones = f" · {len(self.nodes)} nodes · {sum(self.nodes)} phones ({'/'.join(map(str, self.nodes))})"
        if self.state == "up":
            return f"hub: up{note}{phones}"
        if self.state == "failing":
            problem = self.problem or "see its log"
            problem = problem if len(problem) <= 60 else problem[:59] + "…"  # the header keeps room for the clock
            return f"hub: FAILING{note}: {problem}{phones}"
        return f"hub: {self.state}{note}"

    @property
    def alarm(self) -> bool:
        """True when the MC must act: the hub is down or cannot store what phones send."""
        return self.state in ("failing", "down")

    def noted(self, note: str | None) -> HubStatus:
        """The same status with the supervisor's note."""
        return replace(self, note=note)


def check_hub(url: str, timeout: float = 1.0) -> HubStatus:
    """GET <url>/healthz; reads a phone count from `phones` or `connections` when the hub reports one.

    `ok: false` is "failing" with the hub's `problems` (inert, one line: the hub is another process).
    """
    try:
        response = httpx.get(url.rstrip("/") + "/healthz", timeout=timeout)
    except httpx.HTTPError:
        return HubStatus("down", None, url)
    if response.status_code != 200:
        return HubStatus("down", None, url)
    phones: int | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("audience", "phones", "connections"):
            value = body.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                phones = value
                break
            if isinstance(value, dict) and isinstance(value.get("phone"), int):
                phones = int(value["phone"])
                break
        nodes = _node_phones(body.get("scale"))
        if len(nodes) > 1:
            phones = sum(nodes)
        if body.get("ok") is False:
            problems = body.get("problems")
            said = "; ".join(str(p) for p in problems) if isinstance(problems, list) and problems else None
            return HubStatus("failing", phones, url, problem=one_line(said)[:200] if said else None, nodes=nodes)
        return HubStatus("up", phones, url, nodes=nodes)
    return HubStatus("up", phones, url)


def _node_phones(scale: object) -> tuple[int, ...]:
    """Phones per live node from a hub's /healthz `scale` part (absent on a hub without Redis)."""
    if not isinstance(scale, dict) or not isinstance(scale.get("nodes"), list):
        return ()
    return tuple(int(n["phones"]) for n in scale["nodes"]
                 if isinstance(n, dict) and isinstance(n.get("phones"), int) and not isinstance(n["phones"], bool))
