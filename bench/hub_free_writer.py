"""A diagnostic, not a hub to run: `finale hub` whose vote writer acknowledges every batch without storing it.

    python bench/hub_free_writer.py hub --db DB --port PORT ...   (bench/hub_load.py --hub-variant free-writer)

Why: it is the floor of the hub's CPU per vote with the SQLite path at no cost (no
transaction, no write thread's work), so bench/hub_load.py can say how much of the hub's
excess over the echo server is the storing and how much the event loop's own vote path
(frame decoding, the checks, the core's rule, the ack). Votes are acknowledged and never
stored: the benchmark reports them as lost, which they are.
"""

from __future__ import annotations

import sys

from audience.writer import Refusal, VoteWriter
from finale.cli import run
from finale.store import VoteIn


def _acknowledge_unstored(self: VoteWriter, votes: list[VoteIn]) -> list[Refusal | None]:
    return [None] * len(votes)


if __name__ == "__main__":
    VoteWriter._commit = _acknowledge_unstored  # type: ignore[method-assign]
    sys.argv[0] = "finale"
    run()
