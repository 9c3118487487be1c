"""A judge that tells the truth, over the real wire: bounded by its deadline, one-line errors, no invented counts."""

from __future__ import annotations

import json
import time
from typing import Any

from finale.config import BedrockJudge as BedrockJudgeConfig
from finale.config import OpenAIJudge as OpenAIJudgeConfig
from finale.core.model import Criterion
from finale.demo.script import Script
from finale.judge.base import JudgeRequest
from finale.judge.factory import build_judge
from finale.judge.prompt import build_prompt
from finale.providers.runtime import Runtime
from tests.wire.server import Reply, WireHTTPServer

pytest_plugins = ["tests.wire.fixtures"]

RUBRIC = (Criterion("quality", "Depth, accuracy and contextual understanding."),
          Criterion("efficiency", "A comprehensive answer with minimal latency."))
REQ = JudgeRequest("Capital of Australia?", "B", "Canberra.", RUBRIC, latency_ms=900, ttft_ms=200, tokens=3)
GOOD = {"scores": {"quality": 8, "efficiency": 9}, "rationale": "Right."}


async def test_a_bedrock_judge_that_never_replies_is_flagged_at_its_deadline(aws: WireHTTPServer,
                                                                             runtime: Runtime) -> None:
    aws.script.replies["silent"] = Reply(tool_input=GOOD, ttft_s=30)
    spec = BedrockJudgeConfig(kind="bedrock", model_id="silent", region="us-east-1", endpoint_url=aws.url,
                              deadline_s=1.5, read_timeout_s=20, max_attempts=3)
    judge = build_judge(spec, script=Script({}, {}), runtime=runtime)
    start = time.monotonic()
    verdict = await judge.judge(REQ)
    assert time.monotonic() - start < 3  # not attempts x read timeout (a minute here)
    assert not verdict.ok
    assert verdict.reason == ("Bedrock judge silent: never answered within the 1.5 s deadline (judge.deadline_s) "
                              "(flagged for a human)")


async def test_an_openai_judge_that_never_replies_says_it_never_answered(oai: WireHTTPServer,
                                                                         runtime: Runtime) -> None:
    oai.script.replies["silent"] = Reply(tool_input=GOOD, ttft_s=30)
    spec = OpenAIJudgeConfig(kind="openai", base_url=oai.url + "/v1", model="silent", deadline_s=1.5,
                             read_timeout_s=20)
    judge = build_judge(spec, script=Script({}, {}), runtime=runtime)
    start = time.monotonic()
    verdict = await judge.judge(REQ)
    await judge.aclose()
    assert time.monotonic() - start < 3
    assert verdict.reason is not None and "never answered within the 1.5 s deadline" in verdict.reason
    assert "stopped sending" not in verdict.reason


async def test_a_judge_that_replied_but_ran_out_of_time_says_what_it_last_said(aws: WireHTTPServer,
                                                                               runtime: Runtime) -> None:
    aws.script.replies["busy"] = Reply(tool_input=GOOD, throttle_first=99, throttle_delay_s=0.4)
    spec = BedrockJudgeConfig(kind="bedrock", model_id="busy", region="us-east-1", endpoint_url=aws.url,
                              deadline_s=2, max_attempts=10)
    verdict = await build_judge(spec, script=Script({}, {}), runtime=runtime).judge(REQ)
    assert verdict.reason is not None
    assert verdict.reason.startswith("Bedrock judge busy: no usable verdict within the 2 s deadline (judge.deadline_s)")


async def test_a_multi_line_judge_error_is_one_line(oai: WireHTTPServer, runtime: Runtime) -> None:
    body = json.dumps({"error": {"message": "tools are not supported\nfor this model:\n  judge", "type": "x"}})
    oai.script.replies["picky"] = Reply(fail_status=400, fail_body=body, fail_content_type="application/json")
    spec = OpenAIJudgeConfig(kind="openai", base_url=oai.url + "/v1", model="picky", tool_choice=False,
                             max_attempts=1)
    verdict = await build_judge(spec, script=Script({}, {}), runtime=runtime).judge(REQ)
    assert verdict.reason is not None and "\n" not in verdict.reason
    assert "HTTP 400: tools are not supported for this model: judge" in verdict.reason


def test_the_judge_is_told_an_unknown_token_count_never_a_guess() -> None:
    unknown: Any = JudgeRequest("q", "A", "An answer.", RUBRIC, latency_ms=900, ttft_ms=200, tokens=0)
    prompt = build_prompt(unknown, tool=True).user
    assert "first token after 200 ms, complete after 0.90 s, token count not reported by the endpoint" in prompt
    assert " 1 tokens" not in prompt and " 0 tokens" not in prompt
