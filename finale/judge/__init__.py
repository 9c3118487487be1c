"""The LLM judge: rubric prompt, structured scores, retries, and its backends."""
