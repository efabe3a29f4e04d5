"""The httpx glue both facades share: requests in, errors out.

This is the only place where httpx exceptions are translated; the facades
catch ``TRANSPORT_ERRORS`` and hand them here, so none escapes a public call.
"""

from __future__ import annotations

import httpx

from ._config import Timeout
from ._exceptions import APIConnectionError, APIStatusError, APITimeoutError, TimeoutLimit
from ._reply import Reply
from ._request import RequestSpec
from ._status import status_error

__all__ = ["TRANSPORT_ERRORS", "build_request", "connection_error", "error_from_response"]

TRANSPORT_ERRORS = (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL, OSError)
"""What httpx (or the socket under it) may raise while a request is under way."""

_LIMITS: dict[type[httpx.TimeoutException], TimeoutLimit] = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


def to_httpx_timeout(timeout: Timeout) -> httpx.Timeout:
    return httpx.Timeout(
        connect=timeout.connect, read=timeout.read, write=timeout.write, pool=timeout.pool
    )


def build_request(
    http: httpx.Client | httpx.AsyncClient, spec: RequestSpec, timeout: Timeout
) -> httpx.Request:
    return http.build_request(
        spec.method,
        spec.url,
        headers=spec.headers,
        content=spec.content,
        timeout=to_httpx_timeout(timeout),
    )


def connection_error(
    exc: BaseException, timeout: Timeout, reply: Reply | None = None
) -> APIConnectionError:
    """The SDK's error for a transport failure; mid-body (``reply`` given) it carries the text."""
    if isinstance(exc, httpx.TimeoutException):
        limit = _LIMITS.get(type(exc), "read")
        seconds: float | None = getattr(timeout, limit)
        if reply is not None:
            return reply.timed_out(limit, seconds)
        after = "" if seconds is None else f" after {seconds:g}s"
        return APITimeoutError(f"{limit} timeout{after}", limit=limit, seconds=seconds)
    detail = str(exc) or type(exc).__name__
    if reply is not None:
        return reply.interrupted(detail)
    return APIConnectionError(f"connection error: {detail}")


def error_from_response(response: httpx.Response, body: bytes, secret: str) -> APIStatusError:
    return status_error(
        response.status_code,
        response.reason_phrase,
        body.decode("utf-8", "replace"),
        response=response,
        secret=secret,
    )
