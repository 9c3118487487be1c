"""Event files: the demo validates, and each bad file gives the expected one-line message."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from finale.cli import main
from finale.config import ConfigError, load_event, parse_event
from finale.demo import DEMO_EVENT

BASE: dict[str, Any] = tomllib.loads(DEMO_EVENT.read_text())


def edit(fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    fn(data)
    return data


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def go(d: dict[str, Any]) -> None:
        for key in path[:-1]:
            d = d[key]
        d[path[-1]] = value
    return go


def _del(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def go(d: dict[str, Any]) -> None:
        for key in path[:-1]:
            d = d[key]
        del d[path[-1]]
    return go


BAD_FILES = [
    ("a load balancer that is not an address", _set(["hub", "trusted_proxies"], ["10.0.0.5", "lb.local"]),
     "event.toml: hub.trusted_proxies: trusted proxy 'lb.local' is not an IP address or network (expected e.g. "
     "10.0.0.5 or 10.0.0.0/24)"),
    ("typo in endpoint kind", _set(["finalists", 2, "endpoint", "kind"], "sagemker"),
     "event.toml: finalists[2].endpoint.kind: expected one of sagemaker, bedrock, openai, rehearsal; got 'sagemker'"),
    ("endpoint without kind", _del(["finalists", 0, "endpoint", "kind"]),
     "event.toml: finalists[0].endpoint.kind: required key missing; expected one of sagemaker, bedrock, openai, "
     "rehearsal"),
    ("duplicate finalist id", _set(["finalists", 1, "id"], "ray"),
     "event.toml: finalists: duplicate id 'ray'; ids must be unique"),
    ("duplicate panelist id", _set(["panelists", 2, "id"], "panel-1"),
     "event.toml: panelists: duplicate id 'panel-1'; ids must be unique"),
    ("one finalist", lambda d: d.update(finalists=d["finalists"][:1]),
     "event.toml: finalists: expected at least 2 entries; got 1"),
    ("eleven finalists", lambda d: d.update(finalists=[
        {**d["finalists"][0], "id": f"f{i}"} for i in range(11)]),
     "event.toml: finalists: expected at most 10 entries; got 11"),
    ("weights off", _set(["scoring", "weights", "llm"], 0.5),
     "event.toml: scoring.weights: weights must sum to 1; got 1.1 (llm=0.5, panel=0.4, audience=0.2)"),
    ("no rubric", lambda d: d.update(rubric=[]),
     "event.toml: rubric: expected at least 1 entries; got 0"),
    ("no panelists", _del(["panelists"]), "event.toml: panelists: required key missing"),
    ("zero vote window", _set(["voting", "window_seconds"], 0),
     "event.toml: voting.window_seconds: input should be greater than 0; got 0"),
    ("unknown key", _set(["finalists", 0, "colour"], "red"),
     "event.toml: finalists[0].colour: unknown key (check the spelling against the README's event file reference)"),
    ("bad checker", _set(["questions", 0, "check"], "fuzzy"),
     "event.toml: questions[0].check: expected one of number, exact, contains, regex; got 'fuzzy'"),
    ("check without expected", _del(["questions", 0, "expected"]),
     "event.toml: questions[0]: check 'number' needs an expected answer"),
    ("bad id", _set(["finalists", 0, "id"], "Ray Smith"),
     "event.toml: finalists[0].id: expected an id of lowercase letters, digits, '-' or '_'; got 'Ray Smith'"),
    ("wrong type", _set(["generation", "max_tokens"], "lots"),
     "event.toml: generation.max_tokens: input should be a valid integer, unable to parse string as an integer; "
     "got 'lots'"),
    ("sagemaker without name", _set(["finalists", 1, "endpoint"], {"kind": "sagemaker"}),
     "event.toml: finalists[1].endpoint.endpoint_name: required key missing"),
    ("escape in a name", _set(["finalists", 0, "name"], "Ray\x1b]0;pwned\x07"),
     "event.toml: finalists[0].name: a name is one line of plain text: no control characters, escape sequences "
     "or bidirectional overrides"),
    ("bidi in a panelist", _set(["panelists", 0, "name"], "\u202eevil"),
     "event.toml: panelists[0].name: a name is one line of plain text: no control characters, escape sequences "
     "or bidirectional overrides"),
]


def test_the_demo_event_is_valid() -> None:
    config = load_event(DEMO_EVENT)
    event = config.to_core()
    assert len(event.finalists) == 5 and len(event.panelists) == 3
    assert event.criterion_ids == ("generalization", "quality", "efficiency")
    assert len(event.questions) >= 6
    assert event.question("strawberry").check == "number"


@pytest.mark.parametrize("name,change,message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_event_file_gives_a_clear_message(name: str, change: Callable[[dict[str, Any]], None],
                                              message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_event(edit(change))
    assert message in str(err.value).splitlines()


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.toml: no such event file"):
        load_event(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[event\nname = 1")
    with pytest.raises(ConfigError, match=r"^broken.toml: not valid TOML: "):
        load_event(broken)


def test_cli_reports_config_errors_in_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "event.toml"
    bad.write_text(DEMO_EVENT.read_text().replace('kind = "rehearsal", style = "terse"', 'kind = "sagemker"'))
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "finale.cli", "validate", str(bad)], capture_output=True, text=True)
    assert out.returncode == 2
    assert "event.toml: finalists[0].endpoint.kind: expected one of sagemaker, bedrock, openai, rehearsal; got " \
           "'sagemker'" in out.stderr
    assert "Traceback" not in out.stderr
    ok = CliRunner().invoke(main, ["validate", str(DEMO_EVENT)])
    assert ok.exit_code == 0 and "ok (5 finalists, 3 panelists" in ok.output
