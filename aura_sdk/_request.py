"""Where the request payloads are built: the exact bodies openchat-ui expects."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._config import ClientConfig
from ._content import accept_encoding
from ._messages import Message
from ._models import Model, resolve_model
from ._validation import (
    check_api_key,
    check_max_tokens,
    check_messages,
    check_model_id,
    check_system,
    check_temperature,
    merge_headers,
    redact_url,
)

__all__ = ["RequestSpec", "chat_body", "chat_request", "models_request", "request_headers"]

_JSON_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "*/*",
    # Only what the SDK can decode in bounded memory (httpx would offer zstd too).
    "Accept-Encoding": accept_encoding(),
}


@dataclass(frozen=True)
class RequestSpec:
    """A request ready to be sent by any transport. Its repr leaves out the body,
    which holds the API key."""

    __slots__ = ("content", "headers", "method", "url")

    method: str
    url: str
    headers: dict[str, str]
    content: bytes

    def __repr__(self) -> str:
        url = redact_url(self.url)
        return (
            f"RequestSpec(method={self.method!r}, url={url!r}, content=<{len(self.content)} bytes>)"
        )


def chat_body(
    messages: Sequence[Message],
    *,
    model: str | Model,
    api_key: str = "",
    temperature: float | None = 0.5,
    max_tokens: int = 8192,
    system: str | None = None,
) -> dict[str, Any]:
    """The body of ``POST /api/chat``, checked, exactly as the seed provider built it.

    System messages leave ``messages`` and are joined with ``"\\n"`` into
    ``prompt`` (after ``system``, if given); ``max_tokens`` is sent as the
    model's ``tokenLimit``, ``api_key`` as ``key`` (``""``: the server's own),
    ``temperature`` as it is (``None``: JSON ``null``). ``model`` is an id or a
    ``Model``.
    """
    if not isinstance(model, Model):
        check_model_id(model)
    descriptor = resolve_model(model)
    checked = check_messages(messages)
    prompts = [] if system is None else [check_system(system)]
    prompts.extend(m["content"] for m in checked if m["role"] == "system")
    return {
        "model": descriptor.descriptor(check_max_tokens(max_tokens, descriptor.max_length)),
        "messages": [m for m in checked if m["role"] != "system"],
        "key": check_api_key(api_key),
        "prompt": "\n".join(prompts),
        "temperature": check_temperature(temperature),
    }


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
"""Made once: ``json.dumps`` with options builds a new encoder on every call."""


def encode_json(body: dict[str, Any]) -> bytes:
    return _ENCODER.encode(body).encode()


def request_headers(config: ClientConfig) -> dict[str, str]:
    """The headers of every request: JSON, the user agent, the user's extra headers."""
    return merge_headers(_JSON_HEADERS, config.headers)


def _post(config: ClientConfig, path: str, body: dict[str, Any]) -> RequestSpec:
    return RequestSpec(
        method="POST",
        url=config.base_url + path,
        headers=request_headers(config),
        content=encode_json(body),
    )


def chat_request(
    config: ClientConfig,
    messages: Sequence[Message],
    *,
    temperature: float | None,
    max_tokens: int,
    system: str | None,
    model: str | Model | None = None,
) -> RequestSpec:
    """``POST /api/chat`` for this client's configuration."""
    body = chat_body(
        messages,
        model=config.model if model is None else model,
        api_key=config.api_key,
        temperature=temperature,
        max_tokens=max_tokens,
        system=system,
    )
    return _post(config, "/api/chat", body)


def models_request(config: ClientConfig) -> RequestSpec:
    """``POST /api/models``."""
    return _post(config, "/api/models", {"key": config.api_key})
