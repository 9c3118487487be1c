"""The console's view of the audience hub: is it up, how many phones are connected.

The hub is a separate process (see DESIGN.md). The console only asks it for
its health over HTTP; when there is no hub the status is simply "off".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import httpx


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

    state: str = "off"  # off | up | down | starting
    phones: int | None = None
    url: str | None = None
    note: str | None = None  # from the supervisor: "adopted", or what holds the port

    @property
    def label(self) -> str:
        note = f" ({self.note})" if self.note else ""
        if self.state == "up":
            phones = f" · {self.phones} phones" if self.phones is not None else ""
            return f"hub: up{note}{phones}"
        return f"hub: {self.state}{note}"

    def noted(self, note: str | None) -> HubStatus:
        """The same status with the supervisor's note."""
        return replace(self, note=note)


def check_hub(url: str, timeout: float = 1.0) -> HubStatus:
    """GET <url>/healthz; reads a phone count from `phones` or `connections` when the hub reports one."""
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
    return HubStatus("up", phones, url)
