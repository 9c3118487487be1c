"""A show whose finalists, reference and judge are all real endpoint kinds, driven by the real Director."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path
from typing import Any

from finale.config import parse_event
from finale.core.model import AnswerStatus, JudgmentStatus
from finale.demo import DEMO_EVENT
from finale.director import Director, build_endpoints
from finale.store import Store
from tests.wire.server import Reply, WireHTTPServer

pytest_plugins = ["tests.wire.fixtures"]


def real_event(aws: WireHTTPServer, oai: WireHTTPServer) -> dict[str, Any]:
    data = tomllib.loads(DEMO_EVENT.read_text())
    aws_common = {"region": "us-east-1", "endpoint_url": aws.url}
    kinds = [
        {"kind": "sagemaker", "endpoint_name": "ray-ep", "format": "tgi", **aws_common},
        {"kind": "sagemaker", "endpoint_name": "mia-ep", "format": "messages", **aws_common},
        {"kind": "bedrock", "model_id": "sol-imported", **aws_common},
        {"kind": "openai", "base_url": oai.url + "/v1", "model": "kai-3b"},
        {"kind": "openai", "base_url": oai.url + "/v1", "model": "zoe-3b", "stream": False},
    ]
    for finalist, endpoint in zip(data["finalists"], kinds, strict=True):
        finalist["endpoint"] = endpoint
    data["reference"]["endpoint"] = {"kind": "bedrock", "model_id": "meta.llama3-2-90b-instruct-v1:0", **aws_common}
    data["judge"] = {"kind": "bedrock", "model_id": "judge", "max_attempts": 1, **aws_common}
    data["generation"]["idle_timeout_s"] = 2
    return data


async def test_a_round_through_real_endpoint_kinds(aws: WireHTTPServer, oai: WireHTTPServer, tmp_path: Path) -> None:
    for name in ("ray-ep", "mia-ep", "sol-imported", "meta.llama3-2-90b-instruct-v1:0"):
        aws.script.replies[name] = Reply(f"Canberra, says {name}.", pieces=3, total_s=0.1)
    oai.script.replies["kai-3b"] = Reply("Canberra.", pieces=2)
    oai.script.replies["zoe-3b"] = Reply("Sydney?", pieces=2)  # not streamed: one JSON reply
    aws.script.replies["judge"] = Reply(tool_input={"scores": {"generalization": 7, "quality": 12, "efficiency": 6},
                                                    "rationale": "Too kind."})
    config = parse_event(real_event(aws, oai))
    store = Store(tmp_path / "show.db")
    store.setup_event(config)
    endpoints = build_endpoints(config, DEMO_EVENT.parent)
    # judging is the busier time: one judge model on 5 answers, each with its two head-to-head calls
    assert endpoints.runtime is not None and endpoints.runtime.pool.workers == 1 * 5 * 3 + 2
    director = Director(store, endpoints)
    rnd = director.new_round("capital", seed=3)
    answers = await director.ask(rnd.id)
    assert {fid: a.status for fid, a in answers.items()} == dict.fromkeys(
        ["ray", "mia", "sol", "kai", "zoe", "reference"], AnswerStatus.OK)
    assert answers["ray"].text == "Canberra, says ray-ep."
    judgments = await director.judge(rnd.id)
    assert {j.status for j in judgments.values()} == {JudgmentStatus.FAILED}
    stored = store.judgments(rnd.id)["ray"]
    assert stored.reason is not None and "score for quality is 12, outside 0 to 10" in stored.reason
    assert any("judgment failed" in str(b) for b in director.blockers(rnd.id))  # flagged for a human
    await endpoints.aclose()
    store.close()


async def test_the_mc_stops_one_finalist_then_re_asks_it_alone(aws: WireHTTPServer, oai: WireHTTPServer,
                                                                tmp_path: Path) -> None:
    for name in ("ray-ep", "mia-ep", "sol-imported", "meta.llama3-2-90b-instruct-v1:0"):
        aws.script.replies[name] = Reply("Canberra.", pieces=2)
    oai.script.replies["kai-3b"] = Reply("Canberra, " * 40, pieces=40, total_s=8.0)  # dawdling
    oai.script.replies["zoe-3b"] = Reply("Canberra.")
    config = parse_event(real_event(aws, oai))
    store = Store(tmp_path / "show.db")
    store.setup_event(config)
    endpoints = build_endpoints(config, DEMO_EVENT.parent)
    director = Director(store, endpoints)
    rnd = director.new_round("capital", seed=5)
    stops = {"kai": asyncio.Event()}
    asyncio.get_running_loop().call_later(0.5, stops["kai"].set)
    answers = await director.ask(rnd.id, stops=stops)
    assert (answers["kai"].status, answers["kai"].error) == (AnswerStatus.ERROR, "stopped by the MC")
    assert answers["ray"].status is AnswerStatus.OK
    oai.script.replies["kai-3b"] = Reply("Canberra.", pieces=2)
    again = await director.ask(rnd.id, only=["kai"])
    assert set(again) == {"kai"} and again["kai"].status is AnswerStatus.OK
    assert store.answers(rnd.id)["kai"].text == "Canberra."
    await endpoints.aclose()
    store.close()
