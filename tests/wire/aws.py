"""One local AWS endpoint serving Bedrock runtime, SageMaker (runtime and control plane) and STS.

Requests are routed the way the protocols differ: restJson1 paths
(`/model/...`, `/endpoints/...`), a JSON 1.1 `X-Amz-Target`, or a query-protocol
form body.
"""

from __future__ import annotations

from tests.wire import bedrock, sagemaker, sts
from tests.wire.server import Script, WireHandler, WireHTTPServer


class AwsHandler(WireHandler):
    def do_POST(self) -> None:
        body = self.read_body()
        target = self.headers.get("X-Amz-Target", "")
        if self.path.startswith("/model/"):
            bedrock.handle(self, body)
        elif self.path.startswith("/endpoints/"):
            sagemaker.handle_runtime(self, body)
        elif target == "SageMaker.DescribeEndpoint":
            sagemaker.describe_endpoint(self, body)
        elif body.startswith(b"Action="):
            sts.handle(self, body)
        else:
            self.send_json(404, {"message": f"no such route: {self.path} {target}"},
                           {"x-amzn-ErrorType": "UnknownOperationException"})


def aws_server(script: Script | None = None) -> WireHTTPServer:
    """A started-on-enter server; use as `with aws_server() as srv: ... srv.url`."""
    return WireHTTPServer(AwsHandler, script)
