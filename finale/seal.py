"""The manifest a show is sealed with, built from the event file, the judge's prompts and this software.

`finale seal EVENT.toml` (or the first ask of the show) stores it with its
SHA-256 (finale.store.seal); the stage's idle screen shows the hash and the
report prints it, and `finale verify` checks that the event file the show was
scored with is the sealed one. What goes in: the whole event file (rubric,
weights, scoring and voting rules, judge models and their parameters, the
finalists' and the reference's endpoints, panelists), the deck with its
expected answers and checkers as commitments only (core.manifest), the
tie-break order, the judge prompt templates' text, each finalist's settings
version, and the software version with a digest of the rules' source
(finale/core). Never a secret: API keys live in the environment (only the
variables' names are in the event file), and core.manifest.scrub drops any
secret-named key and the credentials of any URL.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import finale
import finale.core
from finale.config import EventConfig
from finale.core.manifest import FORMAT, commitment, scrub
from finale.core.model import Criterion, PromptSettings
from finale.core.ranking import TIE_BREAKS
from finale.judge.base import JudgeRequest, PairRequest
from finale.judge.pair import build_pair_prompt, pair_tool
from finale.judge.prompt import build_prompt, score_schema


def judge_prompts(config: EventConfig) -> dict[str, Any]:
    """The judge prompt templates' text as the judge receives it, with placeholders for each call's values."""
    request = JudgeRequest(question="{question}", label="LABEL", answer="{answer}", expected="{expected}",
                           criteria=tuple(Criterion(c.id, c.description) for c in config.rubric))
    tool, json_reply = build_prompt(request, tool=True), build_prompt(request, tool=False)
    pair = PairRequest(question="{question}", first="{first answer}", second="{second answer}",
                       expected="{expected}", criteria=request.criteria)
    pair_with_tool, pair_json = build_pair_prompt(pair, tool=True), build_pair_prompt(pair, tool=False)
    return {"system_with_tool": tool.system, "system_with_json": json_reply.system, "user": tool.user,
            "tool_schema": score_schema(request),
            "head_to_head": {"system_with_tool": pair_with_tool.system, "system_with_json": pair_json.system,
                             "user": pair_with_tool.user, "tool_schema": pair_tool().schema}}


def software() -> dict[str, str]:
    """This finale's version, the Python running it, and a digest of the rules' source files (finale/core)."""
    core = Path(finale.core.__file__).parent
    sha = hashlib.sha256()
    for path in sorted(core.glob("*.py")):
        sha.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return {"finale": finale.__version__, "python": platform.python_version(), "core_sha256": sha.hexdigest()}


def event_file_section(config: EventConfig, seal_key: bytes) -> dict[str, Any]:
    """The event file as sealed: every section, secrets scrubbed, the deck's secret fields committed."""
    data = config.model_dump(mode="json")
    data["questions"] = [{"id": q.id, "prompt": q.prompt,
                          "expected": commitment(seal_key, q.id, "expected", q.expected),
                          "check": commitment(seal_key, q.id, "check", q.check)} for q in config.questions]
    scrubbed: dict[str, Any] = scrub(data)
    return scrubbed


def settings_section(settings: Mapping[str, PromptSettings]) -> dict[str, Any]:
    """Each finalist's settings version at the seal, with what it holds (the system prompt by hash)."""
    return {fid: {"version": s.version, "temperature": s.temperature, "max_tokens": s.max_tokens,
                  "system_prompt_sha256": hashlib.sha256(s.system_prompt.encode()).hexdigest()}
            for fid, s in sorted(settings.items())}


def build_manifest(config: EventConfig, settings: Mapping[str, PromptSettings], seal_key: bytes) -> dict[str, Any]:
    """The manifest for this event file, these settings and this software (plain JSON data)."""
    return {
        "format": FORMAT,
        "event_file": event_file_section(config, seal_key),
        "tie_breaks": list(TIE_BREAKS),
        "judge_prompts": judge_prompts(config),
        "settings": settings_section(settings),
        "software": software(),
    }
