"""The httpx glue both facades share: requests in, errors out.

This is the only place where httpx exceptions are translated; the facades
catch ``TRANSPORT_ERRORS`` and hand them here, so none escapes a public call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

import httpx

from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuraValidationError,
    TimeoutLimit,
)
from ._request import request_headers
from ._status import status_error
from ._validation import check_proxy, redact_url, scrub_password

if TYPE_CHECKING:
    from ._config import ClientConfig
    from ._reply import Reply
    from ._request import RequestSpec
    from ._timeouts import Budget

__all__ = [
    "DEFAULT_LIMITS",
    "TRANSPORT_ERRORS",
    "abody_chunks",
    "body_chunks",
    "build_request",
    "connection_error",
    "error_from_response",
    "is_identity",
    "open_http",
    "set_body_timeout",
]

DEFAULT_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
"""The SDK's own pool: room for a thousand streams at once (httpx's default is 100)."""

TRANSPORT_ERRORS = (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL, OSError)
"""What httpx (or the socket under it) may raise while a request is under way."""

_PHASES: dict[type[httpx.TimeoutException], TimeoutLimit] = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "response",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


_Http = TypeVar("_Http", httpx.Client, httpx.AsyncClient)


def open_http(kind: type[_Http], given: object, proxy: object, config: ClientConfig) -> _Http:
    """The httpx client of a facade: ``given`` if it is the right kind, else a new one.

    Everything httpx would refuse later, mid-call, is refused here with an
    ``AuraValidationError``: a base URL its parser rejects (an IPv4 address out
    of range, a bad IDNA label), a proxy, also one from ``$HTTPS_PROXY`` and the
    like, that it cannot use.
    """
    _check_httpx_url(config.base_url_origin, config.base_url + "/api/chat")
    if given is not None:
        if not isinstance(given, kind):
            other = "httpx.AsyncClient" if kind is httpx.Client else "httpx.Client"
            facade = "AsyncAuraClient" if kind is httpx.Client else "AuraClient"
            raise AuraValidationError(
                f"http_client: expected an httpx.{kind.__name__} or None, got "
                f"{type(given).__name__} ({facade} is the one that takes an {other})"
            )
        if proxy is not None:
            raise AuraValidationError(
                "proxy: not used with http_client; configure the proxy of the client you pass"
            )
        return given
    url = check_proxy(proxy)
    if url is not None:
        _check_httpx_url("proxy", url)
    where = (
        "proxy" if url is not None else "proxy from the environment ($HTTPS_PROXY, $ALL_PROXY...)"
    )
    try:
        return kind(proxy=url, limits=DEFAULT_LIMITS, headers=request_headers(config))
    except ImportError:  # socks5:// without socksio
        raise AuraValidationError(
            f"{where}: a SOCKS proxy needs an extra package: pip install 'httpx[socks]'"
        ) from None
    except (httpx.InvalidURL, ValueError) as exc:
        raise AuraValidationError(f"{where}: httpx cannot use it ({_detail(exc)})") from None


def _check_httpx_url(where: str, url: str) -> None:
    try:
        httpx.Request("POST", url)
    except (httpx.InvalidURL, ValueError) as exc:  # idna's IDNAError is a ValueError
        detail = scrub_password(_detail(exc), url)
        raise AuraValidationError(
            f"{where}: not a URL httpx can send to ({detail}), got {redact_url(url)!r}"
        ) from None


def _detail(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def build_request(
    http: httpx.Client | httpx.AsyncClient, spec: RequestSpec, budget: Budget, *, own: bool
) -> httpx.Request:
    """The request, with the limits that apply until its status line arrives.

    ``own``: the SDK made ``http`` with ``spec.headers`` as its default headers,
    so they need not be merged again for each request (which costs more than all
    the SDK's other work on a request).
    """
    return http.build_request(
        spec.method,
        spec.url,
        headers=None if own else spec.headers,
        content=spec.content,
        timeout=_timeout(*budget.request().values()),
    )


@lru_cache(maxsize=32)
def _timeout(
    connect: float | None, read: float | None, write: float | None, pool: float | None
) -> httpx.Timeout:
    # Without a total deadline the limits repeat from request to request.
    return httpx.Timeout(connect=connect, read=read, write=write, pool=pool)


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


def is_identity(response: httpx.Response) -> bool:
    """No Content-Encoding to undo: the body can be read raw, one layer fewer per chunk."""
    for name, value in response.headers.raw:  # cheaper than Headers.get, once per reply
        if name.lower() == b"content-encoding" and value.strip().lower() not in (b"", b"identity"):
            return False
    return True


def body_chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body's chunks: the transport's own stream when there is nothing to decode.

    ``response.iter_raw()`` adds a generator around that same stream (to count
    bytes); skipping it saves a step per chunk. The stream is closed with the
    response, as ``iter_raw`` would.
    """
    if is_identity(response) and isinstance(response.stream, httpx.SyncByteStream):
        return iter(response.stream)
    return response.iter_bytes()


def abody_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """``body_chunks`` for an async response."""
    if is_identity(response) and isinstance(response.stream, httpx.AsyncByteStream):
        return response.stream.__aiter__()
    return response.aiter_bytes()


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
