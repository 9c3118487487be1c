"""Endpoints that tell the truth, over the real wire: token counts, throttling, web pages, one-line errors.

Each case was found trying the console against independent servers, and each test
fails on the code before its fix: a whole TGI reply counted as 1 token, a slow 429
gateway reported as an idle timeout, an HTML error page shown raw, a server's
multi-line message kept in the check table.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from finale.config import Endpoint
from finale.core.model import AnswerStatus
from finale.demo.script import Script
from finale.providers.base import GenerationRequest, ProviderError
from finale.providers.factory import build_provider
from finale.providers.fanout import Limits, run_one
from finale.providers.runtime import Runtime
from tests.wire.server import Reply, WireHTTPServer
from tests.wire.specs import bedrock_spec, openai_spec, sagemaker_spec

pytest_plugins = ["tests.wire.fixtures"]

REQ = GenerationRequest("How many r's in strawberry?", "", 0.2, 64, round_id=1)
STREAMED = ["bedrock", "sagemaker-tgi", "openai"]


def spec_for(kind: str, aws: WireHTTPServer, oai: WireHTTPServer, target: str, **kw: Any) -> Endpoint:
    if kind == "bedrock":
        return bedrock_spec(aws, target, **kw)
    if kind.startswith("sagemaker"):
        return sagemaker_spec(aws, target, format=kind.split("-")[1], **kw)
    return openai_spec(oai, target, **kw)


def server_for(kind: str, aws: WireHTTPServer, oai: WireHTTPServer) -> WireHTTPServer:
    return oai if kind == "openai" else aws


async def ask(spec: Endpoint, runtime: Runtime, limits: Limits) -> Any:
    provider = build_provider("f", spec, script=Script({}, {}), runtime=runtime)
    try:
        return await run_one("f", provider, REQ, limits)
    finally:
        await provider.aclose()


async def test_a_whole_tgi_reply_reports_its_generated_tokens(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["tgi"] = Reply("Strawberry has three r's.", pieces=7)
    answer = await ask(sagemaker_spec(aws, "tgi", stream=False), runtime, Limits(10, 5, 6000))
    assert (answer.status, answer.text, answer.tokens) == (AnswerStatus.OK, "Strawberry has three r's.", 7)
    assert aws.script.requests[0].json()["parameters"]["details"] is True  # asked for the count


async def test_a_whole_reply_without_a_count_is_unknown_never_one(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["old-tgi"] = Reply("Strawberry has three r's.", pieces=7, tgi_details=False)
    answer = await ask(sagemaker_spec(aws, "old-tgi", stream=False), runtime, Limits(10, 5, 6000))
    assert answer.status is AnswerStatus.OK and answer.text
    assert answer.tokens == 0  # unknown: the judge is told the count was not reported (test_judge_truth)


@pytest.mark.parametrize("kind", STREAMED)
async def test_a_slow_429_gateway_is_retried_on_the_deadline_not_the_idle_timer(
        kind: str, aws: WireHTTPServer, oai: WireHTTPServer, runtime: Runtime) -> None:
    srv = server_for(kind, aws, oai)
    srv.script.replies["busy"] = Reply("Three.", throttle_first=2, throttle_delay_s=0.7)
    answer = await ask(spec_for(kind, aws, oai, "busy"), runtime, Limits(timeout_s=15, idle_timeout_s=1.0))
    assert (answer.status, answer.text, answer.error) == (AnswerStatus.OK, "Three.", None)
    assert srv.script.counts["busy"] == 3


@pytest.mark.parametrize("kind", STREAMED)
async def test_a_gateway_that_throttles_every_try_says_throttled(
        kind: str, aws: WireHTTPServer, oai: WireHTTPServer, runtime: Runtime) -> None:
    srv = server_for(kind, aws, oai)
    srv.script.replies["busy"] = Reply("Three.", throttle_first=99, throttle_delay_s=0.7)
    answer = await ask(spec_for(kind, aws, oai, "busy"), runtime, Limits(timeout_s=15, idle_timeout_s=1.0))
    assert answer.status is AnswerStatus.ERROR, answer.error
    assert answer.error is not None and "throttled: " in answer.error and "HTTP 429" in answer.error
    assert answer.error.endswith("[after 2 retries]") and "idle timeout" not in answer.error


async def test_throttled_past_the_deadline_says_so(oai: WireHTTPServer, runtime: Runtime) -> None:
    oai.script.replies["busy"] = Reply("Three.", throttle_first=99, throttle_delay_s=0.5)
    answer = await ask(openai_spec(oai, "busy", max_attempts=10), runtime, Limits(timeout_s=2, idle_timeout_s=1))
    assert answer.status is AnswerStatus.TIMEOUT
    assert answer.error is not None and answer.error.startswith("no complete answer within 2 s; the endpoint kept "
                                                                "refusing the request: ")
    assert "throttled: HTTP 429: Rate limit reached for requests" in answer.error


@pytest.mark.parametrize("kind", STREAMED)
async def test_an_html_page_is_summarised_with_the_streaming_hint(
        kind: str, aws: WireHTTPServer, oai: WireHTTPServer, runtime: Runtime) -> None:
    server_for(kind, aws, oai).script.replies["gw"] = Reply("Three.", no_stream=True)
    answer = await ask(spec_for(kind, aws, oai, "gw", max_attempts=1), runtime, Limits(10, 5))
    assert answer.status is AnswerStatus.ERROR and answer.error is not None
    assert "<" not in answer.error and "doctype" not in answer.error.lower(), answer.error
    assert 'HTTP 404: an HTML page ("404 Not Found") instead of an API error' in answer.error
    assert answer.error.endswith("the endpoint may not offer streaming: try `stream = false`"), answer.error
    whole = await ask(spec_for(kind, aws, oai, "gw", stream=False), runtime, Limits(10, 5))
    assert (whole.status, whole.text) == (AnswerStatus.OK, "Three.")  # the hint was right


async def test_an_html_page_refusing_a_whole_reply_hints_at_access(aws: WireHTTPServer, runtime: Runtime) -> None:
    page = "<HTML><HEAD><TITLE>Access &amp; Denied</TITLE></HEAD><BODY><H1>403</H1></BODY></HTML>"
    aws.script.replies["gw"] = Reply(fail_status=403, fail_body=page)
    answer = await ask(bedrock_spec(aws, "gw", stream=False, max_attempts=1), runtime, Limits(10, 5))
    assert answer.error == ('Bedrock gw: HTTP 403: an HTML page ("Access & Denied") instead of an API error; '
                            "a gateway refused the request: check its credentials or access rules")


async def test_a_multi_line_server_message_is_one_line(oai: WireHTTPServer, runtime: Runtime) -> None:
    body = json.dumps({"error": {"message": "1 validation error:\n  max_tokens\n    must be <= 2048\n",
                                 "type": "BadRequestError"}})
    oai.script.replies["strict"] = Reply(fail_status=400, fail_body=body, fail_content_type="application/json")
    provider = build_provider("f", openai_spec(oai, "strict"), script=Script({}, {}), runtime=runtime)
    with pytest.raises(ProviderError) as raised:
        async for _ in provider.stream(REQ):
            pass
    await provider.aclose()
    assert str(raised.value).endswith("HTTP 400: 1 validation error: max_tokens must be <= 2048")
