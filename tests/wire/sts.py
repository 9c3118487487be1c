"""STS GetCallerIdentity (AWS query protocol: form-encoded request, XML response)."""

from __future__ import annotations

from urllib.parse import parse_qs

from tests.wire.sagemaker import ACCOUNT
from tests.wire.server import WireHandler

ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/FinaleCrew/stage-laptop"


def handle(h: WireHandler, body: bytes) -> None:
    if not h.signed_by("sts"):
        return
    form = parse_qs(body.decode("utf-8"))
    h.script.take("sts", h.record(body))
    if form.get("Action") != ["GetCallerIdentity"]:
        h.send_body(400, b"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>"
                         b"<Message>unsupported action</Message></Error></ErrorResponse>", "text/xml")
        return
    xml = (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<GetCallerIdentityResult><Arn>{ARN}</Arn><UserId>AROAEXAMPLEID:stage-laptop</UserId>"
        f"<Account>{ACCOUNT}</Account></GetCallerIdentityResult>"
        "<ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000001</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )
    h.send_body(200, xml.encode("utf-8"), "text/xml")
