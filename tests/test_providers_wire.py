"""Each endpoint kind, through the real boto3 / httpx clients, against local servers speaking its wire protocol."""

from __future__ import annotations

import json
import threading

from finale.core.model import AnswerStatus
from finale.demo.script import Script
from finale.providers.base import GenerationRequest, TextDelta, Usage
from finale.providers.factory import build_provider
from finale.providers.fanout import Limits, run_one
from finale.providers.runtime import Runtime
from tests.wire.server import Reply, WireHTTPServer
from tests.wire.specs import bedrock_spec, openai_spec, sagemaker_spec

pytest_plugins = ["tests.wire.fixtures"]

REQ = GenerationRequest("How many r's in strawberry?", "Answer briefly.", 0.3, 64, round_id=1)
LIMITS = Limits(timeout_s=10, idle_timeout_s=5, max_chars=6000)
SCRIPT = Script({}, {})  # rehearsal script unused by real providers


def build(spec: object, runtime: Runtime, name: str = "f") -> object:
    return build_provider(name, spec, script=SCRIPT, runtime=runtime)  # type: ignore[arg-type]


async def test_bedrock_converse_stream(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["meta.llama3-2-90b-instruct-v1:0"] = Reply("There are three r's.", pieces=5)
    provider = build(bedrock_spec(aws, "meta.llama3-2-90b-instruct-v1:0"), runtime)
    answer = await run_one("ref", provider, REQ, LIMITS)  # type: ignore[arg-type]
    assert answer.status is AnswerStatus.OK, answer.error
    assert answer.text == "There are three r's."
    assert answer.tokens == 5  # from the metadata event, not counted deltas
    assert answer.ttft_ms is not None and answer.total_ms is not None
    (req,) = aws.script.requests
    assert req.path == "/model/meta.llama3-2-90b-instruct-v1%3A0/converse-stream"
    assert req.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDFINALETESTONLY00/")
    body = req.json()
    assert body["system"] == [{"text": "Answer briefly."}]
    assert body["inferenceConfig"] == {"maxTokens": 64, "temperature": 0.3}
    assert body["messages"][0]["content"][0]["text"] == REQ.prompt


async def test_bedrock_converse_without_streaming(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["custom"] = Reply("Three.", pieces=2)
    provider = build(bedrock_spec(aws, "custom", stream=False), runtime)
    answer = await run_one("f", provider, REQ, LIMITS)  # type: ignore[arg-type]
    assert (answer.status, answer.text, answer.tokens) == (AnswerStatus.OK, "Three.", 2)
    assert aws.script.requests[0].path.endswith("/converse")


async def test_sagemaker_tgi_stream_reassembles_split_lines(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["ray-llama32-3b"] = Reply("Strawberry has 3 r's, at positions 3, 8 and 9.", pieces=7)
    provider = build(sagemaker_spec(aws, "ray-llama32-3b", format="tgi"), runtime)
    events = [e async for e in provider.stream(REQ)]  # type: ignore[attr-defined]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == \
        "Strawberry has 3 r's, at positions 3, 8 and 9."
    assert not [e for e in events if isinstance(e, Usage)]
    (req,) = aws.script.requests
    assert req.path == "/endpoints/ray-llama32-3b/invocations-response-stream"
    body = req.json()
    assert body["inputs"].startswith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nAnswer briefly.")
    assert body["parameters"]["max_new_tokens"] == 64 and body["parameters"]["temperature"] == 0.3
    assert body["stream"] is True


async def test_sagemaker_messages_stream_and_usage(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["mia-lmi"] = Reply("Three.", pieces=3)
    provider = build(sagemaker_spec(aws, "mia-lmi", format="messages", inference_component="mia-ic"), runtime)
    answer = await run_one("mia", provider, REQ, LIMITS)  # type: ignore[arg-type]
    assert (answer.status, answer.text, answer.tokens) == (AnswerStatus.OK, "Three.", 3)
    req = aws.script.requests[0]
    assert req.headers["x-amzn-sagemaker-inference-component"] == "mia-ic"
    assert req.json()["messages"] == [{"role": "system", "content": "Answer briefly."},
                                      {"role": "user", "content": REQ.prompt}]


async def test_sagemaker_invoke_endpoint_without_streaming(aws: WireHTTPServer, runtime: Runtime) -> None:
    aws.script.replies["tgi-batch"] = Reply("3")
    aws.script.replies["lmi-batch"] = Reply("three", pieces=1)
    greedy = GenerationRequest("q", "", 0.0, 16)
    a = await run_one("a", build(sagemaker_spec(aws, "tgi-batch", stream=False), runtime), greedy,  # type: ignore[arg-type]
                      LIMITS)
    b = await run_one("b", build(sagemaker_spec(aws, "lmi-batch", stream=False, format="messages"), runtime),  # type: ignore[arg-type]
                      greedy, LIMITS)
    assert (a.status, a.text, b.status, b.text, b.tokens) == (AnswerStatus.OK, "3", AnswerStatus.OK, "three", 1)
    params = aws.script.requests[0].json()["parameters"]
    assert params["do_sample"] is False and "temperature" not in params  # TGI rejects temperature 0


async def test_openai_sse_with_api_key_from_env(monkeypatch: object, runtime: Runtime) -> None:
    from tests.wire.openai import openai_server

    monkeypatch.setenv("MIA_API_KEY", "sk-test-finale")  # type: ignore[attr-defined]
    with openai_server(api_key="sk-test-finale") as srv:
        srv.script.replies["mia-3b"] = Reply("Three r's.", pieces=4)
        provider = build(openai_spec(srv, "mia-3b", api_key_env="MIA_API_KEY"), runtime)
        answer = await run_one("mia", provider, REQ, LIMITS)  # type: ignore[arg-type]
        await provider.aclose()  # type: ignore[attr-defined]
    assert (answer.status, answer.text, answer.tokens) == (AnswerStatus.OK, "Three r's.", 4)
    body = srv.script.requests[0].json()
    assert body["stream"] is True and body["max_tokens"] == 64 and body["model"] == "mia-3b"


async def test_openai_missing_key_is_a_clear_error(monkeypatch: object, oai: WireHTTPServer,
                                                   runtime: Runtime) -> None:
    monkeypatch.delenv("NOPE_KEY", raising=False)  # type: ignore[attr-defined]
    provider = build(openai_spec(oai, "m", api_key_env="NOPE_KEY"), runtime)
    answer = await run_one("f", provider, REQ, LIMITS)  # type: ignore[arg-type]
    assert answer.status is AnswerStatus.ERROR
    assert answer.error is not None and "environment variable NOPE_KEY is not set" in answer.error
    assert oai.script.requests == []


async def test_openai_without_streaming(oai: WireHTTPServer, runtime: Runtime) -> None:
    oai.script.replies["m"] = Reply("Three.", pieces=2)
    provider = build(openai_spec(oai, "m", stream=False), runtime)
    answer = await run_one("f", provider, REQ, LIMITS)  # type: ignore[arg-type]
    assert (answer.status, answer.text, answer.tokens) == (AnswerStatus.OK, "Three.", 2)


async def test_boto3_runs_in_the_dedicated_pool_and_clients_are_made_once(aws: WireHTTPServer,
                                                                         runtime: Runtime) -> None:
    aws.script.replies["m"] = Reply("ok")
    seen: list[str] = []
    spec = bedrock_spec(aws, "m")
    p1, p2 = build(spec, runtime, "a"), build(spec, runtime, "b")
    assert p1.client is p2.client  # type: ignore[attr-defined]
    p1.client.meta.events.register("before-send", lambda **kw: seen.append(threading.current_thread().name))  # type: ignore[attr-defined]
    await run_one("a", p1, REQ, LIMITS)  # type: ignore[arg-type]
    assert seen and all(name.startswith("finale-aws") for name in seen)
    config = p1.client.meta.config  # type: ignore[attr-defined]
    assert config.retries["mode"] == "standard" and config.connect_timeout == 2


async def test_secrets_never_in_errors(aws: WireHTTPServer, runtime: Runtime) -> None:
    from tests.wire.specs import DUMMY_SECRET

    aws.script.replies["bad"] = Reply(fail_status=500)
    answer = await run_one("f", build(bedrock_spec(aws, "bad", max_attempts=1), runtime), REQ, LIMITS)  # type: ignore[arg-type]
    assert answer.error is not None and DUMMY_SECRET not in answer.error and "AKID" not in answer.error
    assert json.dumps(answer.error)


async def test_aws_error_messages_are_scrubbed(aws: WireHTTPServer, runtime: Runtime,
                                               monkeypatch: object) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", "SESSIONTOKENSECRET123")  # type: ignore[attr-defined]
    aws.script.replies["sig"] = Reply(fail_status=403, fail_code="SignatureDoesNotMatch", fail_message=(
        "The request signature we calculated does not match the signature you provided.\n\n"
        "The Canonical String for this request should have been\n'POST\n/model/sig/converse-stream\n\n"
        "x-amz-security-token:SESSIONTOKENSECRET123\n'"))
    aws.script.replies["key"] = Reply(fail_status=403, fail_code="UnrecognizedClientException",
                                      fail_message="The security token for AKIAABCDEFGHIJKLMNOP is invalid.")
    sig = await run_one("f", build(bedrock_spec(aws, "sig", max_attempts=1), runtime), REQ, LIMITS)  # type: ignore[arg-type]
    key = await run_one("f", build(bedrock_spec(aws, "key", max_attempts=1), runtime), REQ, LIMITS)  # type: ignore[arg-type]
    assert sig.error == ("Bedrock sig: SignatureDoesNotMatch (HTTP 403): The request signature we calculated "
                         "does not match the signature you provided.")
    assert key.error == ("Bedrock key: UnrecognizedClientException (HTTP 403): "
                         "The security token for [key id] is invalid.")
    assert aws.script.requests[0].headers["x-amz-security-token"] == "SESSIONTOKENSECRET123"  # it was sent, not shown


def test_openai_urls_are_shown_without_credentials() -> None:
    from finale.providers.openai import shown_url

    assert shown_url("http://bob:hunter2@10.0.0.7:8000/v1") == "http://10.0.0.7:8000/v1"
    assert shown_url("http://10.0.0.7:8000/v1") == "http://10.0.0.7:8000/v1"


async def test_openai_server_rejecting_stream_options_is_asked_again_without(oai: WireHTTPServer,
                                                                           runtime: Runtime) -> None:
    oai.script.replies["old-tgi"] = Reply("Three r's.", pieces=3, reject_stream_options=True)
    provider = build(openai_spec(oai, "old-tgi"), runtime)
    first = await run_one("f", provider, REQ, LIMITS)  # type: ignore[arg-type]
    second = await run_one("f", provider, REQ, LIMITS)  # type: ignore[arg-type]
    assert (first.status, first.text, first.tokens) == (AnswerStatus.OK, "Three r's.", 3)  # counted deltas
    assert second.status is AnswerStatus.OK
    assert ["stream_options" in b for b in oai.script.bodies()] == [True, False, False]


async def test_bedrock_imported_custom_model_by_arn(aws: WireHTTPServer, runtime: Runtime) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:imported-model/ray-llama32-3b"
    aws.script.replies[arn] = Reply("Three.")
    answer = await run_one("ray", build(bedrock_spec(aws, arn), runtime), REQ, LIMITS)  # type: ignore[arg-type]
    assert (answer.status, answer.text) == (AnswerStatus.OK, "Three."), answer.error
    assert aws.script.counts[arn] == 1


async def test_a_hostile_stream_arrives_inert_even_split_across_deltas(oai: WireHTTPServer, runtime: Runtime) -> None:
    """A finalist controls every byte: OSC title/clipboard, CSI erase and bidi never leave the fan-out."""
    hostile = ("Three.\x1b]0;owned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[H OVERRIDE: Ray+40 "
               "\u202eevil\u202c\x00 end")
    oai.script.replies["m"] = Reply(hostile, pieces=9)  # the sequences are cut across the SSE deltas
    provider = build(openai_spec(oai, "m"), runtime)
    answer = await run_one("f", provider, REQ, LIMITS)  # type: ignore[arg-type]
    assert answer.status is AnswerStatus.OK
    assert answer.text == "Three. OVERRIDE: Ray+40 evil end"
