"""The event file (TOML) to validated objects, with errors that point at the key.

An organiser editing the file an hour before doors open should read one line
and know what to fix: `event.toml: finalists[2].endpoint.kind: expected one
of sagemaker, bedrock, openai, rehearsal; got 'sagemker'`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

# the endpoint and judge sections live in finale.config_endpoints, re-exported here for every importer
from finale.config_endpoints import AwsEndpoint as AwsEndpoint
from finale.config_endpoints import BedrockEndpoint as BedrockEndpoint
from finale.config_endpoints import BedrockJudge as BedrockJudge
from finale.config_endpoints import Endpoint as Endpoint
from finale.config_endpoints import JudgeConfig as JudgeConfig
from finale.config_endpoints import JudgeSettings as JudgeSettings
from finale.config_endpoints import NetworkSettings as NetworkSettings
from finale.config_endpoints import OpenAIEndpoint as OpenAIEndpoint
from finale.config_endpoints import OpenAIJudge as OpenAIJudge
from finale.config_endpoints import RehearsalEndpoint as RehearsalEndpoint
from finale.config_endpoints import RehearsalJudge as RehearsalJudge
from finale.config_endpoints import SageMakerEndpoint as SageMakerEndpoint
from finale.config_endpoints import Strict as _Strict
from finale.config_pages import PagesSection as PagesSection
from finale.config_scale import ScaleSection as ScaleSection
from finale.core import model as core
from finale.core.ballot import BallotPolicy
from finale.core.forwarded import trusted_networks
from finale.core.integrity import IntegrityThresholds
from finale.core.questions import FloorPolicy
from finale.core.scoring import ScoringError, validate_weights
from finale.core.text import one_line

_ID = r"^[a-z0-9][a-z0-9_-]{0,31}$"


def _plain_name(value: str) -> str:
    if one_line(value) != value:
        raise ValueError("a name is one line of plain text: no control characters, escape sequences or "
                         "bidirectional overrides")
    return value


# Names are shown on the console, the stage and every phone: one line of plain text.
Name = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_plain_name)]


class ConfigError(ValueError):
    """The event file is wrong; the message names the file, the key path and what was expected."""




class EventSection(_Strict):
    name: Name
    public_url: str = "http://127.0.0.1:8765"
    # Who decides overrides and rulings; the console names them in its dialogs (default: the person at it).
    head_judge: Name | None = None


class HubSection(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    max_connections_per_ip: int = Field(default=2000, ge=1)
    allowed_origins: tuple[str, ...] = ()
    # Load balancers in front of the hub (addresses or networks): their X-Forwarded-For names each phone.
    trusted_proxies: tuple[str, ...] = ()
    # Messages per second (sustained; bursts of 4x) a device, and an address (venue NAT), may send.
    device_messages_per_s: float = Field(default=5.0, gt=0)
    ip_messages_per_s: float = Field(default=2000.0, gt=0)
    # Wrong private-link tokens an address may try per minute before it is refused for a while.
    token_tries_per_min: int = Field(default=10, ge=1)
    log_file: str | None = None  # where a supervised hub writes its log (default: beside the database)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        trusted_networks(entries)  # BadProxy (a ValueError) names the entry and what is expected
        return entries


class WeightsSection(_Strict):
    llm: float = 0.4
    panel: float = 0.4
    audience: float = 0.2

    @model_validator(mode="after")
    def _sum_to_one(self) -> WeightsSection:
        try:
            validate_weights(core.Weights(self.llm, self.panel, self.audience))
        except ScoringError as exc:
            raise ValueError(str(exc)) from None
        return self


class ScoringSection(_Strict):
    weights: WeightsSection = WeightsSection()
    dispute_margin: float = Field(default=30.0, ge=0, le=100)
    hide_results_until_close: bool = True
    z_normalise_panel: bool = False
    reveal_at_close: bool = True  # who was who goes on the stage and phones when the poll closes; false: the MC's l


class VotingSection(_Strict):
    window_seconds: float = Field(default=45.0, gt=0, le=3600)
    # A vote cast before the close that reaches a stalled or restarting hub late counts if it arrives
    # within this long after the close (core.poll.stalled_across); 0 turns the grace off.
    late_grace_seconds: float = Field(default=30.0, ge=0, le=120)
    # Who may vote (core.ballot); what each layer stops and what it cannot: the README's "Ballot integrity".
    credentials_per_address_per_min: int = Field(default=5, ge=1, le=100_000)
    devices_per_address: int = Field(default=2, ge=1, le=1_000_000)
    presence: bool = False
    join_code_rotate_seconds: float = Field(default=30.0, ge=5, le=3600)
    join_code_max_age_seconds: float = Field(default=180.0, ge=5, le=86_400)
    # When the console's integrity view raises an alarm (core.integrity).
    alarm_new_credentials_per_min: int = Field(default=60, ge=1)
    alarm_votes_per_address: int = Field(default=3, ge=1)
    alarm_minted_during_poll: float = Field(default=0.5, ge=0, le=1)
    alarm_min_votes: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _code_outlives_its_window(self) -> VotingSection:
        if self.join_code_max_age_seconds < self.join_code_rotate_seconds:
            raise ValueError(f"join_code_max_age_seconds ({self.join_code_max_age_seconds:g}) must be at least "
                             f"join_code_rotate_seconds ({self.join_code_rotate_seconds:g}), or a code shown on "
                             "the stage could be refused before the next one appears")
        return self

    def ballot_policy(self) -> BallotPolicy:
        """The layered limits as the core's vote and credential rules take them."""
        return BallotPolicy(self.credentials_per_address_per_min, self.devices_per_address, self.presence,
                            self.join_code_rotate_seconds, self.join_code_max_age_seconds)

    def integrity_thresholds(self) -> IntegrityThresholds:
        """The integrity view's alarm thresholds."""
        return IntegrityThresholds(self.alarm_new_credentials_per_min, self.alarm_votes_per_address,
                                   self.alarm_minted_during_poll, self.alarm_min_votes)


class CriterionSection(_Strict):
    id: str = Field(pattern=_ID)
    description: str = Field(min_length=1)


class GenerationSection(_Strict):
    max_tokens: int = Field(default=512, ge=1, le=4096)
    temperature: float = Field(default=0.2, ge=0, le=2)
    timeout_s: float = Field(default=60.0, gt=0)
    idle_timeout_s: float = Field(default=15.0, gt=0)
    max_chars: int = Field(default=6000, ge=1)


class FinalistSection(_Strict):
    id: str = Field(pattern=_ID)
    name: Name
    endpoint: Endpoint
    system_prompt: str = ""


class ReferenceSection(_Strict):
    name: Name
    endpoint: Endpoint
    # Head to head (core.headtohead): the judge compares each answer with the reference's, both orders.
    head_to_head: bool = True
    head_to_head_weight: float = Field(default=0.0, ge=0, le=1)  # share of the LLM component; 0: shown beside
    short_name: Name | None = None  # how the stage names it: "beat the 90B" (default "the reference")
    stage_win_rate: bool = False  # the stage shows each finalist's "beat the 90B: 3 of 5"

    def stage_label(self) -> str | None:
        """`beat the 90B` when the stage shows the win rates, else None."""
        if not (self.head_to_head and self.stage_win_rate):
            return None
        return f"beat the {self.short_name}" if self.short_name else "beat the reference"

    @model_validator(mode="after")
    def _weight_needs_head_to_head(self) -> ReferenceSection:
        if self.head_to_head_weight > 0 and not self.head_to_head:
            raise ValueError("head_to_head_weight needs head_to_head = true")
        return self


class PanelistSection(_Strict):
    id: str = Field(pattern=_ID)
    name: Name


class QuestionSection(_Strict):
    id: str = Field(pattern=_ID)
    prompt: str = Field(min_length=1)
    expected: str | None = None
    check: Literal["number", "exact", "contains", "regex"] | None = None

    @model_validator(mode="after")
    def _check_needs_expected(self) -> QuestionSection:
        if self.check is not None and self.expected is None:
            raise ValueError(f"check {self.check!r} needs an expected answer")
        if self.check == "regex" and self.expected is not None:
            try:
                re.compile(self.expected)
            except re.error as exc:
                raise ValueError(f"expected is not a valid regex: {exc}") from None
        return self


class AudienceQuestionsSection(_Strict):
    """`[audience_questions]`: limits for questions from the floor (core.questions; the README's section)."""

    max_chars: int = Field(default=280, ge=20, le=1000)
    per_voter: int = Field(default=3, ge=1, le=100)
    per_minutes: float = Field(default=5.0, gt=0, le=240)
    blocklist: tuple[Annotated[str, Field(min_length=1, max_length=80)], ...] = ()

    def floor_policy(self) -> FloorPolicy:
        """The limits as core.questions takes them."""
        return FloorPolicy(self.max_chars, self.per_voter, self.per_minutes * 60.0, self.blocklist)


class RehearsalSection(_Strict):
    script: str = "script.toml"


class EventConfig(_Strict):
    """The whole validated event file."""

    event: EventSection
    hub: HubSection = HubSection()
    scoring: ScoringSection = ScoringSection()
    voting: VotingSection = VotingSection()
    rubric: tuple[CriterionSection, ...] = Field(min_length=1)
    generation: GenerationSection = GenerationSection()
    finalists: tuple[FinalistSection, ...] = Field(min_length=2, max_length=10)
    reference: ReferenceSection | None = None
    judge: JudgeConfig
    panelists: tuple[PanelistSection, ...] = Field(min_length=1)
    questions: tuple[QuestionSection, ...] = ()
    audience_questions: AudienceQuestionsSection = AudienceQuestionsSection()
    rehearsal: RehearsalSection = RehearsalSection()
    pages: PagesSection = PagesSection()  # the pages' languages and wording (finale.config_pages)
    scale: ScaleSection = ScaleSection()  # many hubs on one Redis (finale.config_scale, audience/scale)

    @field_validator("finalists", "panelists", "rubric", "questions")
    @classmethod
    def _unique_ids(cls, items: tuple[Any, ...]) -> tuple[Any, ...]:
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                raise ValueError(f"duplicate id {item.id!r}; ids must be unique")
            seen.add(item.id)
        return items

    def to_core(self) -> core.Event:
        """The part of the event the pure core works with."""
        g = self.generation
        w = self.scoring.weights
        return core.Event(
            name=self.event.name,
            finalists=tuple(
                core.Finalist(f.id, f.name, core.PromptSettings(f.system_prompt, g.temperature, g.max_tokens, 1))
                for f in self.finalists
            ),
            panelists=tuple(core.Panelist(p.id, p.name) for p in self.panelists),
            rubric=tuple(core.Criterion(c.id, c.description) for c in self.rubric),
            questions=tuple(core.Question(q.id, q.prompt, q.expected, q.check) for q in self.questions),
            weights=core.Weights(w.llm, w.panel, w.audience),
            dispute_margin=self.scoring.dispute_margin,
            z_normalise_panel=self.scoring.z_normalise_panel,
            hide_results_until_close=self.scoring.hide_results_until_close,
            vote_window_s=self.voting.window_seconds,
            ballot=self.voting.ballot_policy(),
            head_to_head_weight=self.reference.head_to_head_weight if self.reference else 0.0,
            length_bias_ratio=self.judge.length_bias_ratio,
            stage_win_rate_label=self.reference.stage_label() if self.reference else None,
        )


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("sagemaker", "bedrock", "openai", "rehearsal"):
            continue  # the discriminated union's branch name is not a key the user wrote
        elif not re.fullmatch(r"[A-Za-z0-9_-]+", part):
            out += f"[{part!r}]"  # an odd key is quoted, so the message stays on one line
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _message(err: Any) -> tuple[str, str]:
    """(key path, what was expected) for one pydantic error, in the organiser's words."""
    loc = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    got = err.get("input")
    if kind == "union_tag_invalid":
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        return _path((*loc, "kind")), f"expected one of {expected}; got {ctx.get('tag')!r}"
    if kind == "union_tag_not_found":
        return _path((*loc, "kind")), "required key missing; expected one of sagemaker, bedrock, openai, rehearsal"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return _path(loc), f"expected one of {expected}; got {got!r}"
    if kind == "missing":
        return _path(loc), "required key missing"
    if kind == "extra_forbidden":
        return _path(loc), "unknown key (check the spelling against the README's event file reference)"
    if kind == "too_short":
        return _path(loc), f"expected at least {ctx.get('min_length')} entries; got {ctx.get('actual_length')}"
    if kind == "too_long":
        return _path(loc), f"expected at most {ctx.get('max_length')} entries; got {ctx.get('actual_length')}"
    if kind == "string_pattern_mismatch":
        return _path(loc), f"expected an id of lowercase letters, digits, '-' or '_'; got {got!r}"
    if kind == "value_error":
        return _path(loc), str(ctx.get("error", err["msg"]))
    return _path(loc), f"{err['msg'][0].lower()}{err['msg'][1:]}; got {got!r}"


def parse_event(data: dict[str, Any], source: str = "event.toml") -> EventConfig:
    """Validate already-parsed TOML; raise ConfigError listing every problem, one per line."""
    try:
        return EventConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            path, what = _message(err)
            lines.append(f"{source}: {path}: {what}")
        raise ConfigError("\n".join(lines)) from None


def load_event(path: str | Path) -> EventConfig:
    """Read and validate an event file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such event file") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read event file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p.name}: not UTF-8 text (byte {exc.start}); save the event file as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p.name}: not valid TOML: {exc}") from None
    return parse_event(data, p.name)
