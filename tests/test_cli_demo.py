"""`finale demo` on a taken port takes a free one and says which; `finale validate` wants the rehearsal script."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from finale.cli import main
from finale.cli_demo import demo_port, missing_script
from finale.config import EventConfig, load_event
from finale.demo import DEMO_EVENT


@pytest.fixture
def listener() -> Iterator[int]:
    """Another program listening on a port (a plain socket, not a finale hub)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def on_port(config: EventConfig, port: int) -> EventConfig:
    return config.model_copy(update={"hub": config.hub.model_copy(update={"port": port})})


def test_the_demo_takes_a_free_port_when_its_own_is_taken_and_says_which(
        listener: int, demo_config: EventConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chosen = demo_port(None, tmp_path / "demo.db", on_port(demo_config, listener))
    assert chosen != listener
    said = capsys.readouterr().err
    assert f"port {listener} is held by another program" in said
    assert f"the hub uses port {chosen} instead" in said and f"http://127.0.0.1:{chosen}/stage" in said
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", chosen))  # it was free


def test_a_port_asked_for_is_kept_or_refused_with_what_to_do(listener: int, demo_config: EventConfig,
                                                             tmp_path: Path) -> None:
    with pytest.raises(click.UsageError, match=rf"--port {listener}: port {listener} is held .*--port 0"):
        demo_port(listener, tmp_path / "demo.db", demo_config)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    assert demo_port(free, tmp_path / "demo.db", demo_config) == free
    assert demo_port(0, tmp_path / "demo.db", demo_config) > 0


def test_validate_fails_when_the_rehearsal_script_is_missing(tmp_path: Path) -> None:
    event = tmp_path / "event.toml"
    shutil.copy(DEMO_EVENT, event)  # every endpoint is rehearsal; script.toml is not beside it
    out = subprocess.run([sys.executable, "-m", "finale.cli", "validate", str(event)], capture_output=True,
                         text=True)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"event.toml: rehearsal.script: no such file {tmp_path / 'script.toml'}, used by finalists.ray, "
        "finalists.mia, finalists.sol and more; every rehearsal answer would read 'I do not have a scripted answer'"]
    shutil.copy(DEMO_EVENT.parent / "script.toml", tmp_path / "script.toml")
    ok = CliRunner().invoke(main, ["validate", str(event)])
    assert ok.exit_code == 0 and ": ok (" in ok.output


def test_a_named_script_is_checked_even_without_rehearsal_endpoints(tmp_path: Path) -> None:
    config = load_event(DEMO_EVENT)
    assert missing_script(DEMO_EVENT, config) is None
    named = config.model_copy(update={"rehearsal": type(config.rehearsal)(script="missing.toml")})
    problem = missing_script(DEMO_EVENT, named)
    assert problem is not None and "rehearsal.script: no such file" in problem and "missing.toml" in problem
