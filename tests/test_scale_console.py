"""The console with `[scale] redis_url`: it runs the bridge, and its header shows the nodes and their phones.

Pilot drives the real console; the primary hub (with the database) and a second node (without)
run in the same loop on a real redis-server; phones are real websockets clients.
"""

from __future__ import annotations

from pathlib import Path

from finale.config import load_event
from finale.demo import DEMO_EVENT
from finale.store import Store
from finale.tui.app import create_app
from tests.drills.phone import Phone
from tests.hub_helpers import director_for, running_hub, voting_round
from tests.redis_server import RedisServer
from tests.tui_support import wait_until


async def test_the_console_drains_the_nodes_votes_and_shows_each_nodes_phones(tmp_path: Path,
                                                                              redis_server: RedisServer) -> None:
    db = tmp_path / "event.db"
    with Store(db) as store:
        store.setup_event(load_event(DEMO_EVENT))
    async with running_hub(db, redis_url=redis_server.url) as primary:
        app = create_app(db, DEMO_EVENT, time_scale=0, cursor_blink=False, hub_url=f"http://127.0.0.1:{primary.port}",
                         redis_url=redis_server.url)
        app.hub_interval = 0.2
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: app.bridge is not None, "the console's bridge to start")
            async with running_hub(None, redis_url=redis_server.url) as node:  # type: ignore[arg-type]
                store = Store(db)
                rnd = await voting_round(director_for(store), window_s=120)
                label = sorted(rnd.labels.values())[0]
                phones = [Phone(f"ws://127.0.0.1:{hub.port}/ws", f"console-phone-{i:02d}")
                          for i, hub in enumerate([primary, node, node])]
                for phone in phones:
                    await phone.connect()
                    await phone.wait_for_voting()
                    assert await phone.vote(rnd.id, label), phone.log.refused
                await wait_until(pilot, lambda: len(store.votes(rnd.id)) == 3, "the console to drain 3 votes")
                await wait_until(pilot, lambda: app.hub_status.nodes in ((1, 2), (2, 1)), "both nodes' phones")
                assert "2 nodes · 3 phones" in app.hub_status.label
                header = str(app.screen.query_one("ShowHeader").render())
                assert "2 nodes" in header
                for phone in phones:
                    await phone.close()
                store.close()
