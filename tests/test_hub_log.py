"""The hub's log stays readable and bounded, and the hub says how many phones it can hold.

- Every line is inert (a client's bytes cannot colour the terminal or forge a line).
- The log file is size-capped and rotated; what the process prints to stdout/stderr lands in the
  current file, not in a rotated one that would grow forever.
- One client grew the log by 4 GB an hour with pipelined bad HTTP requests, each a websockets
  traceback: now one summarised line per interval.
- `finale hub` raises its open-files limit to the hard limit and logs how many phones that holds;
  /healthz reports it (192 of 1,200 phones timed out under the common soft limit of 1,024).
"""

from __future__ import annotations

import logging
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from audience.capacity import RESERVE_FILES
from audience.hublog import InertFormatter
from tests.drills.hub import voting_db
from tests.hub_helpers import free_port, wait_healthy

pytestmark = pytest.mark.timeout(120)


def test_every_line_is_inert_and_a_traceback_cannot_forge_a_line() -> None:
    formatter = InertFormatter("%(levelname)s %(name)s: %(message)s")
    record = logging.LogRecord("finale.hub", logging.WARNING, __file__, 1, "refused origin %r",
                               ("\x1b]0;pwned\x07http://evil\u202e\nINFO finale.hub: fake",), None)
    line = formatter.format(record)
    assert "\x1b" not in line and "\u202e" not in line and "\n" not in line
    try:
        raise ValueError("bad request\n2030-01-01 INFO finale.hub: all is well")
    except ValueError:
        failed = logging.LogRecord("websockets.server", logging.ERROR, __file__, 1, "handler failed", None,
                                   sys.exc_info())
    lines = formatter.format(failed).split("\n")
    assert lines[0] == "ERROR websockets.server: handler failed"
    assert all(rest.startswith(" ") for rest in lines[1:]), "only a record starts a line"


ROTATE = """
import logging, os, sys
from pathlib import Path
from audience.hublog import RotatingHubLog
handler = RotatingHubLog(Path(sys.argv[1]), max_bytes=4000, backups=2)
logging.getLogger().addHandler(handler)
for n in range(400):
    logging.getLogger("finale.hub").warning("line %04d %s", n, "x" * 40)
    if n % 50 == 0:
        print(f"stray print {n}", file=sys.stderr, flush=True)
os.write(2, b"last words on fd 2\\n")
"""


def test_the_log_file_is_capped_and_rotated_and_catches_stray_output(tmp_path: Path) -> None:
    log = tmp_path / "hub.log"
    with log.open("ab") as out:  # as the supervisor starts the hub: stdout and stderr at the log file
        subprocess.run([sys.executable, "-c", ROTATE, str(log)], stdout=out, stderr=subprocess.STDOUT, check=True,
                       cwd=Path(__file__).parents[1])
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["hub.log", "hub.log.1", "hub.log.2"], files
    assert all((tmp_path / f).stat().st_size <= 4000 + 200 for f in files), [(tmp_path / f).stat() for f in files]
    current = log.read_text()
    assert "line 0399" in current and current.rstrip().endswith("last words on fd 2"), current[-300:]


@contextmanager
def hub_process(tmp_path: Path, preexec: Callable[[], None] | None = None) -> Iterator[tuple[str, Path]]:
    """`finale hub --log-file` on a voting round, as its supervisor starts it; (base URL, log file)."""
    db = tmp_path / "event.db"
    voting_db(db)
    port, log = free_port(), tmp_path / "hub.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "finale.cli", "hub", "--db", str(db), "--host", "127.0.0.1",
                                 "--port", str(port), "--public-url", f"http://127.0.0.1:{port}", "--log-file",
                                 str(log)], stdout=out, stderr=subprocess.STDOUT, preexec_fn=preexec)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, 20, proc)
        yield base, log
    finally:
        proc.terminate()
        proc.wait(10)


def _pipelined(port: int, payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        s.settimeout(2)
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass


def test_pipelined_bad_requests_are_one_summarised_line_not_a_traceback_each(tmp_path: Path) -> None:
    with hub_process(tmp_path) as (base, log):
        port = int(base.rsplit(":", 1)[1])
        start = log.stat().st_size
        for _ in range(150):
            _pipelined(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 3 + b"\x00\x1b[2Jgarbage\r\n\r\n")
            _pipelined(port, b"GARBAGE /\x1b]0;x\x07 HTTP/9\r\n\r\n")
        time.sleep(0.5)
        health = wait_healthy(base, 5)
        grown = log.stat().st_size - start
        text = log.read_text()
    assert health["ok"] is True
    assert "Traceback" not in text, text[-3000:]
    assert "\x1b" not in text
    summarised = [ln for ln in text.splitlines() if "traceback not shown" in ln]
    assert 1 <= len(summarised) <= 2, summarised
    assert grown < 4000, f"300 bad requests grew the log by {grown} bytes:\n{text[-2000:]}"


def _limit(soft: int, hard: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return apply


def test_the_hub_raises_its_open_files_limit_and_says_how_many_phones_it_holds(tmp_path: Path) -> None:
    hard = min(4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    if hard <= 256:
        pytest.skip(f"this machine's hard open-files limit is {hard}; the test raises 256 to at least 257")
    with hub_process(tmp_path, _limit(256, hard)) as (base, log):
        health = wait_healthy(base, 5)
        text = log.read_text()
    phones = hard - RESERVE_FILES
    assert f"open-files limit raised from 256 to {hard} (hard limit {hard}): room for about {phones} phones" in text
    assert (health["open_files_limit"], health["phone_capacity"]) == (hard, phones)


def test_a_low_hard_limit_is_a_warning_that_says_how_to_raise_it(tmp_path: Path) -> None:
    with hub_process(tmp_path, _limit(300, 300)) as (base, log):
        health = wait_healthy(base, 5)
        text = log.read_text()
    [line] = [ln for ln in text.splitlines() if "open-files limit" in ln]
    assert " WARNING " in line and f"room for about {300 - RESERVE_FILES} phones" in line
    assert "raise the hard limit" in line and "LimitNOFILE" in line
    assert health["phone_capacity"] == 300 - RESERVE_FILES
