"""Simulated panelists: each one opens the real judge page's WebSocket with its private token and sends scores.

A panelist waits for the round's answers to reach its page (the hub's `state`
for that round with `open` true), then sends one `scores` message per label and
waits for each acknowledgement, exactly as the judge page does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from finale.autopilot.client import Disconnected, HubClient, State


@dataclass
class PanelStats:
    """Scores messages sent and acknowledged, and the refusals by code."""

    sent: int = 0
    acked: int = 0
    refused: dict[str, int] = field(default_factory=dict)


class Panelist:
    """One panel judge on their own device."""

    def __init__(self, url: str, panelist_id: str, token: str, stats: PanelStats) -> None:
        self.panelist_id = panelist_id
        self.client = HubClient(url, "judge", f"autopilot-judge-{panelist_id}", token=token)
        self.stats = stats

    async def join(self) -> bool:
        """Open the judge page; a page that cannot connect now is retried when it has scores to send."""
        try:
            await self.client.connect()
        except Disconnected:
            return False
        return True

    async def score(self, round_id: int, by_label: Mapping[str, Mapping[str, float]], wait_s: float = 30.0) -> bool:
        """Score every label of a round once its answers are on this judge's page; False if the page never could."""
        def ready(s: State) -> bool:
            return s.get("round") == round_id and bool(s.get("open")) and bool(s.get("answers"))

        for attempt in range(3):
            try:
                if not self.client.connected:
                    await self.client.connect()
                await self.client.wait_state(ready, wait_s)
                for label, scores in sorted(by_label.items()):
                    msg_id = f"{self.panelist_id}.r{round_id}.{label}.{attempt}"
                    self.stats.sent += 1
                    reply = await self.client.request({"type": "scores", "round": round_id, "label": label,
                                                       "scores": dict(scores), "id": msg_id})
                    if reply["type"] == "ack":
                        self.stats.acked += 1
                    else:
                        self._refused(str(reply.get("code")))
                return True
            except Disconnected:
                continue
            except TimeoutError:
                self._refused("never_saw_answers")
                return False
        self._refused("gave_up")
        return False

    def _refused(self, code: str) -> None:
        self.stats.refused[code] = self.stats.refused.get(code, 0) + 1
