"""`finale check`: the preflight an organiser runs before doors open.

One line per thing that can fail on the night: the AWS identity and region
(only when the event uses AWS; account and ARN shown, never a key), each
SageMaker endpoint InService, each Bedrock model and OpenAI-compatible server
answering a tiny request, the judge scoring a sample answer (and judging one
head-to-head when there is a reference), and every finalist's max_tokens side
by side, so unequal caps are seen before the show. Every check
runs concurrently with its own time limit, through the same providers and
judge the show uses.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from finale.config import (
    AwsEndpoint,
    BedrockEndpoint,
    Endpoint,
    EventConfig,
    GenerationSection,
    OpenAIEndpoint,
    RehearsalEndpoint,
    SageMakerEndpoint,
)
from finale.config import BedrockJudge as BedrockJudgeConfig
from finale.config import OpenAIJudge as OpenAIJudgeConfig
from finale.core.model import AnswerStatus
from finale.demo.script import load_script
from finale.judge.base import JudgeRequest
from finale.judge.factory import build_judge
from finale.providers.aws import AWS_ERRORS, describe_error
from finale.providers.base import GenerationRequest
from finale.providers.factory import build_provider
from finale.providers.fanout import Limits, run_one
from finale.providers.openai import shown_url
from finale.providers.runtime import Runtime
from finale.store import Store, StoreError

TINY = GenerationRequest("Reply with the single word OK.", "", 0.0, 8)


@dataclass(frozen=True)
class CheckResult:
    """One row of the preflight table; a `warning` passes but asks to be read (unequal caps, say)."""

    check: str
    target: str
    ok: bool
    detail: str
    warning: bool = False


def describe_endpoint(spec: Endpoint) -> str:
    """What an endpoint is, in one short phrase (no secrets: an API key is named by its variable only)."""
    if isinstance(spec, SageMakerEndpoint):
        return f"sagemaker {spec.endpoint_name} ({spec.format}, {spec.region or 'default region'})"
    if isinstance(spec, BedrockEndpoint):
        return f"bedrock {spec.model_id} ({spec.region or 'default region'})"
    if isinstance(spec, OpenAIEndpoint):
        return f"openai {spec.model} at {shown_url(spec.base_url)}"
    return f"rehearsal ({spec.style})"


def aws_specs(config: EventConfig) -> list[AwsEndpoint]:
    """Every AWS endpoint of the event: finalists, reference and judge."""
    specs: list[Any] = [f.endpoint for f in config.finalists]
    if config.reference is not None:
        specs.append(config.reference.endpoint)
    specs.append(config.judge)
    return [s for s in specs if isinstance(s, AwsEndpoint)]


class Preflight:
    """Runs every check for one event file; `run()` returns the table's rows in a stable order."""

    def __init__(self, config: EventConfig, event_dir: Path, timeout_s: float = 30.0,
                 db_path: Path | None = None) -> None:
        self.config = config
        self.event_dir = event_dir
        self.timeout_s = timeout_s
        self.db_path = db_path
        g = config.generation
        quick = GenerationSection(max_tokens=g.max_tokens, temperature=g.temperature, timeout_s=timeout_s,
                                  idle_timeout_s=min(g.idle_timeout_s, timeout_s), max_chars=200)
        self.runtime = Runtime(None, quick, Runtime.for_event(config).workers)
        self.script = load_script(event_dir / config.rehearsal.script)

    async def run(self) -> list[CheckResult]:
        jobs: list[Awaitable[CheckResult]] = []
        if aws_specs(self.config):
            jobs.append(self._guard("AWS identity", "sts get-caller-identity", self.identity()))
        for f in self.config.finalists:
            jobs.append(self._guard(f"finalist {f.id}", describe_endpoint(f.endpoint), self.endpoint(f.endpoint)))
        if self.config.reference is not None:
            spec = self.config.reference.endpoint
            jobs.append(self._guard("reference", describe_endpoint(spec), self.endpoint(spec)))
        jobs.append(self._guard("judge", self._judge_target(), self.judge()))
        try:
            results = list(await asyncio.gather(*jobs))
        finally:
            await self.runtime.aclose()
        return [*results, max_tokens_row(self.config, self.db_path)]

    async def _guard(self, check: str, target: str, job: Awaitable[tuple[bool, str] | tuple[bool, str, bool]]
                     ) -> CheckResult:
        warning = False
        try:
            async with asyncio.timeout(self.timeout_s + 5):
                ok, detail, *more = await job
                warning = bool(more and more[0])
        except TimeoutError:
            ok, detail = False, f"no result within {self.timeout_s + 5:g} s"
        except Exception as exc:  # a check must report, never crash the table
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        return CheckResult(check, target, ok, detail, warning)

    def _judge_target(self) -> str:
        j = self.config.judge
        if isinstance(j, BedrockJudgeConfig):
            return f"bedrock {', '.join((j.model_id, *j.extra_model_ids))} ({j.region or 'default region'})"
        if isinstance(j, OpenAIJudgeConfig):
            return f"openai {', '.join((j.model, *j.extra_models))} at {shown_url(j.base_url)}"
        return "rehearsal"

    async def identity(self) -> tuple[bool, str]:
        """Who we are on AWS and in which regions; never prints a key."""
        pool = self.runtime.pool
        specs = aws_specs(self.config)
        session_region = await pool.call(self._session_region)
        if any(s.region is None for s in specs) and not session_region:
            return False, "no AWS region for an endpoint without one: set region in the event file or AWS_REGION"
        regions = sorted({str(s.region or session_region) for s in specs})
        sts = pool.client("sts", region=regions[0], endpoint_url=None, connect_timeout_s=5,
                          read_timeout_s=self.timeout_s, max_attempts=2)
        try:
            who = await pool.call(sts.get_caller_identity)
        except AWS_ERRORS as exc:
            return False, describe_error(exc, "AWS identity")
        return True, f"account {who.get('Account')}, {who.get('Arn')}; region {', '.join(regions)}"

    @staticmethod
    def _session_region() -> str | None:
        import boto3

        return boto3.session.Session().region_name

    async def endpoint(self, spec: Endpoint) -> tuple[bool, str]:
        if isinstance(spec, RehearsalEndpoint):
            return True, "scripted answers (rehearsal)"
        prefix = ""
        if isinstance(spec, SageMakerEndpoint):
            ok, status = await self.sagemaker_status(spec)
            if not ok:
                return False, status
            prefix = f"{status}; "
        provider = build_provider("check", spec, script=self.script, runtime=self.runtime)
        try:
            answer = await run_one("check", provider, TINY, Limits(self.timeout_s, self.timeout_s, 200))
        finally:
            await provider.aclose()
        if answer.status is not AnswerStatus.OK:
            return False, prefix + (answer.error or str(answer.status))
        took = f"answered in {answer.total_ms or 0:.0f} ms"
        if answer.ttft_ms is not None:
            took += f" (first token {answer.ttft_ms:.0f} ms)"
        return True, prefix + took + ("" if answer.text.strip() else ", but the answer was empty")

    async def sagemaker_status(self, spec: SageMakerEndpoint) -> tuple[bool, str]:
        """DescribeEndpoint (control plane: AWS_ENDPOINT_URL_SAGEMAKER or the regional default)."""
        client = self.runtime.pool.client("sagemaker", region=spec.region, endpoint_url=None,
                                          connect_timeout_s=spec.connect_timeout_s, read_timeout_s=self.timeout_s,
                                          max_attempts=spec.max_attempts)
        try:
            info = await self.runtime.pool.call(client.describe_endpoint, EndpointName=spec.endpoint_name)
        except AWS_ERRORS as exc:
            return False, describe_error(exc, "DescribeEndpoint")
        status = str(info.get("EndpointStatus"))
        if status != "InService":
            reason = info.get("FailureReason")
            return False, f"endpoint status is {status}, not InService" + (f": {reason}" if reason else "")
        return True, "InService"

    async def judge(self) -> tuple[bool, str, bool]:
        """The jury scores a sample answer; with a reference, one head-to-head too (a failure there warns)."""
        if self.config.judge.kind == "rehearsal":
            return True, "scripted scores (rehearsal)", False
        judge = build_judge(self.config.judge, script=self.script, runtime=self.runtime)
        rubric = self.config.to_core().rubric
        sample = JudgeRequest("What is 2 + 2?", "A", "2 + 2 = 4.", rubric, expected="4", latency_ms=800,
                              ttft_ms=200, tokens=6)
        start = time.perf_counter()
        try:
            verdict = await judge.judge(sample)
            took = (time.perf_counter() - start) * 1000
            ref = self.config.reference
            head = await judge.head_to_head(sample, "4.") if verdict.ok and ref and ref.head_to_head else None
        finally:
            await judge.aclose()
        if not verdict.ok:
            return False, verdict.reason or "the judge failed on a sample answer", False
        scores = ", ".join(f"{k} {v:g}" for k, v in verdict.scores.items())
        detail = f"scored a sample answer in {took:.0f} ms ({scores})"
        refused = judge.answering_in_json() if getattr(self.config.judge, "tool_choice", False) else []
        if refused:
            detail += ("; the model refused forced tool choice, so it answers in JSON" if len(judge.members) == 1
                       else f"; {', '.join(refused)} refused forced tool choice, so they answer in JSON")
        for flag in verdict.flags:
            detail += f"; {flag}"
        if head is None:
            return True, detail, bool(verdict.flags)
        if head.outcome is None:
            return True, detail + f"; head-to-head with the reference FAILED: {head.reason}", True
        return True, detail + f"; head-to-head with the reference: {head.text}", bool(verdict.flags)


def max_tokens_row(config: EventConfig, db_path: Path | None = None) -> CheckResult:
    """Every finalist's max_tokens, as tuned in the event's database when there is one; unequal caps warn.

    A finalist whose answers may be four times longer is not judged on the same footing (length bias).
    """
    caps = {f.id: config.generation.max_tokens for f in config.finalists}
    source = "the event file's [generation]"
    if db_path is not None and db_path.exists():
        try:
            with Store.open_existing(db_path) as store:
                caps = {fid: store.settings(fid).max_tokens for fid in caps}
            source = f"as tuned in {db_path.name}"
        except (StoreError, ValueError) as exc:
            source = f"the event file's [generation] ({db_path.name} unreadable: {exc})"
    shown = ", ".join(f"{fid} {n}" for fid, n in caps.items())
    reference = f"; the reference gets {config.generation.max_tokens}" if config.reference else ""
    if len(set(caps.values())) > 1:
        return CheckResult("max tokens", "every finalist", True,
                           f"unequal caps ({source}): {shown}{reference}", warning=True)
    return CheckResult("max tokens", "every finalist", True, f"{next(iter(caps.values()))} each ({source}): "
                                                              f"{shown}{reference}")


def run_preflight(config: EventConfig, event_dir: Path, timeout_s: float = 30.0,
                  db_path: Path | None = None) -> list[CheckResult]:
    """Every check for the event, run to completion (blocking; for the CLI)."""
    return asyncio.run(Preflight(config, event_dir, timeout_s, db_path).run())



def print_results(event_file: Path, results: list[CheckResult], console: Console) -> bool:
    """The pass/fail table and a summary line; True when everything passed."""
    table = Table(title=f"Preflight: {event_file}", show_lines=False)
    for column in ("Check", "Endpoint", "Result", "Detail"):
        table.add_column(column, overflow="fold")
    table.add_row("event file", str(event_file), Text("PASS", style="bold green"), "valid")
    for r in results:
        verdict = (Text("FAIL", style="bold red") if not r.ok else
                   Text("WARN", style="bold yellow") if r.warning else Text("PASS", style="bold green"))
        table.add_row(Text(r.check), Text(r.target), verdict, Text(r.detail))  # Text: endpoint output is not markup
    console.print(table)
    failed = [r for r in results if not r.ok]
    warned = [r.check for r in results if r.ok and r.warning]
    if failed:
        console.print(Text(f"{len(failed)} of {len(results) + 1} checks failed: "
                           + ", ".join(r.check for r in failed), style="bold red"))
        return False
    console.print(Text(f"All {len(results) + 1} checks passed"
                       + (f"; read the warning{'s' if len(warned) > 1 else ''}: {', '.join(warned)}." if warned
                          else "."), style="bold green"))
    return True
