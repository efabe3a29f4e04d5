"""What the real openchat-ui server accepts, and how it fails (``pages/api/chat.ts``).

Every failure is ``500`` with body ``Error`` and the message in the reason
phrase; a bad body, an unknown model or non-string content all give the plain
``500 Internal Server Error``, as on the real build.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ChatCall", "Failure", "mask_key", "masked_headers", "parse_chat", "parse_models"]

INTERNAL = "Internal Server Error"
RESERVED_TOKENS = 768
"""openchat-ui keeps this many tokens of ``tokenLimit`` free for the reply."""


@dataclass(frozen=True)
class Failure:
    """A ``500`` (or other) answer with the message in the reason phrase."""

    reason: str = INTERNAL
    body: str = "Error"
    status: int = 500


@dataclass(frozen=True)
class ChatCall:
    """A checked ``/api/chat`` request, with the history the server keeps."""

    model_id: str
    messages: list[dict[str, str]]
    kept: list[dict[str, str]]
    prompt: str
    temperature: float | None
    key: str


def mask_key(key: str) -> str:
    """The key as OpenAI quotes it in errors: never whole."""
    return f"{key[:3]}***{key[-4:]}" if len(key) > 12 else "***"


_SECRET_HEADER = re.compile(r"auth|cookie|key|token|secret|session|password", re.IGNORECASE)
"""Header names whose values a ``repr`` masks: ``Authorization``, ``X-API-Key``..."""


def masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` for a ``repr``: a value under a credential-like name becomes ``***``."""
    return {k: "***" if _SECRET_HEADER.search(k) else v for k, v in headers.items()}


def _tokens(text: str) -> int:
    # openchat-ui counts with tiktoken; about four characters a token is close enough here.
    return len(text) // 4 + 1


def _check_key(key: object, api_keys: Collection[str] | None) -> Failure | None:
    if not isinstance(key, str):
        return Failure()
    if key and api_keys is not None and key not in api_keys:
        return Failure(f"Incorrect API key provided: {mask_key(key)}.")
    return None


def parse_chat(
    body: bytes, models: Collection[str], api_keys: Collection[str] | None
) -> ChatCall | Failure:
    """The checked chat request, or the ``Failure`` openchat-ui answers; never raises."""
    try:
        data: Any = json.loads(body)
        model = data["model"]
        messages = data["messages"]
        model_id = model["id"]
        token_limit = model["tokenLimit"]
    except (ValueError, TypeError, KeyError, RecursionError):  # RecursionError: [[[[...
        return Failure()
    if model_id not in models or not isinstance(token_limit, int) or not isinstance(messages, list):
        return Failure()
    if not all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages):
        return Failure()
    failure = _check_key(data.get("key", ""), api_keys)
    if failure is not None:
        return failure
    prompt = data.get("prompt") or ""
    temperature = data.get("temperature")
    if not isinstance(prompt, str) or not (
        temperature is None or isinstance(temperature, (int, float))
    ):
        return Failure()
    # Keep the newest messages that fit the token budget, silently dropping the rest.
    budget = token_limit - RESERVED_TOKENS - _tokens(prompt)
    kept: list[dict[str, str]] = []
    for message in reversed(messages):
        cost = _tokens(message["content"])
        if cost > budget:
            break
        budget -= cost
        kept.insert(0, message)
    return ChatCall(model_id, messages, kept, prompt, temperature, data.get("key", ""))


def parse_models(body: bytes, api_keys: Collection[str] | None) -> Failure | None:
    """``None`` if the models request is fine; a 401 from upstream is copied into a 500."""
    try:
        data: Any = json.loads(body)
        key = data.get("key", "")
    except (ValueError, AttributeError, RecursionError):
        return Failure()
    failure = _check_key(key, api_keys)
    if failure is not None:
        upstream = {
            "error": {
                "message": failure.reason,
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }
        return Failure(INTERNAL, json.dumps(upstream))
    return None
