"""Pytest fixtures for wire tests: dummy AWS credentials, the local servers, a show runtime.

Load them in a test module (`pytest_plugins = ["tests.wire.fixtures"]`).
The credentials are dummies set in the environment for boto3's standard chain;
no real profile, SSO cache or instance metadata is consulted.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from finale.config import GenerationSection
from finale.providers.aws import AwsPool
from finale.providers.runtime import Runtime
from tests.wire.aws import aws_server
from tests.wire.openai import openai_server
from tests.wire.server import WireHTTPServer
from tests.wire.specs import DUMMY_KEY_ID, DUMMY_SECRET


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def aws(aws_env: None) -> Iterator[WireHTTPServer]:
    with aws_server() as srv:
        yield srv


@pytest.fixture
def oai() -> Iterator[WireHTTPServer]:
    with openai_server() as srv:
        yield srv


@pytest.fixture
async def runtime() -> AsyncIterator[Runtime]:
    rt = Runtime(AwsPool(10), GenerationSection(timeout_s=20, idle_timeout_s=5))
    yield rt
    await rt.aclose()
