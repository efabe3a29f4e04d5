"""The httpx glue both facades share: requests in, errors out.

This is the only place where httpx exceptions are translated; the facades
catch ``TRANSPORT_ERRORS`` and hand them here, so none escapes a public call.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from functools import lru_cache
from typing import TYPE_CHECKING

import httpx

from ._content import BodyDecoder, BodyError, BodyTooLarge, content_codings
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ResponseTooLargeError,
    TimeoutLimit,
)
from ._secrets import scrub, scrub_chain
from ._status import status_error

if TYPE_CHECKING:
    import httpcore

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
    "interrupt",
    "is_identity",
    "may_queue",
    "pool_of",
    "release_stuck_connections",
    "set_body_timeout",
]

DEFAULT_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
"""The SDK's own pool: room for a thousand streams at once (httpx's default is 100)."""

TRANSPORT_ERRORS = (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL, OSError, BodyError)
"""What httpx (or the socket under it, or the body's decoding) may raise while a request is under way."""

_PHASES: dict[type[httpx.TimeoutException], TimeoutLimit] = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "response",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


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
    """The SDK's error for a transport failure; mid-body (``reply`` given) it carries the text.

    No secret shows: the message is scrubbed, and so are the messages of ``exc``
    and of the exceptions it was raised from (they become the error's cause).
    """
    scrub_chain(exc)
    if isinstance(exc, httpx.TimeoutException):
        phase = _PHASES.get(type(exc), "read")
        if reply is not None and phase == "response":
            phase = "read"
        limit, seconds = budget.fired(phase)
        if reply is not None:
            return reply.timed_out(limit, seconds)
        after = "" if seconds is None else f" after {seconds:g}s"
        return APITimeoutError(f"{limit} timeout{after}", limit=limit, seconds=seconds)
    if isinstance(exc, BodyTooLarge):
        why = f"the body passed max_response_bytes={exc.limit} as received, still encoded"
        if reply is not None:
            return reply.too_large(why)
        return ResponseTooLargeError(f"response cut off: {why}")
    detail = scrub(str(exc) or type(exc).__name__)
    if isinstance(exc, (httpx.DecodingError, BodyError)):
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


def body_chunks(response: httpx.Response, max_bytes: int | None = None) -> Iterator[bytes]:
    """The body's chunks: the transport's own stream when there is nothing to decode.

    ``response.iter_raw()`` adds a generator around that same stream (to count
    bytes); skipping it saves a step per chunk. The stream is closed with the
    response, as ``iter_raw`` would. An encoded body is read raw and decoded here
    in bounded pieces (never by httpx, which decodes a chunk whole: a bomb), at
    most ``max_bytes`` of it as received; the caller caps the decoded size.
    """
    if is_identity(response) and isinstance(response.stream, httpx.SyncByteStream):
        return iter(response.stream)
    return _decoded(response, max_bytes)


def _decoded(response: httpx.Response, max_bytes: int | None) -> Iterator[bytes]:
    # A generator, so an encoding it refuses is raised where chunks are read. It
    # reads the transport's stream, as above: ``iter_raw`` would close the response
    # at the end, before ``flush`` can say the compressed data was cut short.
    decoder = BodyDecoder(content_codings(response.headers.get("content-encoding", "")), max_bytes)
    stream = response.stream
    raw = stream if isinstance(stream, httpx.SyncByteStream) else response.iter_raw()
    for data in raw:
        yield from decoder.decode(data)
    yield from decoder.flush()


def abody_chunks(response: httpx.Response, max_bytes: int | None = None) -> AsyncIterator[bytes]:
    """``body_chunks`` for an async response."""
    if is_identity(response) and isinstance(response.stream, httpx.AsyncByteStream):
        return response.stream.__aiter__()
    return _adecoded(response, max_bytes)


async def _adecoded(response: httpx.Response, max_bytes: int | None) -> AsyncIterator[bytes]:
    decoder = BodyDecoder(content_codings(response.headers.get("content-encoding", "")), max_bytes)
    stream = response.stream
    raw = (
        stream if isinstance(stream, httpx.AsyncByteStream) else response.aiter_raw()
    ).__aiter__()
    try:
        async for data in raw:
            for piece in decoder.decode(data):
                yield piece
        for piece in decoder.flush():
            yield piece
    finally:
        # Closed here, with this generator, not by the event loop's finalizer later.
        aclose = getattr(raw, "aclose", None)
        if aclose is not None:
            await aclose()


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
    """The status error; an echoed secret is masked in it and in its ``response``'s repr."""
    reason = reason_phrase(response)
    clean = scrub(reason)
    if clean != reason:
        response.extensions["reason_phrase"] = clean.encode("utf-8")
    return status_error(
        response.status_code,
        clean,
        scrub(body.decode("utf-8", "replace")),
        response=response,
        secret=secret,
        retry_after=response.headers.get("retry-after"),
    )


def interrupt(response: httpx.Response) -> None:
    """Wake a thread blocked reading ``response``'s body: it sees the end of the stream.

    For ``Stream.close()`` called from another thread. Closing the socket would
    not wake a blocked ``recv`` (on Linux), and closing the response from here
    would race the reader inside httpcore; shutting the socket down does
    neither: the reader gets EOF and closes the response itself.
    """
    stream = response.extensions.get("network_stream")
    sock = None if stream is None else stream.get_extra_info("socket")
    if isinstance(sock, socket.socket):
        with suppress(OSError):  # already shut, or closed: the reader is on its way out
            sock.shutdown(socket.SHUT_RDWR)


def pool_of(http: httpx.AsyncClient) -> httpcore.AsyncConnectionPool | None:
    """The httpcore pool every request of ``http`` goes through, if it is httpx's own.

    Only there does the first ``trace`` event of a request say that it has left
    the pool's queue, with nothing written yet: what lets a request waiting in
    the queue be woken safely (``AsyncAuraClient._send``).
    """
    import httpcore  # here, not at import: httpx itself imports it only when needed

    transport = getattr(http, "_transport", None)
    if getattr(http, "_mounts", None) or type(transport) is not httpx.AsyncHTTPTransport:
        return None  # proxies, mounts, other transports: nobody is woken
    pool = getattr(transport, "_pool", None)
    if type(pool) is not httpcore.AsyncConnectionPool:
        return None
    # The parts of its state the SDK reads (httpcore 1.0.x).
    known = isinstance(getattr(pool, "_connections", None), list) and isinstance(
        getattr(pool, "_requests", None), list
    )
    return pool if known else None


def may_queue(pool: httpcore.AsyncConnectionPool) -> bool:
    """A request sent now might wait in ``pool``'s queue: it is full.

    Below its limit the pool opens a connection for any request at once; and
    nothing else runs between this check and the send reaching the pool.
    """
    return len(pool._connections) >= pool._max_connections


def release_stuck_connections(pool: httpcore.AsyncConnectionPool) -> bool:
    """Mark the pool's orphaned CONNECTING connections failed, so the pool drops them.

    httpcore 1.0.x bug (https://github.com/encode/httpcore/issues/1093): a
    request cancelled after the pool assigned it a new connection, but before
    it started connecting, leaves that connection behind as CONNECTING: never
    closed, expired or idle, it holds a pool slot forever. One that no queued
    request is assigned to can only be such an orphan; marked as a failed
    connect, it counts as expired and the pool's next pass closes it. Returns
    whether one was found.
    """
    import httpcore

    found = False
    assigned = {id(request.connection) for request in pool._requests}
    for connection in pool._connections:
        if (
            id(connection) not in assigned
            and isinstance(connection, httpcore.AsyncHTTPConnection)
            and connection._connection is None
            and not connection._connect_failed
        ):
            connection._connect_failed = True
            found = True
    return found
