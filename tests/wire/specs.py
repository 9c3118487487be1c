"""Endpoint specs pointing at the local wire servers, with short test timeouts."""

from __future__ import annotations

from typing import Any

from finale.config import BedrockEndpoint, OpenAIEndpoint, SageMakerEndpoint
from tests.wire.server import WireHTTPServer

DUMMY_KEY_ID = "AKIDFINALETESTONLY00"
DUMMY_SECRET = "finale-test-secret-not-a-real-key-0000"

def bedrock_spec(srv: WireHTTPServer, model_id: str, **kw: Any) -> BedrockEndpoint:
    kw.setdefault("max_attempts", 3)
    return BedrockEndpoint(kind="bedrock", model_id=model_id, region="us-east-1", endpoint_url=srv.url,
                           connect_timeout_s=2, **kw)


def sagemaker_spec(srv: WireHTTPServer, name: str, **kw: Any) -> SageMakerEndpoint:
    kw.setdefault("max_attempts", 3)
    return SageMakerEndpoint(kind="sagemaker", endpoint_name=name, region="us-east-1", endpoint_url=srv.url,
                             connect_timeout_s=2, **kw)


def openai_spec(srv: WireHTTPServer, model: str, **kw: Any) -> OpenAIEndpoint:
    kw.setdefault("max_attempts", 3)
    return OpenAIEndpoint(kind="openai", base_url=srv.url + "/v1", model=model, connect_timeout_s=2, **kw)
