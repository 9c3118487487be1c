"""`finale check`: the preflight passes on the demo and names exactly what fails on a broken event file."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from finale.cli import main
from finale.demo import DEMO_EVENT
from tests.wire.judges import fair, scores
from tests.wire.sagemaker import ACCOUNT
from tests.wire.server import Reply, WireHTTPServer
from tests.wire.specs import DUMMY_KEY_ID, DUMMY_SECRET
from tests.wire.sts import ARN

pytest_plugins = ["tests.wire.fixtures"]


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_event(path: Path, data: dict[str, Any]) -> Path:
    """A TOML event file from a dict (inline tables for endpoints, as organisers write them)."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    lines: list[str] = []
    for section, body in data.items():
        items = body if isinstance(body, list) else [body]
        for item in items:
            lines.append(f"[[{section}]]" if isinstance(body, list) else f"[{section}]")
            lines += [f"{k} = {value(v)}" for k, v in item.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def row(output: str, check: str) -> str:
    """The table row(s) for one check, joined, with the box drawing removed."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if re.search(rf"│ {re.escape(check)}\s", line))
    out = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("│") or re.match(r"│ \S", line):
            break
        out.append(line)
    return " ".join(re.sub(r"\s*│\s*", " ", line).strip() for line in out)


def test_the_demo_event_passes_through_the_real_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "finale.cli", "check", str(DEMO_EVENT)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "COLUMNS": "160"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All 9 checks passed." in proc.stdout
    assert "512 each (the event file's [generation]): ray 512, mia 512" in row(proc.stdout, "max tokens")
    assert "AWS identity" not in proc.stdout  # no AWS in the demo: no AWS check


def test_an_openai_finalist_at_a_dead_port_fails_with_a_clear_line(tmp_path: Path) -> None:
    data = tomllib.loads(DEMO_EVENT.read_text())
    port = dead_port()
    data["finalists"][1]["endpoint"] = {"kind": "openai", "base_url": f"http://127.0.0.1:{port}/v1",
                                        "model": "mia-3b", "max_attempts": 1}
    event = write_event(tmp_path / "event.toml", data)
    result = CliRunner().invoke(main, ["check", str(event), "--timeout", "5"])
    assert result.exit_code == 1, result.output
    mia = row(result.output, "finalist mia")
    assert f"openai mia-3b at http://127.0.0.1:{port}/v1" in mia and "FAIL" in mia
    assert "cannot connect" in mia
    assert "PASS" in row(result.output, "finalist ray")
    assert "1 of 9 checks failed: finalist mia" in result.output


def aws_event(aws: WireHTTPServer, oai: WireHTTPServer) -> dict[str, Any]:
    data = tomllib.loads(DEMO_EVENT.read_text())
    common = {"region": "us-east-1", "endpoint_url": aws.url, "max_attempts": 1}
    data["finalists"][0]["endpoint"] = {"kind": "sagemaker", "endpoint_name": "ray-ep", **common}
    data["finalists"][1]["endpoint"] = {"kind": "sagemaker", "endpoint_name": "mia-ep", "format": "messages",
                                        **common}
    data["finalists"][2]["endpoint"] = {"kind": "openai", "base_url": oai.url + "/v1", "model": "sol-3b"}
    data["reference"]["endpoint"] = {"kind": "bedrock", "model_id": "meta.llama3-2-90b-instruct-v1:0", **common}
    data["judge"] = {"kind": "bedrock", "model_id": "judge", **common}
    return data


@pytest.fixture
def aws_check_env(aws: WireHTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3's own per-service endpoint variables send STS and the SageMaker control plane to the local server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", aws.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", aws.url)


def test_aws_event_passes_and_prints_identity_without_secrets(aws: WireHTTPServer, oai: WireHTTPServer,
                                                              aws_check_env: None, tmp_path: Path) -> None:
    for name in ("ray-ep", "mia-ep", "meta.llama3-2-90b-instruct-v1:0"):
        aws.script.replies[name] = Reply("OK")
    oai.script.replies["sol-3b"] = Reply("OK")
    aws.script.replies["judge"] = Reply(decide=fair("2 + 2", scores(9, 9, 8)))
    event = write_event(tmp_path / "event.toml", aws_event(aws, oai))
    result = CliRunner().invoke(main, ["check", str(event), "--timeout", "5"])
    assert result.exit_code == 0, result.output
    assert "All 10 checks passed." in result.output
    assert "head-to-head with the reference: win" in row(result.output, "judge")
    identity = row(result.output, "AWS identity")
    assert f"account {ACCOUNT}" in identity and ARN.split(":")[-1] in identity and "region us-east-1" in identity
    assert "InService; answered in" in row(result.output, "finalist ray")
    assert "scored a sample answer" in row(result.output, "judge")
    assert "refused forced tool choice" not in row(result.output, "judge")
    assert DUMMY_KEY_ID not in result.output and DUMMY_SECRET not in result.output
    assert aws.script.counts["describe:ray-ep"] == 1 and aws.script.counts["sts"] == 1


def test_an_endpoint_not_in_service_and_a_missing_model_fail(aws: WireHTTPServer, oai: WireHTTPServer,
                                                             aws_check_env: None, tmp_path: Path) -> None:
    aws.script.replies["ray-ep"] = Reply("OK", endpoint_status="Creating")
    aws.script.replies["mia-ep"] = Reply("OK")
    aws.script.replies["meta.llama3-2-90b-instruct-v1:0"] = Reply(fail_status=500)
    oai.script.replies["sol-3b"] = Reply("OK")
    aws.script.replies["judge"] = Reply("I refuse to use tools.")
    data = aws_event(aws, oai)
    data["finalists"][3]["endpoint"] = {"kind": "sagemaker", "endpoint_name": "no-such-ep", "region": "us-east-1",
                                        "endpoint_url": aws.url}
    event = write_event(tmp_path / "event.toml", data)
    result = CliRunner().invoke(main, ["check", str(event), "--timeout", "5"])
    assert result.exit_code == 1
    assert "endpoint status is Creating, not InService" in row(result.output, "finalist ray")
    assert 'Could not find endpoint "no-such-ep"' in row(result.output, "finalist kai")
    assert "HTTP 500" in row(result.output, "reference")
    assert "did not call record_scores" in row(result.output, "judge")
    assert "PASS" in row(result.output, "finalist mia") and "PASS" in row(result.output, "finalist sol")
    assert "4 of 10 checks failed: finalist ray, finalist kai, reference, judge" in result.output


def test_missing_aws_credentials_fail_the_identity_line(aws: WireHTTPServer, oai: WireHTTPServer,
                                                        aws_check_env: None, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    oai.script.replies["sol-3b"] = Reply("OK")
    event = write_event(tmp_path / "event.toml", aws_event(aws, oai))
    result = CliRunner().invoke(main, ["check", str(event), "--timeout", "5"])
    assert result.exit_code == 1
    assert "no AWS credentials found" in row(result.output, "AWS identity")
    assert "no AWS credentials found" in row(result.output, "finalist ray")
    assert aws.script.requests == []  # nothing unsigned was sent


def test_a_judge_refusing_forced_tool_choice_passes_with_a_note(aws: WireHTTPServer, oai: WireHTTPServer,
                                                               aws_check_env: None, tmp_path: Path) -> None:
    for name in ("ray-ep", "mia-ep", "meta.llama3-2-90b-instruct-v1:0"):
        aws.script.replies[name] = Reply("OK")
    oai.script.replies["sol-3b"] = Reply("OK")
    aws.script.replies["judge"] = Reply('{"scores": {"generalization": 9, "quality": 9, "efficiency": 8}}',
                                        refuse_tool_choice=True)
    event = write_event(tmp_path / "event.toml", aws_event(aws, oai))
    result = CliRunner().invoke(main, ["check", str(event), "--timeout", "5"])
    assert result.exit_code == 0, result.output
    assert "the model refused forced tool choice, so it answers in JSON" in row(result.output, "judge")


def test_unequal_max_tokens_in_the_database_warn_without_failing(tmp_path: Path) -> None:
    """Caps tuned by the finalists before the show are shown side by side: a longer cap is a length advantage."""
    from finale.config import load_event
    from finale.store import Store

    event = write_event(tmp_path / "event.toml", tomllib.loads(DEMO_EVENT.read_text()))
    (tmp_path / "script.toml").write_text((DEMO_EVENT.parent / "script.toml").read_text())
    with Store(tmp_path / "event.db") as store:
        store.setup_event(load_event(event))
        store.save_settings("mia", "", 0.2, 2048, "finalist:mia")
    result = CliRunner().invoke(main, ["check", str(event), "--timeout", "5"])
    assert result.exit_code == 0, result.output
    caps = row(result.output, "max tokens")
    assert "WARN" in caps and "unequal caps (as tuned in event.db): ray 512, mia 2048, sol 512" in caps
    assert "read the warning: max tokens" in result.output
