"""Where an error status, its reason phrase and its body become an exception.

openchat-ui answers *every* failure with ``500`` and body ``Error``; the only
detail is the HTTP reason phrase, which carries the upstream's message
(``500 Rate limit reached for requests``). Other deployments send real statuses.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import TYPE_CHECKING

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
    "ERROR_BODY_LIMIT",
    "error_body_limit",
    "error_message",
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

_RATE_LIMIT = re.compile(r"rate[ _-]?limit|too many requests|quota", re.IGNORECASE)
_AUTH = re.compile(
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


_CONTEXT = re.compile(
    r"context[ _-]?(?:length|window|size)|maximum context|prompt is too long|"
    r"too many tokens|reduce the length of the messages|"
    # OpenChat's server without max_tokens: the prompt left no room ("got -51809").
    r"max_tokens must be at least 1, got -\d",
    re.IGNORECASE,
)


def _class_for(status: int, detail: str) -> type[APIStatusError]:
    if status == 400 and _CONTEXT.search(detail):
        return ContextLengthError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status == 500 and _RATE_LIMIT.search(detail):
        return RateLimitError
    if status == 500 and _AUTH.search(detail):
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
    return cls(
        message, status_code=status, reason=reason, body=body, response=response, retry_after=wait
    )
