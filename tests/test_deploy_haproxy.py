"""The README's deployment, run: Debian's HAProxy with the README's own configuration in front of two hubs on
one Redis (the primary and a node, both told `--trusted-proxy` the balancer's address).

Phones from four addresses reach the hubs only through HAProxy: their votes are spread over both hubs and
each is keyed on the phone's own address (X-Forwarded-For from a trusted proxy), not the balancer's; a hub
that cannot store is taken out by the README's health check and the next phones go to the other one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from finale.core import ballot
from finale.store import Store
from tests.children import stop
from tests.hub_helpers import director_for, free_port, running_hub, vote_once, voting_round
from tests.readme_samples import haproxy_sample
from tests.redis_server import RedisServer
from tests.test_scale_redis import bridged, until

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
pytestmark = pytest.mark.skipif(not Path(HAPROXY).exists(), reason="needs Debian's haproxy (make test installs it)")


def _config(sample: str, port: int, hubs: list[int], stats: Path) -> str:
    """The README's sample with this machine's addresses: a plain loopback bind and the test's hubs."""
    lines = []
    for line in sample.splitlines():
        if line.strip().startswith("bind "):
            line = f"    bind 127.0.0.1:{port}"
        if line.strip().startswith("server "):
            continue
        lines.append(line)
    lines += [f"    server hub{i} 127.0.0.1:{p} check inter 1s fall 3 rise 2" for i, p in enumerate(hubs, 1)]
    return "global\n    stats socket " + str(stats) + " level admin\n" + "\n".join(lines) + "\n"


def _servers(stats: Path) -> dict[str, str]:
    """Each backend server's status (UP, DOWN, ...) from HAProxy's stats socket."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(stats))
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    rows = [r.split(",") for r in data.decode().splitlines() if r and not r.startswith("#")]
    return {r[1]: r[17] for r in rows if r[0] == "hubs" and r[1] not in ("BACKEND", "FRONTEND")}


@pytest.mark.slow
async def test_the_readme_haproxy_spreads_phones_keys_each_on_its_address_and_drops_a_failing_hub(
        store: Store, db_path: Path, tmp_path: Path, redis_server: RedisServer) -> None:
    rnd = await voting_round(director_for(store), window_s=120)
    label = sorted(rnd.labels.values())[0]
    lb_port, stats = free_port(), tmp_path / "haproxy.sock"
    trusted = ("127.0.0.1",)
    async with bridged(db_path, redis_server.url) as bridge, \
            running_hub(db_path, redis_url=redis_server.url, trusted_proxies=trusted) as primary, \
            running_hub(None, redis_url=redis_server.url, trusted_proxies=trusted) as node:  # type: ignore[arg-type]
        cfg = tmp_path / "haproxy.cfg"
        cfg.write_text(_config(haproxy_sample(), lb_port, [primary.port, node.port], stats))
        checked = subprocess.run([HAPROXY, "-c", "-f", str(cfg)], capture_output=True, text=True)
        assert checked.returncode == 0, f"the README's HAProxy sample is not valid:\n{checked.stdout}{checked.stderr}"
        proc = subprocess.Popen([HAPROXY, "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL,
                                stderr=(tmp_path / "haproxy.log").open("wb"))
        try:
            await until(lambda: stats.exists() and set(_servers(stats).values()) == {"UP"}, 20)
            url = f"ws://127.0.0.1:{lb_port}/ws"
            hall = [f"127.0.0.{i}" for i in range(21, 25)]
            replies = [await vote_once(url, f"lb-phone-{i}", rnd.id, label, address=ip) for i, ip in enumerate(hall)]
            assert [r["type"] for r in replies] == ["ack"] * 4, replies
            took = primary.health()["votes_committed"], node.health()["votes_committed"]
            assert sum(took) == 4 and min(took) >= 1, f"both hubs took phones' votes: {took}"

            primary.write_health.failed("votes", OSError(28, "database or disk is full"), 1)
            await until(lambda: _servers(stats)["hub1"].startswith("DOWN"), 15)
            late = [await vote_once(url, f"lb-late-{i}", rnd.id, label, address=f"127.0.0.{31 + i}") for i in range(3)]
            assert [r["type"] for r in late] == ["ack"] * 3
            assert primary.health()["votes_committed"] == took[0], "the failing hub is out of the balancer"
            assert node.health()["votes_committed"] == took[1] + 3
            await until(lambda: bridge.stats.drained_votes >= 4 + 3, 20)
        finally:
            stop(proc)
    secret = store.voter_secret()
    origins = sorted(v["origin"] for v in store.votes(rnd.id))
    phones = [*hall, *(f"127.0.0.{31 + i}" for i in range(3))]
    assert origins == sorted(ballot.origin_tag(secret, ip) for ip in phones), "each vote keyed on its phone"
    assert ballot.origin_tag(secret, "127.0.0.1") not in origins, "never on the balancer's address"
