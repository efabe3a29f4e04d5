"""Where an error status, its reason phrase and its body become an exception.

openchat-ui answers *every* failure with ``500`` and body ``Error``; the only
detail is the HTTP reason phrase, which carries the upstream's message
(``500 Rate limit reached for requests``). Other deployments send real statuses.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContextLengthError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    UnprocessableEntityError,
)
from ._retry_after import parse_retry_after
from ._secrets import scrub

if TYPE_CHECKING:
    import httpx

__all__ = [
    "AUTH",
    "CONTEXT",
    "ERROR_BODY_LIMIT",
    "RATE_LIMIT",
    "context_numbers",
    "error_body_limit",
    "error_message",
    "event_status",
    "mask_url",
    "phrase",
    "redact",
    "status_error",
]

ERROR_BODY_LIMIT = 64 * 1024
"""At most this much of an error body is read and kept (as received and as decoded)."""


def error_body_limit(max_response_bytes: int | None) -> int:
    """How much of an error body to read: ``ERROR_BODY_LIMIT``, or less if the client's cap is."""
    return (
        ERROR_BODY_LIMIT
        if max_response_bytes is None
        else min(ERROR_BODY_LIMIT, max_response_bytes)
    )


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

RATE_LIMIT = re.compile(r"rate[ _-]?limit|too many requests|quota", re.IGNORECASE)
AUTH = re.compile(
    r"api[ _-]?key|unauthori[sz]ed|authenticat|invalid[ _-]key|incorrect[ _-]key", re.IGNORECASE
)


def redact(text: str, secret: str) -> str:
    """``text`` with every occurrence of ``secret`` (the API key) masked."""
    return text.replace(secret, "***") if secret else text


# ``scheme://user:password@`` (or a bare ``//user@``): the userinfo of a URL.
_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)[^/?#]*@")
_LOCATION_LIMIT = 300


def mask_url(url: str, secret: str = "") -> str:
    """``url`` fit for a message: userinfo masked as ``***@``, the key masked, kept short.

    >>> mask_url("https://bob:hunter2@example.com/api?k=1")
    'https://***@example.com/api?k=1'
    """
    url = _USERINFO.sub(r"\1***@", redact(url.strip(), secret))
    url = "".join(c if c.isprintable() else "?" for c in url)
    return url if len(url) <= _LOCATION_LIMIT else url[: _LOCATION_LIMIT - 3] + "..."


def error_message(body: str) -> str | None:
    """The server's own message in a JSON error body, in any of the shapes servers use.

    OpenAI's and vLLM's ``{"error": {"message": ...}}``, vLLM's 401
    ``{"error": "Unauthorized"}``, OpenChat's (and old vLLM's) flat
    ``{"object": "error", "message": ...}``, FastAPI's ``{"detail": ...}`` and
    OpenChat's 401 ``{"detail": {"error": {"message": "", "code": "invalid_api_key"}}}``
    (an empty message: the code says it).

    >>> error_message('{"error": {"message": "quota"}}'), error_message("[" * 100000)
    ('quota', None)
    >>> error_message('{"detail": {"error": {"message": "", "code": "invalid_api_key"}}}')
    'invalid API key'
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
        return None
    return _message_in(data, 0)


_CODE_MESSAGES = {"invalid_api_key": "invalid API key"}


def _message_in(data: object, depth: int) -> str | None:
    if not isinstance(data, dict) or depth > 3:
        return None
    for key in ("error", "detail"):
        inner = data.get(key)
        if isinstance(inner, str) and inner:
            return inner
        found = _message_in(inner, depth + 1)
        if found:
            return found
    message = data.get("message")
    if isinstance(message, str) and message:
        return message
    code = data.get("code")
    if isinstance(code, str) and code:
        return _CODE_MESSAGES.get(code, code)
    return None


def phrase(status: int) -> str:
    """The standard reason phrase of ``status`` (``"Error"`` for one with none)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


CONTEXT = re.compile(
    r"context[ _-]?(?:length|window|size)|maximum context|prompt is too long|"
    r"too many tokens|reduce the length of the messages|"
    # OpenChat's server without max_tokens: the prompt left no room ("got -51809").
    r"max_tokens must be at least 1, got -\d",
    re.IGNORECASE,
)


# An error's ``type`` or ``code`` string, as servers name them, and the status it means.
_KINDS: dict[str, int] = {
    # context overflow (OpenAI, vLLM, llama.cpp's llama-server)
    "context_length_exceeded": 400,
    "exceed_context_size_error": 400,
    "context_window_exceeded": 400,
    # rate limits (OpenAI, Anthropic, litellm)
    "rate_limit_exceeded": 429,
    "rate_limit_error": 429,
    "too_many_requests": 429,
    "insufficient_quota": 429,
    # overload (Anthropic's overloaded_error, vLLM's, SGLang's)
    "overloaded_error": 503,
    "overloaded": 503,
    "server_overloaded": 503,
    "service_unavailable": 503,
    "unavailable_error": 503,
    # authentication
    "authentication_error": 401,
    "invalid_api_key": 401,
    "unauthorized": 401,
    "permission_error": 403,
    "permission_denied": 403,
    "not_found_error": 404,
    "model_not_found": 404,
    "invalid_request_error": 400,
}
_CONTEXT_KINDS = frozenset(
    ("context_length_exceeded", "exceed_context_size_error", "context_window_exceeded")
)
_OVERLOAD = re.compile(
    r"overload|capacity|try again later|temporarily unavailable|server is busy", re.IGNORECASE
)


def event_status(error: dict[str, Any], message: str) -> tuple[int, bool]:
    """The HTTP status an error event stands for, and whether it is a context overflow.

    A ``type``/``code`` name first (more specific than a number: llama.cpp sent
    its overflow with code 500 at first), then a ``code`` that is a status, then
    the message, as for a status error's reason phrase.
    """
    names = [v.lower() for v in (error.get("type"), error.get("code")) if isinstance(v, str)]
    for name in names:
        if name in _CONTEXT_KINDS:
            return 400, True
    for name in names:
        status = _KINDS.get(name)
        if status is not None and status != 400:
            return status, False
    code = error.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        return code, False
    if "invalid_request_error" in names:
        return 400, False
    if CONTEXT.search(message):
        return 400, True
    if RATE_LIMIT.search(message):
        return 429, False
    if _OVERLOAD.search(message):
        return 503, False
    if AUTH.search(message):
        return 401, False
    return 500, False


def context_numbers(error: dict[str, Any]) -> tuple[int | None, int | None]:
    """llama.cpp's ``n_prompt_tokens`` and ``n_ctx`` in an error object, if there."""
    found = []
    for name in ("n_prompt_tokens", "n_ctx"):
        value = error.get(name)
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        found.append(value if ok else None)
    return found[0], found[1]


def _class_for(status: int, detail: str) -> type[APIStatusError]:
    if status == 400 and CONTEXT.search(detail):
        return ContextLengthError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status == 500 and RATE_LIMIT.search(detail):
        return RateLimitError
    if status == 500 and AUTH.search(detail):
        return AuthenticationError
    if status >= 500:
        return InternalServerError
    return APIStatusError


def status_error(
    status: int,
    reason: str,
    body: str,
    *,
    response: httpx.Response | None = None,
    secret: str = "",
    retry_after: str | None = None,
    location: str | None = None,
) -> APIStatusError:
    """The exception for an error answer; its message shows the reason phrase.

    A 3xx is an error too (the SDK never sends the prompt elsewhere): a plain
    ``APIStatusError`` whose message names its ``location``, masked.

    >>> str(status_error(500, "Rate limit reached for requests", "Error"))
    '500 Rate limit reached for requests'
    >>> type(status_error(500, "Incorrect API key provided: sk-***.", "Error")).__name__
    'AuthenticationError'
    """
    reason = redact(reason, secret)
    body = redact(body[:ERROR_BODY_LIMIT], secret)
    upstream = error_message(body)
    if upstream is not None:  # JSON escapes undone: a secret may show only now
        upstream = scrub(redact(upstream, secret))
    detail = reason if upstream is None else f"{reason} {upstream}"
    message = f"{status} {reason}".rstrip()
    if upstream is not None and upstream not in reason:
        message += f": {upstream}"
    elif body and body != "Error" and upstream is None and len(body) <= 200 and body not in reason:
        message += f": {body.strip()}"
    if 300 <= status < 400:
        where = "" if location is None else f" to {mask_url(location, secret)}"
        message += f" (a redirect{where}; the SDK does not follow redirects: check base_url)"
    wait = parse_retry_after(retry_after)
    if wait is not None:
        message += f" (the server asked to wait {wait:g}s)"
    cls = _class_for(status, detail)
    inner = _error_object(body) if status >= 400 else None
    if inner is not None and status in (400, 413, 500) and _names_context(inner):
        cls = ContextLengthError  # llama.cpp's exceed_context_size_error, once sent as a 500
    error = cls(
        message, status_code=status, reason=reason, body=body, response=response, retry_after=wait
    )
    if isinstance(error, ContextLengthError) and inner is not None:
        error.n_prompt_tokens, error.n_ctx = context_numbers(inner)
    return error


def _error_object(body: str) -> dict[str, Any] | None:
    """The error object of a JSON error body: ``{"error": {...}}``'s inner one, or the body."""
    if not body.startswith("{"):
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    inner = data.get("error")
    return inner if isinstance(inner, dict) else data


def _names_context(error: dict[str, Any]) -> bool:
    return any(
        isinstance(v, str) and v.lower() in _CONTEXT_KINDS
        for v in (error.get("type"), error.get("code"))
    )
