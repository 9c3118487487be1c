"""A judgment's jury as data: each judge model's verdict in its own row, and the head-to-head with the reference.

Written with the judgment, in its transaction (RoundsMixin.save_judgment), and
read back onto it, so every reader (console, report, export, `finale verify`)
sees each judge's scores, not a rationale that folds them together.
"""

from __future__ import annotations

import json
import time
from typing import Any

from finale.core.headtohead import HeadToHead, Pick
from finale.core.model import Judgment, JurorVerdict
from finale.store.show_state import ShowStateMixin


def _pick(value: str | None) -> Pick | None:
    return Pick(value) if value else None


def jury_payload(judgment: Judgment) -> dict[str, Any]:
    """What the `judgment.saved` event records beyond the aggregate: each judge's verdict and the head-to-head."""
    h = judgment.head_to_head
    return {
        "flags": list(judgment.flags), "spread": judgment.spread,
        "jury": [{"judge": j.judge, "status": "ok" if j.ok else "failed", "scores": j.scores, "reason": j.reason}
                 for j in judgment.jurors],
        "head_to_head": None if h is None else {
            "judge": h.judge, "finalist_first": h.finalist_first, "reference_first": h.reference_first,
            "outcome": h.outcome, "order_sensitive": h.order_sensitive, "reason": h.reason},
    }


class JuryMixin(ShowStateMixin):
    """The rows behind one judgment: `jury_verdicts` (one per judge model) and `head_to_head`."""

    def _save_jury(self, judgment: Judgment) -> None:
        """Replace the judgment's juror rows and head-to-head (inside the caller's transaction)."""
        key = (judgment.round_id, judgment.finalist_id)
        now = time.time()
        self.conn.execute("DELETE FROM jury_verdicts WHERE round_id=? AND finalist_id=?", key)
        self.conn.executemany(
            "INSERT INTO jury_verdicts (round_id, finalist_id, judge, position, status, scores, rationale, reason, "
            "raw, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*key, j.judge, i, "ok" if j.ok else "failed", json.dumps(j.scores), j.rationale, j.reason, j.raw, now)
             for i, j in enumerate(judgment.jurors)])
        self.conn.execute("DELETE FROM head_to_head WHERE round_id=? AND finalist_id=?", key)
        h = judgment.head_to_head
        if h is not None:
            self.conn.execute(
                "INSERT INTO head_to_head (round_id, finalist_id, judge, finalist_first, reference_first, outcome, "
                "order_sensitive, reason, raw, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, h.judge, h.finalist_first, h.reference_first, h.outcome, int(h.order_sensitive), h.reason,
                 h.raw, now))

    def jury_verdicts(self, round_id: int) -> dict[str, tuple[JurorVerdict, ...]]:
        """Each judge model's verdict per finalist of a round, in the jury's order."""
        out: dict[str, list[JurorVerdict]] = {}
        for r in self.db.query("SELECT * FROM jury_verdicts WHERE round_id=? ORDER BY finalist_id, position",
                               [round_id]):
            out.setdefault(r["finalist_id"], []).append(JurorVerdict(
                r["judge"], r["status"] == "ok", json.loads(r["scores"]), r["rationale"], r["reason"], r["raw"]))
        return {fid: tuple(js) for fid, js in out.items()}

    def head_to_heads(self, round_id: int) -> dict[str, HeadToHead]:
        """The head-to-head with the reference per finalist of a round (none when there was no reference answer)."""
        return {r["finalist_id"]: HeadToHead(r["judge"], _pick(r["finalist_first"]), _pick(r["reference_first"]),
                                             r["reason"], r["raw"])
                for r in self.db.query("SELECT * FROM head_to_head WHERE round_id=?", [round_id])}
