"""The fan-out's own guarantees: the MC can stop one finalist, deadlines hold, a screen bug is not an endpoint fault."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from finale.core.model import Answer, AnswerStatus
from finale.demo.script import Script
from finale.providers.aws import AwsPool
from finale.providers.base import GenerationRequest, Provider, StreamEvent, TextDelta
from finale.providers.factory import build_provider
from finale.providers.fanout import Limits, fan_out, run_one
from finale.providers.runtime import Runtime
from tests.wire.server import Reply, WireHTTPServer
from tests.wire.specs import bedrock_spec, openai_spec

pytest_plugins = ["tests.wire.fixtures"]

REQ = GenerationRequest("Name a prime number.", "", 0.2, 32, round_id=9)


def providers(aws: WireHTTPServer, oai: WireHTTPServer, runtime: Runtime) -> dict[str, Provider]:
    aws.script.replies["fast"] = Reply("Seven.", pieces=2, total_s=0.1)
    oai.script.replies["slow"] = Reply("Eleven is prime, and so is thirteen.", pieces=30, total_s=6.0)
    return {"fast": build_provider("fast", bedrock_spec(aws, "fast"), script=Script({}, {}), runtime=runtime),
            "slow": build_provider("slow", openai_spec(oai, "slow"), script=Script({}, {}), runtime=runtime)}


async def test_the_mc_stops_one_finalist_and_the_others_finish(aws: WireHTTPServer, oai: WireHTTPServer,
                                                              runtime: Runtime) -> None:
    ps = providers(aws, oai, runtime)
    stops = {"slow": asyncio.Event()}
    loop = asyncio.get_running_loop()
    loop.call_later(0.5, stops["slow"].set)
    start = time.perf_counter()
    answers = await fan_out(ps, dict.fromkeys(ps, REQ), Limits(10, 5, 1000), stops=stops)
    assert time.perf_counter() - start < 2.0
    assert (answers["fast"].status, answers["fast"].text) == (AnswerStatus.OK, "Seven.")
    slow = answers["slow"]
    assert (slow.status, slow.error) == (AnswerStatus.ERROR, "stopped by the MC")
    assert slow.text and "Eleven is prime, and so is thirteen.".startswith(slow.text)  # partial kept


async def test_overall_deadline(aws: WireHTTPServer, oai: WireHTTPServer, runtime: Runtime) -> None:
    ps = providers(aws, oai, runtime)
    # botocore's first call in a process loads its endpoint rules: once per process, against a show's deadline
    # of a minute, but more than this test's 0.8 s on a loaded CI machine; paid here, outside the deadline
    assert (await run_one("fast", ps["fast"], REQ, Limits(10, 5, 1000))).status is AnswerStatus.OK
    answers = await fan_out(ps, dict.fromkeys(ps, REQ), Limits(timeout_s=0.8, idle_timeout_s=5, max_chars=1000))
    slow = answers["slow"]
    assert (slow.status, slow.error) == (AnswerStatus.TIMEOUT, "no complete answer within 0.8 s")
    assert slow.total_ms is not None and 750 < slow.total_ms < 2000
    assert answers["fast"].status is AnswerStatus.OK


async def test_a_failing_screen_callback_is_not_an_endpoint_fault(aws: WireHTTPServer, oai: WireHTTPServer,
                                                                  runtime: Runtime) -> None:
    ps = providers(aws, oai, runtime)
    seen: list[Answer] = []

    def on_update(answer: Answer) -> None:
        seen.append(answer)
        raise RuntimeError("the screen fell over")

    answer = await run_one("fast", ps["fast"], REQ, Limits(10, 5, 1000), on_update)
    assert (answer.status, answer.text, answer.error) == (AnswerStatus.OK, "Seven.", None)
    assert [a.status for a in seen] == [AnswerStatus.STREAMING, AnswerStatus.STREAMING, AnswerStatus.OK]


class RaisesTimeout:
    """An endpoint library that raises the builtin TimeoutError for its own reasons."""

    name = "odd"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        yield TextDelta("partial ")
        raise TimeoutError("socket timed out inside the client library")

    async def aclose(self) -> None:
        return None


async def test_a_providers_own_timeout_error_is_not_mistaken_for_the_idle_timeout() -> None:
    answer = await run_one("odd", RaisesTimeout(), REQ, Limits(10, 5, 1000))
    assert answer.status is AnswerStatus.ERROR
    assert answer.error == "TimeoutError: socket timed out inside the client library"


async def test_cancelling_the_round_frees_the_worker_thread(aws: WireHTTPServer) -> None:
    runtime = Runtime(AwsPool(1))  # one worker: the next call runs only if the stream's thread let go
    aws.script.replies["long"] = Reply("word " * 50, pieces=50, total_s=5.0)
    p = build_provider("long", bedrock_spec(aws, "long"), script=Script({}, {}), runtime=runtime)
    task = asyncio.create_task(fan_out({"long": p}, {"long": REQ}, Limits(10, 5, 1000)))
    await asyncio.sleep(0.4)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert task.cancelled()
    aws.script.replies["quick"] = Reply("ok")
    q = build_provider("quick", bedrock_spec(aws, "quick"), script=Script({}, {}), runtime=runtime)
    answer = await run_one("quick", q, REQ, Limits(2, 1, 100))
    assert answer.status is AnswerStatus.OK, answer.error
    await runtime.aclose()


async def test_leaving_a_silent_stream_frees_its_worker_at_once(aws: WireHTTPServer) -> None:
    runtime = Runtime(AwsPool(1))  # read timeout 16 s: without the interrupt the worker would sit that long
    aws.script.replies["silent"] = Reply("Hello there", pieces=2, stall_s=20)
    aws.script.replies["quick"] = Reply("ok")
    silent = build_provider("s", bedrock_spec(aws, "silent"), script=Script({}, {}), runtime=runtime)
    quick = build_provider("q", bedrock_spec(aws, "quick"), script=Script({}, {}), runtime=runtime)
    first = await run_one("s", silent, REQ, Limits(10, 0.5, 100))
    assert first.status is AnswerStatus.TIMEOUT
    second = await run_one("q", quick, REQ, Limits(2, 2, 100))
    assert second.status is AnswerStatus.OK, second.error
    await runtime.aclose()
