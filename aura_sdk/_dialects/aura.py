"""openchat-ui's dialect: ``POST /api/chat``, the reply as plain UTF-8 text.

Every failure is a ``500`` whose reason phrase carries the upstream's message
(``aura-protocol.md``); the request and status logic live in ``_request`` and
``_status``, shared with the public ``chat_body``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._exceptions import AuraValidationError
from .._reply import Reply
from .._request import chat_request, models_request
from .._response import parse_models
from .._status import status_error
from .base import DROP, Dialect, DialectName

if TYPE_CHECKING:
    import httpx

    from .._config import ClientConfig
    from .._exceptions import APIError
    from .._messages import Message
    from .._models import Model
    from .._params import CheckedParams
    from .._request import RequestSpec

__all__ = ["AuraDialect"]

DEFAULT_MAX_TOKENS = 8192


class AuraDialect(Dialect):
    name: DialectName = "aura"
    chat_path = "/api/chat"
    # ``aura serve``'s address: with nothing set, ``aura serve`` in one terminal and
    # the SDK (or ``aura chat``) in another talk to each other.
    default_base_url = "http://127.0.0.1:8000"
    unreachable_hint = (
        ". Nothing answers at the default base_url (aura serve's address): run "
        "'aura serve', or set $AURA_BASE_URL or base_url= to your openchat-ui server"
    )
    base_url_suffixes = (
        (
            "/chat/completions",
            "an OpenAI-compatible endpoint: pass dialect='openai' and base_url={root_repr}",
        ),
        ("/api/chat", DROP),  # the SDK appends /api/chat itself
        ("/api/models", DROP),
        ("/api", DROP),
    )

    def chat_request(
        self, config: ClientConfig, messages: Sequence[Message], params: CheckedParams
    ) -> RequestSpec:
        extra = params.extensions()
        if extra:
            raise AuraValidationError(
                f"{extra[0]}: openchat-ui's request has no such field, so the aura dialect "
                "cannot send it; use dialect='openai' for a server that takes it"
            )
        return chat_request(
            config,
            messages,
            temperature=params.temperature,
            max_tokens=DEFAULT_MAX_TOKENS if params.max_tokens is None else params.max_tokens,
            system=params.system,
            model=params.model,
        )

    def reply(self, params: CheckedParams, max_bytes: int | None) -> Reply:
        return Reply(params.errors, max_bytes)

    def status_error(
        self,
        status: int,
        reason: str,
        body: str,
        *,
        response: httpx.Response | None,
        secret: str,
        retry_after: str | None,
        location: str | None,
        base_url: str,
    ) -> APIError:
        error = status_error(
            status,
            reason,
            body,
            response=response,
            secret=secret,
            retry_after=retry_after,
            location=location,
        )
        if status == 404 and base_url.rstrip("/").endswith("/v1"):
            error.args = (
                f"{error} (this base_url ends in /v1, as an OpenAI-compatible server's does: "
                "try dialect='openai')",
            )
        return error

    def models_request(self, config: ClientConfig) -> RequestSpec:
        return models_request(config)

    def parse_models(self, body: bytes, secret: str) -> list[Model]:
        return parse_models(body, secret)
