"""What every real endpoint of one show shares: the boto3 worker pool and the event's time limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from finale.config import AwsEndpoint, EventConfig, GenerationSection, NetworkSettings

if TYPE_CHECKING:
    from finale.providers.aws import AwsPool

HEADROOM = 2
MAX_WORKERS = 48  # boto3 connections per client follow this; more would only queue at the service


class Runtime:
    """Created once per show; providers and judges take their clients and threads from it.

    The pool (and boto3 with it) is created on first use, so a rehearsal-only
    show never loads boto3.
    """

    def __init__(self, pool: AwsPool | None = None, generation: GenerationSection | None = None,
                 workers: int = 4) -> None:
        self._pool = pool
        self.workers = pool.workers if pool is not None else workers
        self.generation = generation or GenerationSection()

    @classmethod
    def for_event(cls, config: EventConfig) -> Runtime:
        """Sized for the busier of asking (every finalist and the reference) and judging (each judge model on
        every answer, and the two head-to-head calls per answer when there is a reference), plus headroom."""
        asking = len(config.finalists) + (1 if config.reference else 0)
        calls_per_answer = 3 if config.reference is not None and config.reference.head_to_head else 1
        judging = len(config.judge.jury) * len(config.finalists) * calls_per_answer
        return cls(None, config.generation, min(max(asking, judging), MAX_WORKERS) + HEADROOM)

    @property
    def pool(self) -> AwsPool:
        if self._pool is None:
            from finale.providers.aws import AwsPool

            self._pool = AwsPool(self.workers)
        return self._pool

    def read_timeout(self, spec: NetworkSettings, stream: bool) -> float:
        """The socket read timeout: the event's idle timeout when streaming, its overall timeout otherwise."""
        if spec.read_timeout_s is not None:
            return spec.read_timeout_s
        g = self.generation
        return g.idle_timeout_s + 1.0 if stream else g.timeout_s

    def aws_client(self, service: str, spec: AwsEndpoint, *, stream: bool, endpoint_url: str | None = None,
                   max_attempts: int | None = None) -> Any:
        """The (cached) boto3 client for one endpoint spec; `max_attempts` overrides the spec's (botocore retries)."""
        return self.pool.client(service, region=spec.region, endpoint_url=endpoint_url or spec.endpoint_url,
                                connect_timeout_s=spec.connect_timeout_s,
                                read_timeout_s=self.read_timeout(spec, stream),
                                max_attempts=max_attempts or spec.max_attempts)

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
