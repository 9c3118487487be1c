"""The store's ledger of counted votes decides exactly as the table would, whoever else writes the table.

The ledger (finale.store.vote_ledger) answers the vote rule's look-ups from memory inside each batch's
transaction. These tests hold it to the table: a store that keeps its ledger across many batches must
decide like a store opened afresh for every batch (which reads the table each time), and a ledger must
notice another connection's votes, a rolled-back batch and the rehearsal wipe.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from finale.core.model import Round
from finale.core.poll import VoteOutcome
from finale.store import Store, VoteIn
from tests.hub_helpers import director_for, voting_round

DEVICES = [f"phone-{i:02d}" for i in range(12)]
ORIGINS = ["net-a", "net-b", "net-c", "net-d", None]  # None: a vote with no per-address limit (a node's drain)


def _batches(rnd: Round, seed: int, n: int = 40) -> list[list[VoteIn]]:
    """Random batches: new votes, changes of mind, resends (same id and label), other networks, bad labels."""
    rng = random.Random(seed)
    labels = [*sorted(rnd.labels.values()), "Z"]
    at = (rnd.vote_opened_at or 0) + 1
    return [[VoteIn(rnd.id, rng.choice(DEVICES), rng.choice(labels), f"m{rng.randrange(6)}", at + i,
                    origin=rng.choice(ORIGINS), issued_at=1.0) for _ in range(rng.randrange(1, 9))]
            for i in range(n)]


def _table(path: Path, round_id: int) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT device_id, label, client_msg_id, origin FROM votes WHERE round_id=? "
                            "ORDER BY device_id", (round_id,)).fetchall()


async def test_a_ledger_kept_across_batches_decides_as_the_table_does(store: Store, db_path: Path,
                                                                       tmp_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    store.close()
    for seed in range(6):
        kept, fresh = tmp_path / f"kept-{seed}.db", tmp_path / f"fresh-{seed}.db"
        shutil.copy(db_path, kept)
        shutil.copy(db_path, fresh)
        batches = _batches(rnd, seed)
        with Store(kept) as one:
            by_ledger = [[(d.outcome, d.code) for d in one.decide_votes(b)] for b in batches]
            assert one._vote_ledger is not None and one._vote_ledger.reads == 1, "read once, then kept"
        by_table = []
        for b in batches:
            with Store(fresh) as each:  # a new connection: its ledger is read from the table for this batch
                by_table.append([(d.outcome, d.code) for d in each.decide_votes(b)])
        assert by_ledger == by_table, f"seed {seed}"
        assert _table(kept, rnd.id) == _table(fresh, rnd.id)
        outcomes = {o for batch in by_ledger for o, _ in batch}
        codes = {c for batch in by_ledger for _, c in batch}
        assert {VoteOutcome.ACCEPT, VoteOutcome.REPLAY, VoteOutcome.REFUSE} <= outcomes, "the batches try every path"
        assert {"address_limit", "bad_label"} <= codes


async def test_votes_another_connection_commits_are_seen_by_the_next_batch(store: Store, db_path: Path) -> None:
    rnd = await voting_round(director_for(store))
    label = sorted(rnd.labels.values())[0]
    at = (rnd.vote_opened_at or 0) + 1
    assert [d.outcome for d in store.decide_votes([VoteIn(rnd.id, "phone-1", label, "m1", at, origin="net")])] == \
        [VoteOutcome.ACCEPT]
    with Store(db_path) as other:  # another process: a second hub, or the console's drain of a Redis node
        other.decide_votes([VoteIn(rnd.id, "phone-2", label, "m2", at, origin="net"),
                            VoteIn(rnd.id, "phone-1", label, "m9", at, origin="net")])
    ledger = store._vote_ledger
    assert ledger is not None
    reads = ledger.reads
    again = store.decide_votes([VoteIn(rnd.id, "phone-1", label, "m9", at + 1, origin="net"),  # the other's, resent
                                VoteIn(rnd.id, "phone-3", label, "m3", at + 1, origin="net")])  # a third phone
    assert [d.outcome for d in again] == [VoteOutcome.REPLAY, VoteOutcome.REFUSE]
    assert again[1].code == "address_limit", "the other connection's phone-2 counts against the network"
    assert ledger.reads == reads + 1, "the ledger was read again from the table"


async def test_a_batch_rolled_back_leaves_nothing_counted_in_the_ledger(store: Store) -> None:
    rnd = await voting_round(director_for(store))
    label = sorted(rnd.labels.values())[0]
    vote = VoteIn(rnd.id, "phone-1", label, "m1", (rnd.vote_opened_at or 0) + 1, origin="net")
    with pytest.raises(RuntimeError), store.transaction():  # as the drain's transaction can fail after its votes
        assert store.decide_votes([vote])[0].outcome is VoteOutcome.ACCEPT
        raise RuntimeError("the rest of the transaction failed")
    assert store.vote_labels(rnd.id) == {}
    assert store.decide_votes([vote])[0].outcome is VoteOutcome.ACCEPT, "not taken for a replay of a vote never stored"
    assert store.vote_labels(rnd.id) == {label: 1}


async def test_the_rehearsal_wipe_empties_the_ledger_with_the_table(store: Store) -> None:
    director = director_for(store)
    rnd = await voting_round(director)
    label = sorted(rnd.labels.values())[0]
    at = (rnd.vote_opened_at or 0) + 1
    store.decide_votes([VoteIn(rnd.id, f"phone-{i}", label, "m1", at, origin="net") for i in (1, 2)])
    store.wipe_show("organiser")
    again = await voting_round(director)
    assert again.id == rnd.id, "the wiped round's id is used again: a stale ledger would still count its votes"
    label = sorted(again.labels.values())[0]
    at = (again.vote_opened_at or 0) + 1
    decided = store.decide_votes([VoteIn(again.id, f"phone-{i}", label, "m1", at, origin="net") for i in (1, 2, 3)])
    assert [d.outcome for d in decided] == [VoteOutcome.ACCEPT, VoteOutcome.ACCEPT, VoteOutcome.REFUSE]
    assert decided[2].code == "address_limit"


def test_schema_7_drops_the_origin_index_the_ledger_replaced(store: Store, db_path: Path) -> None:
    def index() -> object:
        return store.conn.execute("SELECT name FROM sqlite_master WHERE name='votes_origin'").fetchone()

    assert index() is None
    store.conn.execute("CREATE INDEX votes_origin ON votes(round_id, origin)")  # a file written by schema 6
    store.conn.execute("PRAGMA user_version=6")
    store.close()
    store = Store(db_path)
    assert index() is None and store.conn.execute("PRAGMA user_version").fetchone()[0] == 7
    store.close()


async def test_a_round_the_ledger_let_go_of_is_read_again_for_a_late_resend(store: Store) -> None:
    director = director_for(store)
    rounds = []
    for seed in (11, 12, 13):  # the ledger keeps the last two rounds it decided in
        rnd = await voting_round(director, seed=seed)
        label = sorted(rnd.labels.values())[0]
        decided = store.decide_votes([VoteIn(rnd.id, "phone-1", label, f"m{rnd.id}", (rnd.vote_opened_at or 0) + 1)])
        assert decided[0].outcome is VoteOutcome.ACCEPT
        director.void(rnd.id, "the next question, for this test")  # the next round may start
        rounds.append(rnd)
    ledger = store._vote_ledger
    assert ledger is not None
    reads, first = ledger.reads, rounds[0]
    resend = VoteIn(first.id, "phone-1", sorted(first.labels.values())[0], f"m{first.id}",
                    rounds[-1].vote_opened_at or 0)
    assert store.decide_votes([resend])[0].outcome is VoteOutcome.REPLAY, "its ack was lost: acknowledged, once"
    assert ledger.reads == reads + 1
