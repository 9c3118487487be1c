"""Finalist endpoints: one streaming interface over SageMaker, Bedrock, OpenAI-compatible and rehearsal."""
