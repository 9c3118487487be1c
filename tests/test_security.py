"""Security of the live show, checked against the real processes.

- wrong private-link tokens are rate-limited per address and logged (without the token);
- a WebSocket from a foreign page is refused (HTTP 403), in real headless Chromium too;
- every route of the hub carries the Content-Security-Policy (no inline script);
- the browser keeps no secret: no cookies; localStorage holds the device id, its own voter credential
  (and a pending vote) only;
  a judge's or finalist's token lives in the URL path, nowhere else;
- a show with AWS credentials and an OpenAI API key in the environment leaves neither, nor any
  judge/finalist token, the event's voter secret or a phone's voter credential, in the hub log, the
  console log, `finale export` or `finale report`;
- the hub binds where the event file says and prints the exact URL phones must reach.
(The database file being created 0600 is tested in tests/test_store.py.)
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from audience.hublog import REPEAT_BURST
from finale.config import BedrockEndpoint, EventConfig, OpenAIEndpoint
from finale.demo import DEMO_EVENT
from finale.demo.script import load_script
from finale.demo.simulate import panel_scores
from finale.director import Director, build_endpoints
from finale.store import Store
from finale.supervisor import HubSupervisor
from tests.drills.hub import new_event_db, voting_db
from tests.drills.phone import Phone
from tests.hub_helpers import HubProcess, free_port, recv_type, wait_healthy

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

FAKE_SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAFINALELEAKTEST77",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/finaleLEAKtestKEY9",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEFINALELEAKTESTSESSIONTOKEN",
    "MIA_API_KEY": "sk-finale-leak-test-5b1f0c9e7a3d",
}


def _hub(tmp_path: Path, db: Path) -> HubProcess:
    hub = HubProcess(db, free_port(), tmp_path / "hub.log")
    hub.start()
    return hub


@pytest.fixture
def voting_hub(tmp_path: Path) -> Iterator[HubProcess]:
    """`finale hub` on a fresh database whose first round is open for votes."""
    db = tmp_path / "event.db"
    voting_db(db)
    hub = _hub(tmp_path, db)
    yield hub
    hub.stop()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _tokens(db: Path) -> dict[str, str]:
    with Store(db) as store:
        return {**store.tokens("panelists"), **store.tokens("finalists")}


# -- private links ---------------------------------------------------------------------------------


def test_token_guessing_is_rate_limited_and_logged_without_the_tokens(voting_hub: HubProcess) -> None:
    """The guessing address is refused its wrong guesses; its right link still works (tests/test_hub_tokens.py)."""
    with Store(voting_hub.db_path) as store:
        right = store.tokens("panelists")["panel-1"]
    guesses = [f"guess{i:03d}{'x' * 20}" for i in range(12)]
    codes = [_get(f"{voting_hub.base}/judge/{g}")[0] for g in guesses]
    assert codes[:10] == [404] * 10 and codes[10:] == [429, 429], codes
    assert _get(f"{voting_hub.base}/judge/{right}")[0] == 200, "others' guesses never refuse the right link"

    async def hello_with_right_token() -> dict[str, object]:
        from websockets.asyncio.client import connect

        async with connect(f"ws://127.0.0.1:{voting_hub.port}/ws") as ws:
            await ws.send(json.dumps({"type": "hello", "role": "judge", "device_id": "judge-dev-1", "token": right}))
            return json.loads(await ws.recv())

    import asyncio

    assert asyncio.run(hello_with_right_token())["type"] == "state"
    time.sleep(0.3)
    log = voting_hub.log_path.read_text()
    # logged, but a repeated line only a few times a minute (audience/hublog.py), then counted
    assert 1 <= log.count("wrong private judge link from 127.0.0.1") <= REPEAT_BURST + 1, log[-2000:]
    assert "too many in a minute, refused for 60 s" in log
    for token in [*guesses, *_tokens(voting_hub.db_path).values()]:
        assert token not in log


# -- origin and CSP --------------------------------------------------------------------------------


def _upgrade_headers(origin: str) -> dict[str, str]:
    return {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13", "Origin": origin}


def _assert_csp(headers: dict[str, str], what: str) -> None:
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp and "script-src 'self'" in csp, f"{what}: CSP is {csp!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{what}: {csp}"
    assert re.search(r"frame-ancestors ('none'|\*)", csp), f"{what}: {csp}"
    assert headers.get("X-Content-Type-Options") == "nosniff", what


def test_every_route_carries_the_content_security_policy(voting_hub: HubProcess) -> None:
    tokens = _tokens(voting_hub.db_path)
    static = sorted(p.name for p in (Path(__file__).parents[1] / "audience" / "static").iterdir())
    routes = ["/", "/stage", "/stage?overlay=1", "/qr.png", "/qr.svg", "/healthz", "/nowhere", "/static/../x",
              f"/judge/{tokens['panel-1']}", f"/finalist/{tokens['ray']}", "/judge/wrong-token",
              *(f"/static/{name}" for name in static)]
    for route in routes:
        status, headers, _ = _get(voting_hub.base + route)
        assert status in (200, 404), (route, status)
        _assert_csp(headers, route)
    status, headers, body = _get(f"{voting_hub.base}/ws", _upgrade_headers("http://evil.example"))
    assert status == 403 and b"not allowed" in body
    _assert_csp(headers, "refused WebSocket")
    for _ in range(12):
        status, headers, _ = _get(f"{voting_hub.base}/finalist/wrong-{_}")
    assert status == 429
    _assert_csp(headers, "429 for a guessing address")


def test_nothing_public_carries_a_token(voting_hub: HubProcess) -> None:
    """/healthz, the pages and the audience/stage states never include a private link's token."""
    tokens = set(_tokens(voting_hub.db_path).values())
    bodies = [_get(voting_hub.base + r)[2].decode("utf-8", "replace") for r in ("/", "/stage", "/healthz")]

    async def states() -> list[str]:
        out = []
        for role in ("audience", "stage"):
            phone = Phone(f"ws://127.0.0.1:{voting_hub.port}/ws", f"{role}-0000001")
            if role == "stage":
                from websockets.asyncio.client import connect

                async with connect(phone.url) as ws:
                    await ws.send(json.dumps({"type": "hello", "role": "stage", "device_id": "stage-00001"}))
                    out.append(json.dumps(await recv_type(ws, "state")))
                continue
            await phone.connect()
            out.append(json.dumps(phone.state))
            await phone.close()
        return out

    import asyncio

    for text in bodies + asyncio.run(states()):
        assert not any(t in text for t in tokens)


# -- no secret in logs or exports ----------------------------------------------------------------


def _secret_event(config: EventConfig, aws_url: str, oai_url: str) -> EventConfig:
    """Ray on Bedrock (signed with the environment's AWS keys), Mia on an OpenAI server that needs a key."""
    ray = BedrockEndpoint(kind="bedrock", model_id="ray-model", region="us-east-1", endpoint_url=aws_url,
                          connect_timeout_s=2, max_attempts=1)
    mia = OpenAIEndpoint(kind="openai", base_url=oai_url + "/v1", model="mia-model", api_key_env="MIA_API_KEY",
                         connect_timeout_s=2, max_attempts=1)
    endpoints = {"ray": ray, "mia": mia}
    finalists = tuple(f.model_copy(update={"endpoint": endpoints[f.id]}) if f.id in endpoints else f
                      for f in config.finalists)
    return config.model_copy(update={"finalists": finalists})


def _finale(*args: str, out: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "finale.cli", *args], capture_output=True, text=True, timeout=120,
                            check=False)
    out.write_text(f"$ finale {' '.join(args)}\n{result.stdout}\n{result.stderr}")
    assert result.returncode == 0, out.read_text()


async def test_logs_and_exports_hold_no_credentials_or_tokens(tmp_path: Path, demo_config: EventConfig,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.wire.aws import aws_server
    from tests.wire.openai import openai_server

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in FAKE_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    show_dir = tmp_path / "show"
    show_dir.mkdir()
    db = show_dir / "event.db"
    console_log = logging.FileHandler(show_dir / "console.log")
    console_log.setLevel(logging.INFO)
    logging.getLogger().addHandler(console_log)
    with aws_server() as aws, openai_server(api_key=FAKE_SECRETS["MIA_API_KEY"]) as oai:
        config = _secret_event(demo_config, aws.url, oai.url)
        new_event_db(db, config)
        port = free_port()
        sup = HubSupervisor(db, "127.0.0.1", port, f"http://127.0.0.1:{port}", show_dir / "hub.log")
        sup.start()
        try:
            assert sup.wait_ready(30)
            with Store(db) as store:
                tokens = {**store.tokens("panelists"), **store.tokens("finalists")}
                voter_secret = store.voter_secret().hex()
                director = Director(store, build_endpoints(config, DEMO_EVENT.parent, time_scale=0))
                rnd = director.new_round("capital", seed=1)
                answers = await director.ask(rnd.id)
                assert answers["ray"].status.value == "ok" and answers["mia"].status.value == "ok", answers
                await director.judge(rnd.id)
                for score in panel_scores(store.event(), store.round(rnd.id), load_script(
                        DEMO_EVENT.parent / "script.toml"), 1):
                    store.save_panel_score(score, actor=score.panelist_id)
                director.open_poll(rnd.id, 60)
                for path in (f"/judge/{tokens['panel-1']}", f"/finalist/{tokens['mia']}", "/judge/not-a-token"):
                    _get(sup.url + path)
                phone = Phone(f"ws://127.0.0.1:{port}/ws", "phone-secret-01")
                await phone.connect()
                await phone.wait_for_voting()
                assert await phone.vote(rnd.id, rnd.labels["mia"])
                credential = phone.client.credential
                assert credential is not None
                await phone.close()
                director.close_poll(rnd.id)
                director.reveal_round(rnd.id)
                director.finalize(rnd.id)
                await director.endpoints.aclose()
        finally:
            sup.stop()
            logging.getLogger().removeHandler(console_log)
            console_log.close()
        signed = [r.headers.get("authorization", "") for r in aws.script.requests]
        assert any(FAKE_SECRETS["AWS_ACCESS_KEY_ID"] in h for h in signed), "the AWS keys were really used"
        assert any(r.headers.get("authorization") == f"Bearer {FAKE_SECRETS['MIA_API_KEY']}"
                   for r in oai.script.requests), "the API key was really used"
    _finale("export", "--db", str(db), "--format", "json", "--out", str(show_dir / "export.json"),
            out=show_dir / "export-json.out")
    _finale("export", "--db", str(db), "--format", "csv", "--out", str(show_dir / "csv"), out=show_dir / "csv.out")
    _finale("report", "--db", str(db), "--out", str(show_dir / "report.html"), out=show_dir / "report.out")
    _finale("standings", "--db", str(db), out=show_dir / "standings.out")
    files = [p for p in show_dir.rglob("*") if p.is_file() and ".db" not in p.name]
    assert {"hub.log", "console.log", "export.json", "report.html", "events.csv"} <= {p.name for p in files}
    assert "hub listening on" in (show_dir / "hub.log").read_text()
    secrets = {**FAKE_SECRETS, **{f"token of {who}": t for who, t in tokens.items()},
               "the voter secret": voter_secret, "a phone's voter credential": credential,
               "a voter credential's signature": credential.rsplit(".", 1)[1]}
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for what, secret in secrets.items():
            assert secret not in text, f"{what} found in {path.relative_to(show_dir)}"


# -- where the hub listens --------------------------------------------------------------------------


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp) with a socket listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(addr)
    return found


def test_the_hub_binds_where_the_event_says_and_prints_the_join_url(tmp_path: Path,
                                                                     demo_config: EventConfig) -> None:
    port = free_port()
    public = f"http://192.0.2.10:{port}"  # what phones reach (a venue address), not where the hub binds
    config = demo_config.model_copy(update={
        "hub": demo_config.hub.model_copy(update={"host": "127.0.0.1", "port": port}),
        "event": demo_config.event.model_copy(update={"public_url": public})})
    db = new_event_db(tmp_path / "event.db", config)
    proc = subprocess.Popen([sys.executable, "-m", "finale.cli", "hub", "--db", str(db)], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stderr is not None
        line = ""
        deadline = time.monotonic() + 30
        while "hub listening on http://" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "the hub exited"
        assert f"hub listening on http://127.0.0.1:{port}/ ; join URL {public}/" in line, line
        assert wait_healthy(f"http://127.0.0.1:{port}", 10)["ok"]
        assert _listening(port) == {"0100007F"}, "bound to 127.0.0.1 only, as the event file says"
    finally:
        proc.terminate()
        proc.wait(10)


# -- in the browser (last: sync Playwright holds this thread's event loop) ------------------------------


@contextmanager
def _serve_page(html: str) -> Iterator[str]:
    """A real HTTP server on another port of 127.0.0.1 serving one page: a foreign origin."""
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_a_foreign_page_cannot_open_the_hub_websocket(browser: Browser, voting_hub: HubProcess) -> None:
    ws_url = f"ws://127.0.0.1:{voting_hub.port}/ws"
    probe = ("<!doctype html><title>waiting</title><script>"
             f"const ws = new WebSocket({json.dumps(ws_url)});"
             "ws.onopen = () => { document.title = 'opened'; };"
             "ws.onerror = () => { document.title = 'refused'; };</script>")
    with _serve_page(probe) as foreign:  # another site on this machine, served for real
        page = browser.new_page()
        page.goto(f"{foreign}/")
        expect(page).to_have_title("refused", timeout=10_000)
        page.close()
    time.sleep(0.2)
    # The hub refused it (not the browser): its log names the foreign origin.
    assert f"refused a WebSocket from origin '{foreign}'" in voting_hub.log_path.read_text()


@pytest.mark.browser
def test_cookies_and_storage_hold_no_secret(browser: Browser, voting_hub: HubProcess) -> None:
    tokens = _tokens(voting_hub.db_path)
    context = browser.new_context()
    page = context.new_page()
    page.goto(voting_hub.base + "/")
    expect(page.locator("#status")).to_have_text("Connected")
    label = page.locator("button.vote").first.get_attribute("data-label")
    page.locator(f"button.vote[data-label='{label}']").click()
    expect(page.locator("#notice")).to_contain_text(f"Vote received: {label}")
    stored = page.evaluate("() => Object.entries(localStorage)")
    assert dict(stored).keys() <= {"finale.device", "finale.pendingVote", "finale.credential"}, stored
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", dict(stored)["finale.device"])
    with Store(voting_hub.db_path) as store:  # the phone holds its own voter credential, never the event's key
        secret = store.voter_secret()
    assert re.fullmatch(r"v1\.v[0-9a-f]{24}\.[0-9]+\.[A-Za-z0-9_-]{43}", dict(stored)["finale.credential"])
    assert secret.hex() not in json.dumps(stored)
    assert "finale.pendingVote" not in dict(stored), "an acknowledged vote is no longer kept"
    for kind, who, name in (("judge", "panel-1", "Dr. Ada Byrne"), ("finalist", "ray", "Ray")):
        page.goto(f"{voting_hub.base}/{kind}/{tokens[who]}")
        expect(page.locator("#you")).to_have_text(name)
        storage = json.dumps(page.evaluate("() => [Object.entries(localStorage), Object.entries(sessionStorage)]"))
        assert not any(t in storage for t in tokens.values()), storage
        assert page.evaluate("() => document.cookie") == ""
    assert context.cookies() == []
    context.close()
