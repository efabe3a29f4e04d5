"""End-to-end tests against real OpenAI-compatible servers (``make test-peers``)."""
