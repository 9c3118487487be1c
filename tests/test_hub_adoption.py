"""Adoption by identity: a console adopts only a hub serving its very database, not one on the same path.

Issue 11: a console restarted after the organiser deleted `show.db*` adopted the leftover hub that still
served the deleted file; phones saw the old rehearsal's question and votes were acknowledged into a
deleted database. Now /healthz names the database it serves (event id, device, inode, deleted) and the
supervisor compares it with the file it opens: the leftover is named, stopped and replaced. Real
processes on 127.0.0.1: a console stand-in killed with SIGKILL leaves its hub, the organiser deletes the
files, a new database is set up at the same path and a new supervisor starts.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from finale.hub_port import PortHolder, check_identity, process_args
from finale.store import Store
from finale.supervisor import HubSupervisor
from tests.drills.hub import hub_health, new_event_db, orphan_hub, voting_db, wait_until
from tests.drills.phone import Phone
from tests.hub_helpers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _delete_database(db: Path) -> None:
    """What the organiser did: rm show.db*."""
    for path in db.parent.glob(db.name + "*"):
        if not path.name.endswith(".log"):
            path.unlink()


async def test_a_hub_serving_the_deleted_database_is_named_stopped_and_replaced(tmp_path: Path) -> None:
    db, port = tmp_path / "show.db", free_port()
    old_round, labels = voting_db(db)  # the old rehearsal: a question, a poll open
    with orphan_hub(db, port, tmp_path / "first.log") as orphan:
        old = hub_health(f"http://127.0.0.1:{port}")["database"]
        assert old["path"] == str(db) and not old["deleted"] and old["event_id"]
        _delete_database(db)
        assert hub_health(f"http://127.0.0.1:{port}")["database"]["deleted"], "the leftover knows"
        new_event_db(db)  # the organiser starts again: a new database at the same path
        with Store(db) as store:
            event_id, event = store.event_id(), store.event_config().event.name
        assert event_id and event_id != old["event_id"]
        log = tmp_path / "hub.log"
        sup = HubSupervisor(db, "127.0.0.1", port, f"http://127.0.0.1:{port}", log, min_backoff_s=0.2)
        sup.start()
        try:
            assert not sup.adopted, "a hub on the same path serving another database is not adopted"
            assert wait_until(lambda: process_args(orphan) is None), "the leftover hub is stopped"
            assert wait_until(lambda: sup.alive and sup.pid != orphan) and sup.wait_ready(20), log.read_text()
            served = hub_health(sup.url)["database"]
            st = os.stat(db)
            assert (served["event_id"], served["dev"], served["ino"], served["deleted"]) == \
                (event_id, st.st_dev, st.st_ino, False)
            phone = Phone(sup.url.replace("http://", "ws://") + "/ws", "phone-after-reset")
            await phone.connect()
            assert phone.state.get("round") is None and not phone.state.get("prompt"), \
                "phones see the new database, not the old rehearsal's question"
            assert not await phone.vote(old_round, labels[0]), "nothing is acknowledged for the deleted round"
            await phone.close()
        finally:
            sup.stop()
    text = log.read_text()
    assert f"not adopting: port {port} is held by a finale hub (pid {orphan}) that serves another database: " \
           f"event {event!r} from {db} (deleted)" in text, text
    assert f"adopted hub pid {orphan}" not in text and "started hub pid" in text


def test_identity_is_the_event_id_and_the_file_not_the_path(tmp_path: Path) -> None:
    db = tmp_path / "show.db"
    new_event_db(db)
    with Store(db) as store:
        event_id = store.event_id()
    st = os.stat(db)
    same = PortHolder("same", 8765, 42, "finale hub", str(db))
    database = {"event_id": event_id, "event": "Finale", "path": str(db), "dev": st.st_dev, "ino": st.st_ino,
                "deleted": False}
    assert check_identity(same, {"database": database}, db, event_id) == same
    cases = {
        "another event id": ({**database, "event_id": "0123456789abcdef"}, "another database: event 'Finale'"),
        "another file": ({**database, "ino": st.st_ino + 1}, "another database"),
        "deleted": ({**database, "deleted": True}, f"{db} (deleted)"),
    }
    for why, (served, words) in cases.items():
        judged = check_identity(same, {"database": served}, db, event_id)
        assert judged.kind == "stale" and judged.serves is not None and words in judged.serves, why
        assert "that serves" in judged.describe() and "another database" in judged.short(), why
    assert check_identity(same, {"ok": True}, db, event_id).kind == "stale", "a hub that does not say"
    assert check_identity(same, None, db, event_id).kind == "stale", "a hub that does not answer"
    foreign = PortHolder("foreign", 8765, 7, "python -m http.server")
    assert check_identity(foreign, None, db, event_id) is foreign
