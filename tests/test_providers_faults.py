"""The fault matrix: each endpoint fault, on each kind, next to healthy finalists in the same fan-out.

Every case must end with the right status and a reason a human can read on
stage, and must leave the other finalists' answers whole and on time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from finale.config import Endpoint
from finale.core.model import Answer, AnswerStatus
from finale.demo.script import Script
from finale.providers.base import GenerationRequest, Provider
from finale.providers.factory import build_provider
from finale.providers.fanout import Limits, fan_out
from finale.providers.runtime import Runtime
from tests.machine_speed import slowness
from tests.wire.server import Reply, WireHTTPServer
from tests.wire.specs import bedrock_spec, openai_spec, sagemaker_spec

pytest_plugins = ["tests.wire.fixtures"]

HEALTHY = "Canberra is the capital of Australia."
LIMITS = Limits(timeout_s=10, idle_timeout_s=1.5, max_chars=120)  # 0.6 s: a loaded CI paused a healthy stream
KINDS = ["bedrock", "sagemaker-tgi", "sagemaker-messages", "openai"]
STREAM_ERROR = {"bedrock": "modelStreamErrorException", "sagemaker-tgi": "ModelStreamError",
                "sagemaker-messages": "ModelStreamError", "openai": "server_error"}


@dataclass
class Show:
    aws: WireHTTPServer
    oai: WireHTTPServer
    runtime: Runtime

    def spec(self, kind: str, target: str, **kw: Any) -> Endpoint:
        if kind == "bedrock":
            return bedrock_spec(self.aws, target, **kw)
        if kind.startswith("sagemaker"):
            return sagemaker_spec(self.aws, target, format=kind.split("-")[1], **kw)
        return openai_spec(self.oai, target, **kw)

    def server(self, kind: str) -> WireHTTPServer:
        return self.oai if kind == "openai" else self.aws

    async def round(self, kind: str, reply: Reply, limits: Limits = LIMITS,
                    **kw: Any) -> tuple[dict[str, Answer], int]:
        """The faulty finalist 'x' alongside two healthy ones; returns answers and requests to x's target."""
        srv = self.server(kind)
        srv.script.replies["x-target"] = reply
        self.aws.script.replies["ok-bedrock"] = Reply(HEALTHY, pieces=4, total_s=0.2)
        self.oai.script.replies["ok-openai"] = Reply(HEALTHY, pieces=4, total_s=0.2)
        specs = {"x": self.spec(kind, "x-target", **kw), "b": self.spec("bedrock", "ok-bedrock"),
                 "o": self.spec("openai", "ok-openai")}
        providers: dict[str, Provider] = {
            fid: build_provider(fid, spec, script=Script({}, {}), runtime=self.runtime) for fid, spec in specs.items()}
        request = GenerationRequest("What is the capital of Australia?", "", 0.2, 64, round_id=3)
        answers = await fan_out(providers, dict.fromkeys(providers, request), limits)
        for p in providers.values():
            await p.aclose()
        return answers, srv.script.counts["x-target"]


@pytest.fixture
def show(aws: WireHTTPServer, oai: WireHTTPServer, runtime: Runtime) -> Show:
    return Show(aws, oai, runtime)


def healthy(answers: dict[str, Answer], within_ms: float = 2000) -> None:
    """The healthy finalists answered in full, not held back by the faulty one (0.2 s streams; the limit is scaled
    by how much slower this machine is than the one it was set on: a loaded CI took 2.4 s)."""
    for fid in ("b", "o"):
        a = answers[fid]
        assert (a.status, a.text, a.error) == (AnswerStatus.OK, HEALTHY, None), a
        assert a.total_ms is not None and a.total_ms < within_ms * slowness(), a


@pytest.mark.parametrize("kind", KINDS)
async def test_throttled_then_success_is_retried(show: Show, kind: str) -> None:
    # botocore's first throttling backoff is up to 1 s, so the idle timeout here is longer
    answers, requests = await show.round(kind, Reply("Three.", throttle_first=1), Limits(10, 3, 120))
    assert requests == 2, answers["x"]  # the 429 was retried, by botocore standard mode or our HTTP retry
    assert (answers["x"].status, answers["x"].text) == (AnswerStatus.OK, "Three.")
    healthy(answers, within_ms=5000)


@pytest.mark.parametrize("kind", KINDS)
async def test_http_500_for_good(show: Show, kind: str) -> None:
    answers, requests = await show.round(kind, Reply(fail_status=500), max_attempts=2)
    x = answers["x"]
    assert requests == 2 and x.status is AnswerStatus.ERROR and x.text == ""
    assert x.error is not None and "HTTP 500" in x.error and "after 1 retry" in x.error
    healthy(answers)


@pytest.mark.parametrize("kind", KINDS)
async def test_error_event_inside_the_stream(show: Show, kind: str) -> None:
    answers, _ = await show.round(kind, Reply("Partial answer then", pieces=3, error_event=STREAM_ERROR[kind]))
    x = answers["x"]
    assert x.status is AnswerStatus.ERROR and x.text == "Partial"
    assert x.error is not None and STREAM_ERROR[kind] in x.error
    healthy(answers)


async def test_bedrock_throttling_event_inside_the_stream(show: Show) -> None:
    answers, _ = await show.round("bedrock", Reply("Partial answer then", pieces=3, error_event="throttlingException"))
    x = answers["x"]
    assert x.status is AnswerStatus.ERROR
    assert x.error == ("Bedrock x-target: error event in the stream: throttlingException: "
                       "The model stopped: throttlingException raised by the test server.")
    healthy(answers)


@pytest.mark.parametrize("kind", KINDS)
async def test_connection_reset_mid_stream(show: Show, kind: str) -> None:
    answers, _ = await show.round(kind, Reply("one two three four", pieces=4, reset_after=2))
    x = answers["x"]
    assert x.status is AnswerStatus.ERROR and x.text.startswith("one")
    assert x.error is not None and "connection broken mid-stream" in x.error, x.error
    healthy(answers)


@pytest.mark.parametrize("kind", KINDS)
async def test_silence_beyond_the_idle_timeout(show: Show, kind: str) -> None:
    answers, _ = await show.round(kind, Reply("Hello there friend", pieces=3, stall_s=3.0))
    x = answers["x"]
    assert x.status is AnswerStatus.TIMEOUT and x.text == "Hello "
    assert x.error == f"no output for {LIMITS.idle_timeout_s:g} s (idle timeout)"
    assert x.total_ms is not None and x.total_ms < 2800  # before the 3 s stall ends
    healthy(answers)


@pytest.mark.parametrize("kind", KINDS)
async def test_garbage_bytes(show: Show, kind: str) -> None:
    answers, _ = await show.round(kind, Reply("Fine so far", pieces=2, garbage=True))
    x = answers["x"]
    assert x.status is AnswerStatus.ERROR and x.text == "Fine s"
    expected = "unreadable streamed line" if kind == "openai" else "malformed event stream"
    assert x.error is not None and expected in x.error, x.error
    healthy(answers)


@pytest.mark.parametrize("kind", KINDS)
async def test_answer_beyond_the_cap(show: Show, kind: str) -> None:
    answers, _ = await show.round(kind, Reply("All work and no play. ", pieces=40, repeat=50))
    x = answers["x"]
    assert x.status is AnswerStatus.OK and len(x.text) == LIMITS.max_chars
    assert x.error == f"answer cut at the {LIMITS.max_chars}-character cap"
    healthy(answers)


@pytest.mark.parametrize("kind", KINDS)
async def test_dead_endpoint(show: Show, kind: str, unused_tcp_port: int) -> None:
    srv = show.server(kind)
    srv.server_address = ("127.0.0.1", unused_tcp_port)  # the spec now points at a closed port
    answers, _ = await show.round(kind, Reply(), max_attempts=1)
    x = answers["x"]
    assert x.status is AnswerStatus.ERROR
    assert x.error is not None and "connect" in x.error and str(unused_tcp_port) in x.error, x.error
