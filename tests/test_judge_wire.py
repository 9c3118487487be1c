"""The Bedrock and OpenAI-compatible judges through the real clients, including every way a judge reply goes wrong."""

from __future__ import annotations

import json
from typing import Any

from finale.config import BedrockJudge as BedrockJudgeConfig
from finale.config import OpenAIJudge as OpenAIJudgeConfig
from finale.core.model import Criterion
from finale.demo.script import Script
from finale.judge.base import Judge, JudgeRequest
from finale.judge.factory import build_judge
from finale.judge.jury import Jury
from finale.providers.runtime import Runtime
from tests.wire.server import Reply, WireHTTPServer

pytest_plugins = ["tests.wire.fixtures"]

RUBRIC = (Criterion("generalization", "Handles a question it has not seen before."),
          Criterion("quality", "Depth, accuracy and contextual understanding."),
          Criterion("efficiency", "A comprehensive answer with minimal latency."))
REQ = JudgeRequest("How many r's in strawberry?", "C", "There are 3 r's in strawberry.", RUBRIC, expected="3",
                   latency_ms=1200, ttft_ms=300, tokens=9)
GOOD = {"scores": {"generalization": 8, "quality": 9, "efficiency": 7}, "rationale": "Correct and brief."}


def bedrock_judge(aws: WireHTTPServer, runtime: Runtime, model: str = "judge", **kw: Any) -> Judge:
    kw.setdefault("max_attempts", 2)
    spec = BedrockJudgeConfig(kind="bedrock", model_id=model, region="us-east-1", endpoint_url=aws.url, **kw)
    return build_judge(spec, script=Script({}, {}), runtime=runtime)


def openai_judge(oai: WireHTTPServer, runtime: Runtime, **kw: Any) -> Judge:
    kw.setdefault("max_attempts", 2)
    spec = OpenAIJudgeConfig(kind="openai", base_url=oai.url + "/v1", model="judge", **kw)
    return build_judge(spec, script=Script({}, {}), runtime=runtime)


async def test_bedrock_forced_tool_call(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["judge"] = Reply(tool_input=GOOD)
    verdict = await bedrock_judge(aws, runtime).judge(REQ)
    assert verdict.ok and verdict.scores == {"generalization": 8.0, "quality": 9.0, "efficiency": 7.0}
    assert verdict.rationale == "Correct and brief."
    assert json.loads(verdict.raw) == {"tool": "record_scores", "input": GOOD}
    body = aws.script.requests[0].json()
    assert body["inferenceConfig"]["temperature"] == 0
    assert body["toolConfig"]["toolChoice"] == {"tool": {"name": "record_scores"}}
    schema = body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    assert schema["properties"]["scores"]["required"] == ["generalization", "quality", "efficiency"]
    assert '<answer label="C">\nThere are 3 r\'s in strawberry.\n</answer>' in body["messages"][0]["content"][0]["text"]


async def test_bedrock_falls_back_to_json_when_forced_tool_choice_is_refused(aws: WireHTTPServer,
                                                                            runtime: Runtime) -> None:
    aws.script.replies["llama-judge"] = Reply("Here you go:\n```json\n" + json.dumps(GOOD) + "\n```",
                                              tool_input=GOOD, refuse_tool_choice=True)
    judge = bedrock_judge(aws, runtime, "llama-judge")
    first = await judge.judge(REQ)
    second = await judge.judge(REQ)
    assert first.ok and second.ok and first.scores["quality"] == 9.0
    bodies = aws.script.bodies("/converse")
    assert "toolConfig" in bodies[0] and "toolConfig" not in bodies[1]  # refused once, then JSON
    assert "toolConfig" not in bodies[2]  # remembered for the next answer
    assert "Reply with exactly one JSON object" in bodies[1]["system"][0]["text"]
    assert len(bodies) == 3


async def test_tool_choice_off_in_the_event_file(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["judge"] = Reply(json.dumps(GOOD))
    verdict = await bedrock_judge(aws, runtime, tool_choice=False).judge(REQ)
    assert verdict.ok and "toolConfig" not in aws.script.requests[0].json()


async def test_invalid_json_reply_fails_with_reason_and_raw(aws: WireHTTPServer, runtime: Runtime) -> None:
    broken = '{"scores": {"generalization": 8, "quality": 9, "efficiency": 7}, "rationale": "Correct'
    aws.script.replies["judge"] = Reply(broken)
    verdict = await bedrock_judge(aws, runtime, tool_choice=False).judge(REQ)
    assert not verdict.ok and verdict.scores == {}
    assert verdict.reason is not None and "not valid JSON" in verdict.reason
    assert "gave up after 2 attempts; flagged for a human" in verdict.reason
    assert verdict.raw == broken and aws.script.counts["judge"] == 2


async def test_score_out_of_range_fails(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["judge"] = Reply(tool_input={"scores": {"generalization": 8, "quality": 11, "efficiency": 7},
                                                    "rationale": "Great."})
    verdict = await bedrock_judge(aws, runtime).judge(REQ)
    assert not verdict.ok
    assert verdict.reason is not None and "score for quality is 11, outside 0 to 10" in verdict.reason
    assert '"quality": 11' in verdict.raw


async def test_no_tool_call_fails(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["judge"] = Reply("Answer C looks right to me, I'd say an eight.")
    verdict = await bedrock_judge(aws, runtime).judge(REQ)
    assert not verdict.ok
    assert verdict.reason is not None and "did not call record_scores (stop reason end_turn)" in verdict.reason
    assert verdict.raw == "Answer C looks right to me, I'd say an eight."


async def test_throttling_is_retried(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["judge"] = Reply(tool_input=GOOD, throttle_first=1)
    verdict = await bedrock_judge(aws, runtime).judge(REQ)
    assert verdict.ok and aws.script.counts["judge"] == 2


async def test_throttling_beyond_every_retry_fails_with_reason(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["judge"] = Reply(tool_input=GOOD, throttle_first=99)
    verdict = await bedrock_judge(aws, runtime, max_attempts=1).judge(REQ)
    assert not verdict.ok
    assert verdict.reason is not None and "ThrottlingException (HTTP 429)" in verdict.reason
    assert aws.script.counts["judge"] == 1


async def test_an_empty_answer_scores_zero_without_a_call(aws: WireHTTPServer, runtime: Runtime) -> None:
    empty = JudgeRequest("q", "A", "  ", RUBRIC)
    verdict = await bedrock_judge(aws, runtime).judge(empty)
    assert verdict.ok and set(verdict.scores.values()) == {0.0} and aws.script.requests == []


async def test_several_judge_models_are_averaged_and_disagreement_flagged(aws: WireHTTPServer,
                                                                          runtime: Runtime) -> None:
    aws.script.replies["j1"] = Reply(tool_input={"scores": {"generalization": 2, "quality": 8, "efficiency": 7},
                                                 "rationale": "Mixed."})
    aws.script.replies["j2"] = Reply(tool_input={"scores": {"generalization": 9, "quality": 8, "efficiency": 6},
                                                 "rationale": "Good."})
    judge = bedrock_judge(aws, runtime, "j1", extra_model_ids=("j2",), disagreement=3)
    assert isinstance(judge, Jury) and judge.quorum == 2
    verdict = await judge.judge(REQ)
    assert verdict.ok and verdict.scores == {"generalization": 5.5, "quality": 8.0, "efficiency": 6.5}
    assert verdict.flags == ("judges disagree on generalization: 2 to 9",)
    assert verdict.spread == {"generalization": 7.0, "quality": 0.0, "efficiency": 1.0}
    assert verdict.rationale == "Mixed."  # each judge's own rationale is kept with its verdict, not folded in
    assert [(j.judge, j.rationale) for j in verdict.jurors] == [("bedrock:j1", "Mixed."), ("bedrock:j2", "Good.")]
    assert set(json.loads(verdict.raw)) == {"bedrock:j1", "bedrock:j2"}


async def test_openai_judge_tool_call(oai: WireHTTPServer, runtime: Runtime) -> None:
    oai.script.replies["judge"] = Reply(tool_input=GOOD)
    verdict = await openai_judge(oai, runtime).judge(REQ)
    assert verdict.ok and verdict.scores["efficiency"] == 7.0
    body = oai.script.requests[0].json()
    assert body["tool_choice"] == {"type": "function", "function": {"name": "record_scores"}}
    assert body["temperature"] == 0


async def test_openai_judge_falls_back_to_json_and_fails_on_garbage(oai: WireHTTPServer, runtime: Runtime) -> None:
    oai.script.replies["judge"] = Reply(json.dumps(GOOD), refuse_tool_choice=True)
    ok = await openai_judge(oai, runtime).judge(REQ)
    assert ok.ok and [("tools" in b) for b in oai.script.bodies()] == [True, False]
    oai.script.replies["judge"] = Reply("{not json at all")
    bad = await openai_judge(oai, runtime, tool_choice=False).judge(REQ)
    assert not bad.ok and bad.reason is not None and "not valid JSON" in bad.reason
