"""Where the hub binds against the URL phones are sent to: the venue mistakes are named before the show."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from audience.reach import is_loopback, reach_warnings
from finale.cli import main
from finale.config import EventConfig
from finale.demo import DEMO_EVENT


def _config(demo_config: EventConfig, host: str, port: int, url: str) -> EventConfig:
    data: dict[str, Any] = demo_config.model_dump()
    data["hub"].update(host=host, port=port)
    data["event"]["public_url"] = url
    return EventConfig.model_validate(data)


def test_agreeing_settings_give_no_warning(demo_config: EventConfig) -> None:
    assert reach_warnings(demo_config) == []  # the demo: 127.0.0.1:8765 both ways
    assert reach_warnings(_config(demo_config, "0.0.0.0", 8765, "http://192.168.1.20:8765")) == []


def test_loopback_hub_with_a_venue_url_is_named(demo_config: EventConfig) -> None:
    [warning] = reach_warnings(_config(demo_config, "127.0.0.1", 8765, "http://10.0.0.5:8765/"))
    assert "this machine only" in warning and 'hub.host = "0.0.0.0"' in warning


def test_venue_hub_with_a_loopback_url_is_named(demo_config: EventConfig) -> None:
    [warning] = reach_warnings(_config(demo_config, "0.0.0.0", 8765, "http://localhost:8765"))
    assert "the phone itself" in warning and "event.public_url" in warning


def test_port_mismatch_and_bad_urls(demo_config: EventConfig) -> None:
    [warning] = reach_warnings(_config(demo_config, "0.0.0.0", 8765, "https://vote.example.org"))
    assert "port 443" in warning and "8765" in warning
    [bad] = reach_warnings(_config(demo_config, "0.0.0.0", 8765, "vote.example.org"))
    assert "not an http(s) URL" in bad
    assert is_loopback("::1") and is_loopback("[::1]") and is_loopback("127.0.1.1") and not is_loopback("0.0.0.0")


def test_validate_warns_on_stderr_and_still_passes(demo_config: EventConfig, tmp_path: Path) -> None:
    text = (DEMO_EVENT.parent / "event.toml").read_text().replace('public_url = "http://127.0.0.1:8765"',
                                                                 'public_url = "http://10.0.0.5:8765"')
    event = tmp_path / "event.toml"
    event.write_text(text)
    shutil.copy(DEMO_EVENT.parent / "script.toml", tmp_path / "script.toml")
    result = CliRunner().invoke(main, ["validate", str(event)])
    assert result.exit_code == 0
    assert "ok (5 finalists" in result.stdout and "warning" not in result.stdout
    assert "warning: the hub listens on 127.0.0.1 (this machine only)" in result.stderr
