"""The event file's endpoint and judge sections: how each finalist, the reference and the judge are reached.

Split from finale.config (which re-exports every name here) along its seam:
these sections say where a model lives and how long to wait for it; the rest
of the event file says what the show is.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    """Every section: unknown keys refused (a typo never passes silently), values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkSettings(Strict):
    """Shared by every networked endpoint: how long to wait and how often to try.

    `read_timeout_s` unset means the [generation] idle timeout when streaming and
    its overall timeout otherwise; `max_attempts` counts the first try.
    """

    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    read_timeout_s: float | None = Field(default=None, gt=0, le=600)
    max_attempts: int = Field(default=3, ge=1, le=10)


class AwsEndpoint(NetworkSettings):
    """Shared by every AWS endpoint: region and an optional endpoint_url (VPC endpoints, tests)."""

    region: str | None = None
    endpoint_url: str | None = None


class SageMakerEndpoint(AwsEndpoint):
    kind: Literal["sagemaker"]
    endpoint_name: str
    format: Literal["tgi", "messages"] = "tgi"
    stream: bool = True
    inference_component: str | None = None


class BedrockEndpoint(AwsEndpoint):
    kind: Literal["bedrock"]
    model_id: str
    stream: bool = True


class OpenAIEndpoint(NetworkSettings):
    kind: Literal["openai"]
    base_url: str
    model: str
    api_key_env: str | None = None
    stream: bool = True


class RehearsalEndpoint(Strict):
    kind: Literal["rehearsal"]
    style: str = "plain"
    ttft_ms: float = Field(default=400.0, ge=0)
    tokens_per_s: float = Field(default=40.0, gt=0)
    fail: Literal["none", "timeout", "error"] = "none"


Endpoint = Annotated[
    SageMakerEndpoint | BedrockEndpoint | OpenAIEndpoint | RehearsalEndpoint, Field(discriminator="kind")
]


class JudgeSettings(Strict):
    """What every judge kind shares: how a jury adds up, how long one verdict may take, the length-bias flag.

    The jury is the first model and the extra ones; each criterion's score is the `aggregation`
    of the members that answered, once `quorum` did (unset: more than half the jury); a
    spread above `disagreement` is flagged. `deadline_s` bounds a whole verdict, every attempt in it.
    """

    disagreement: float = Field(default=3.0, ge=0, le=10)
    quorum: int | None = Field(default=None, ge=1, le=10)
    aggregation: Literal["mean", "median"] = "mean"
    deadline_s: float = Field(default=60.0, gt=0, le=600)
    length_bias_ratio: float = Field(default=2.0, ge=0, le=100)  # core.lengthbias; 0 turns the flag off

    @property
    def jury(self) -> tuple[str, ...]:
        """The judge models, first the main one."""
        return ("rehearsal",)

    @property
    def jury_quorum(self) -> int:
        """How many jury members must answer for a judgment to stand."""
        return self.quorum if self.quorum is not None else len(self.jury) // 2 + 1

    @model_validator(mode="after")
    def _quorum_fits(self) -> JudgeSettings:
        if self.quorum is not None and self.quorum > len(self.jury):
            raise ValueError(f"quorum {self.quorum} is more than the {len(self.jury)} judge model(s) of the jury")
        return self


class BedrockJudge(AwsEndpoint, JudgeSettings):
    kind: Literal["bedrock"]
    model_id: str
    extra_model_ids: tuple[str, ...] = ()  # the rest of the jury; each verdict is stored per judge
    tool_choice: bool = True
    read_timeout_s: float | None = Field(default=60.0, gt=0, le=600)

    @property
    def jury(self) -> tuple[str, ...]:
        return (self.model_id, *self.extra_model_ids)


class OpenAIJudge(NetworkSettings, JudgeSettings):
    kind: Literal["openai"]
    base_url: str
    model: str
    extra_models: tuple[str, ...] = ()
    api_key_env: str | None = None
    tool_choice: bool = True
    read_timeout_s: float | None = Field(default=60.0, gt=0, le=600)

    @property
    def jury(self) -> tuple[str, ...]:
        return (self.model, *self.extra_models)


class RehearsalJudge(JudgeSettings):
    kind: Literal["rehearsal"]
    delay_ms: float = Field(default=300.0, ge=0)


JudgeConfig = Annotated[BedrockJudge | OpenAIJudge | RehearsalJudge, Field(discriminator="kind")]
