"""The httpx glue both facades share: requests in, errors out.

This is the only place where httpx exceptions are translated; the facades
catch ``TRANSPORT_ERRORS`` and hand them here, so none escapes a public call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from ._exceptions import APIConnectionError, APIStatusError, APITimeoutError, TimeoutLimit
from ._status import status_error

if TYPE_CHECKING:
    from ._reply import Reply
    from ._request import RequestSpec
    from ._timeouts import Budget

__all__ = [
    "TRANSPORT_ERRORS",
    "build_request",
    "connection_error",
    "error_from_response",
    "set_body_timeout",
]

TRANSPORT_ERRORS = (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL, OSError)
"""What httpx (or the socket under it) may raise while a request is under way."""

_PHASES: dict[type[httpx.TimeoutException], TimeoutLimit] = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "response",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


def build_request(
    http: httpx.Client | httpx.AsyncClient, spec: RequestSpec, budget: Budget
) -> httpx.Request:
    """The request, with the limits that apply until its status line arrives."""
    return http.build_request(
        spec.method,
        spec.url,
        headers=spec.headers,
        content=spec.content,
        timeout=httpx.Timeout(**budget.request()),
    )


def set_body_timeout(response: httpx.Response, budget: Budget) -> None:
    """Switch the read limit from "until the status line" to "between two chunks".

    httpcore takes the body's read timeout from the request's timeout extension
    when the body is first read, so setting it here, before that, is enough.
    """
    timeouts = response.request.extensions.get("timeout")
    if isinstance(timeouts, dict):
        timeouts["read"] = budget.body_read()


def connection_error(
    exc: BaseException, budget: Budget, reply: Reply | None = None
) -> APIConnectionError:
    """The SDK's error for a transport failure; mid-body (``reply`` given) it carries the text."""
    if isinstance(exc, httpx.TimeoutException):
        phase = _PHASES.get(type(exc), "read")
        if reply is not None and phase == "response":
            phase = "read"
        limit, seconds = budget.fired(phase)
        if reply is not None:
            return reply.timed_out(limit, seconds)
        after = "" if seconds is None else f" after {seconds:g}s"
        return APITimeoutError(f"{limit} timeout{after}", limit=limit, seconds=seconds)
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.DecodingError):
        detail = f"the body could not be decoded as its Content-Encoding says: {detail}"
    if reply is not None:
        return reply.interrupted(detail)
    return APIConnectionError(f"connection error: {detail}")


def reason_phrase(response: httpx.Response) -> str:
    """The reason phrase as sent: httpx's drops non-ASCII bytes, and it is our only detail."""
    raw = response.extensions.get("reason_phrase")
    if not isinstance(raw, bytes):
        return response.reason_phrase
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def error_from_response(response: httpx.Response, body: bytes, secret: str) -> APIStatusError:
    return status_error(
        response.status_code,
        reason_phrase(response),
        body.decode("utf-8", "replace"),
        response=response,
        secret=secret,
        retry_after=response.headers.get("retry-after"),
    )
