"""The OpenAI-compatible dialect: OpenChat's own server, vLLM, ollama, llama.cpp.

``POST {base_url}/chat/completions`` with ``stream: true``, the reply as
server-sent events (``openai_reply.py``), the key as a Bearer token, and
``GET {base_url}/models``. ``base_url`` ends in ``/v1``, as for openai-python.

What OpenChat's server does to clients (``openchat-protocol.md``), and the
answer here:

- it keeps only the last system message: all system text (``system=`` first)
  goes as one system message at the front;
- it answers ``null`` with a 500: a field with no value is left out;
- ``max_tokens`` past the context is a ``200`` with a JSON array: only sent
  when the caller gives it, and the array is read as the error it holds
  (``ContextLengthError``), never quoting the echoed prompt tokens;
- it ignores ``stop``: the reply enforces it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._exceptions import APIResponseValidationError, AuraValidationError
from .._models import KNOWN_MODELS, Model, resolve_model
from .._request import RequestSpec, encode_json, request_headers
from .._response import invalid_answer
from .._secrets import scrub
from .._status import phrase, redact, status_error
from .._validation import (
    MAX_JSON_INT,
    check_max_tokens,
    check_messages,
    has_userinfo,
    merge_headers,
)
from .base import DROP, Dialect, DialectName
from .openai_reply import EventReply

if TYPE_CHECKING:
    import httpx

    from .._config import ClientConfig
    from .._exceptions import APIError
    from .._messages import Message
    from .._params import CheckedParams

__all__ = ["OpenAIDialect", "chat_completion_body"]


def chat_completion_body(
    config: ClientConfig, messages: Sequence[Message], params: CheckedParams
) -> dict[str, Any]:
    """The body of ``POST /chat/completions``: no ``null`` anywhere, one system message."""
    checked = check_messages(messages)
    prompts = [] if params.system is None else [params.system]
    prompts.extend(m["content"] for m in checked if m["role"] == "system")
    sent: list[dict[str, str]] = (
        [{"role": "system", "content": "\n".join(prompts)}] if prompts else []
    )
    sent.extend(m for m in checked if m["role"] != "system")  # type: ignore[misc]
    model = resolve_model(config.model if params.model is None else params.model)
    body: dict[str, Any] = {"model": model.id, "messages": sent, "stream": True}
    if params.temperature is not None:
        body["temperature"] = params.temperature
    if params.max_tokens is not None:
        body["max_tokens"] = check_max_tokens(params.max_tokens, MAX_JSON_INT)
    if params.top_p is not None:
        body["top_p"] = params.top_p
    if params.seed is not None:
        body["seed"] = params.seed
    if params.stop:
        body["stop"] = list(params.stop)
    if params.condition is not None:
        body["condition"] = params.condition
    return body


class OpenAIDialect(Dialect):
    name: DialectName = "openai"
    chat_path = "/chat/completions"
    # ollama's: most people who run OpenChat on their own machine run it there.
    default_base_url = "http://127.0.0.1:11434/v1"
    unreachable_hint = (
        ". Nothing answers at the default base_url (ollama's address): start ollama "
        "('ollama serve'), or set $AURA_BASE_URL or base_url= to your server "
        "(OpenChat's own: 'http://127.0.0.1:18888/v1')"
    )
    base_url_suffixes = (
        ("/chat/completions", DROP),  # the SDK appends /chat/completions itself; /v1 stays
        (
            "/api/chat",
            "the chat endpoint of openchat-ui and of ollama's own API: for openchat-ui pass "
            "dialect='aura' and base_url={root_repr}; for ollama pass base_url='{root}/v1'",
        ),
        (
            "/completions",
            "the text-completions endpoint, which the SDK does not speak: pass the part "
            "before it, base_url={root_repr} (the SDK posts to its /chat/completions)",
        ),
    )

    def headers(self, config: ClientConfig) -> dict[str, str]:
        key = config.api_key
        if not key:
            return request_headers(config)
        if not key.isascii():
            raise AuraValidationError(
                "api_key: must be ASCII to be sent as a Bearer token (a character pasted "
                "from a document, such as a typographic quote?)"
            )
        if has_userinfo(config.base_url):
            # httpx turns URL userinfo into Basic auth, which would replace the
            # Bearer key without a word.
            raise AuraValidationError(
                "base_url: user info (user:password@) would be sent as Basic auth in place "
                "of the api_key's Bearer token: pass one of them (for a proxy's own "
                "authentication, proxy=)"
            )
        # The caller's own Authorization header, if any, wins (a gateway's, say).
        base = {"Authorization": f"Bearer {key}"}
        return merge_headers(merge_headers(request_headers(config), base), config.headers)

    def chat_request(
        self, config: ClientConfig, messages: Sequence[Message], params: CheckedParams
    ) -> RequestSpec:
        body = chat_completion_body(config, messages, params)
        return RequestSpec(
            method="POST",
            url=config.base_url + self.chat_path,
            headers=self.headers(config),
            content=encode_json(body),
        )

    def probe(self, spec: RequestSpec) -> RequestSpec | None:
        """The same conversation without streaming and with ``max_tokens: 1``.

        llama-cpp-python answers a streamed prompt over its context with an empty
        ``200``, and the same prompt unstreamed with its 400 (the SDK raises
        ``ContextLengthError`` with its message); one token keeps it cheap.
        """
        body = json.loads(spec.content)
        body["stream"] = False
        body["max_tokens"] = 1
        body.pop("stream_options", None)
        return RequestSpec(spec.method, spec.url, spec.headers, encode_json(body))

    def reply(self, params: CheckedParams, max_bytes: int | None) -> EventReply:
        return EventReply(params.errors, max_bytes, params.stop)

    def streams(self, content_type: str) -> bool:
        # OpenChat's overflow array (and any error a server puts in a 200) comes
        # as JSON; a reply is an event stream. Anything else is read as one too.
        return not content_type.lower().startswith("application/json")

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
        if 200 <= status < 300:
            return _error_in_success(status, reason, body, response, secret)
        error = status_error(
            status,
            reason,
            body,
            response=response,
            secret=secret,
            retry_after=retry_after,
            location=location,
        )
        if status == 404 and not base_url.rstrip("/").endswith("/v1"):
            error.args = (
                f"{error} (OpenAI-compatible servers serve under /v1: try base_url="
                f"'{_shown(base_url, secret)}/v1'; an openchat-ui server takes dialect='aura')",
            )
        return error

    def models_request(self, config: ClientConfig) -> RequestSpec:
        return RequestSpec("GET", config.base_url + "/models", self.headers(config), b"")

    def parse_models(self, body: bytes, secret: str) -> list[Model]:
        """``{"object": "list", "data": [{"id": ...}, ...]}`` as ``Model``s."""
        where = "GET /models"
        try:
            data = json.loads(body.decode("utf-8"))
        except RecursionError:
            raise invalid_answer(body, "JSON nested too deep", secret, where) from None
        except ValueError as exc:
            raise invalid_answer(body, f"not JSON ({exc})", secret, where) from None
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise invalid_answer(body, "expected an object with a 'data' list", secret, where)
        models: list[Model] = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise invalid_answer(body, f"item {index} has no string 'id'", secret, where)
            known = KNOWN_MODELS.get(item["id"])
            try:
                models.append(known if known is not None else Model(item["id"]))
            except AuraValidationError as exc:  # an empty id: the server's fault
                raise invalid_answer(body, f"item {index}: {exc}", secret, where) from None
        return models


def _shown(base_url: str, secret: str) -> str:
    from .._secrets import mask_url

    return redact(mask_url(base_url), secret)


def _error_in_success(
    status: int, reason: str, body: str, response: httpx.Response | None, secret: str
) -> APIError:
    """A ``200`` that is no event stream: an error inside it, or an answer that makes no sense.

    OpenChat's overflow is ``[[prompt token ids...], {"status_code": 400, "body":
    "<the real error>"}]``: only the inner body is kept, never the token ids.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        data = None
    if (
        isinstance(data, list)
        and len(data) == 2
        and isinstance(data[1], dict)
        and isinstance(data[1].get("body"), str)
    ):
        inner = data[1]
        code = inner.get("status_code")
        inner_status = code if isinstance(code, int) and 400 <= code <= 599 else 400
        return status_error(
            inner_status,
            phrase(inner_status),
            inner["body"],
            response=response,
            secret=secret,
        )
    if isinstance(data, dict) and ("error" in data or data.get("object") == "error"):
        code = data.get("code")
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), int):
            code = error["code"]
        inner_status = code if isinstance(code, int) and 400 <= code <= 599 else 500
        return status_error(
            inner_status, phrase(inner_status), body, response=response, secret=secret
        )
    if body.lstrip().startswith("[["):
        # The start of OpenChat's overflow array, cut short: the user's prompt as
        # token ids, which no message repeats.
        return APIResponseValidationError(
            f"expected an event stream, got a {status} JSON array too long to read whole "
            "(OpenChat's answer to a context overflow?): raise max_response_bytes to see "
            "the error inside it"
        )
    sample = scrub(redact(body[:200], secret))
    return APIResponseValidationError(
        f"expected an event stream (the request asked for stream: true), got a {status} "
        f"{reason} JSON answer: {sample!r}",
        body=sample,
    )
