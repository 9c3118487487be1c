"""Local servers on 127.0.0.1 that speak the real wire protocols the finale's endpoints use.

They let tests drive the real boto3 and httpx clients: AWS restJson / JSON 1.1 /
query protocols with SigV4-signed requests, AWS event-stream framing for the
streaming calls, and OpenAI-style server-sent events.
"""
