"""Fan-out overhead: five finalists with set latencies, through the real providers and local wire servers.

Run from the repository root:

    .venv/bin/python bench/fanout.py            # 15 runs, writes bench/results/fanout.json
    .venv/bin/python bench/fanout.py --runs 30

Five finalists answer in 200, 400, 600, 800 and 1000 ms (server-side, streamed
in 10 chunks): Bedrock ConverseStream, SageMaker TGI and messages streams (real
boto3 clients, AWS event-stream framing) and an OpenAI-compatible SSE server
(real httpx), all on 127.0.0.1. A round's overhead is its wall time minus the
slowest finalist's set latency; `overhead_ms` is the median over the runs
(target: under 50 ms). The baseline, measured in the same run, is the slowest
finalist asked alone through the same provider: what a round would cost with
no fan-out at all. Dummy AWS credentials are set in this process only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from finale.config import BedrockEndpoint, Endpoint, GenerationSection, OpenAIEndpoint, SageMakerEndpoint  # noqa: E402
from finale.demo.script import Script  # noqa: E402
from finale.providers.aws import AwsPool  # noqa: E402
from finale.providers.base import GenerationRequest, Provider  # noqa: E402
from finale.providers.factory import build_provider  # noqa: E402
from finale.providers.fanout import Limits, fan_out  # noqa: E402
from finale.providers.runtime import HEADROOM, Runtime  # noqa: E402
from tests.wire.aws import aws_server  # noqa: E402
from tests.wire.openai import openai_server  # noqa: E402
from tests.wire.server import Reply  # noqa: E402

LATENCIES_MS = {"ray": 200, "mia": 400, "sol": 600, "kai": 800, "zoe": 1000}
TARGET_MS = 50.0
REQUEST = GenerationRequest("Explain write-ahead logging to a ten-year-old.", "", 0.2, 256, round_id=1)
LIMITS = Limits(timeout_s=10, idle_timeout_s=5, max_chars=6000)


def specs(aws_url: str, oai_url: str) -> dict[str, Endpoint]:
    common: dict[str, Any] = {"region": "us-east-1", "endpoint_url": aws_url}
    return {
        "ray": BedrockEndpoint(kind="bedrock", model_id="ray", **common),
        "mia": SageMakerEndpoint(kind="sagemaker", endpoint_name="mia", format="tgi", **common),
        "sol": SageMakerEndpoint(kind="sagemaker", endpoint_name="sol", format="messages", **common),
        "kai": OpenAIEndpoint(kind="openai", base_url=oai_url + "/v1", model="kai"),
        "zoe": BedrockEndpoint(kind="bedrock", model_id="zoe", **common),
    }


async def measure(runs: int) -> dict[str, Any]:
    with aws_server() as aws, openai_server() as oai:
        for fid, ms in LATENCIES_MS.items():
            server = oai if fid == "kai" else aws
            server.script.replies[fid] = Reply("A write-ahead log is a diary written before the work. ",
                                               pieces=10, ttft_s=ms / 4000, total_s=ms / 1000)
        runtime = Runtime(AwsPool(len(LATENCIES_MS) + 1 + 1 + HEADROOM), GenerationSection())  # as for a show
        providers: dict[str, Provider] = {
            fid: build_provider(fid, spec, script=Script({}, {}), runtime=runtime)
            for fid, spec in specs(aws.url, oai.url).items()}
        requests = dict.fromkeys(providers, REQUEST)
        slowest_id = max(LATENCIES_MS, key=LATENCIES_MS.__getitem__)
        slowest_ms = LATENCIES_MS[slowest_id]

        await fan_out(providers, requests, LIMITS)  # warm-up: connections, clients, thread start
        rounds, solos = [], []
        for _ in range(runs):
            start = time.perf_counter()
            answers = await fan_out(providers, requests, LIMITS)
            wall = (time.perf_counter() - start) * 1000
            bad = {fid: a.error for fid, a in answers.items() if a.status != "ok"}
            if bad:
                raise SystemExit(f"a finalist failed during the benchmark: {bad}")
            rounds.append({"wall_ms": round(wall, 2), "overhead_ms": round(wall - slowest_ms, 2),
                           "answer_ms": {fid: round(a.total_ms or 0, 2) for fid, a in answers.items()}})
            start = time.perf_counter()
            await fan_out({slowest_id: providers[slowest_id]}, {slowest_id: REQUEST}, LIMITS)
            solo = (time.perf_counter() - start) * 1000
            solos.append({"wall_ms": round(solo, 2), "overhead_ms": round(solo - slowest_ms, 2)})
        for p in providers.values():
            await p.aclose()
        await runtime.aclose()

    overhead = statistics.median(r["overhead_ms"] for r in rounds)
    baseline = statistics.median(s["overhead_ms"] for s in solos)
    return {
        "benchmark": "fanout",
        "overhead_ms": round(overhead, 2),
        "target_ms": TARGET_MS,
        "passed": overhead < TARGET_MS,
        "baseline_solo_overhead_ms": round(baseline, 2),
        "fanout_extra_ms": round(overhead - baseline, 2),
        "runs": runs,
        "latencies_ms": LATENCIES_MS,
        "kinds": {"ray": "bedrock converse_stream", "mia": "sagemaker tgi stream", "sol": "sagemaker messages stream",
                  "kai": "openai sse", "zoe": "bedrock converse_stream"},
        "per_run": rounds,
        "baseline_per_run": solos,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fanout.json")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="AKIDBENCHONLY0000000", AWS_SECRET_ACCESS_KEY="bench-only-not-a-secret",
                      AWS_EC2_METADATA_DISABLED="true")
    os.environ.pop("AWS_PROFILE", None)
    result = asyncio.run(measure(max(10, args.runs)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"overhead_ms (median of {result['runs']} rounds): {result['overhead_ms']} "
          f"(target < {TARGET_MS:g}; slowest finalist alone: {result['baseline_solo_overhead_ms']} ms) -> {args.out}")


if __name__ == "__main__":
    main()
