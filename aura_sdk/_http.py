"""The HTTP glue both facades share: requests in, errors out, over either stack.

This is the only place where the stack's exceptions are translated; the facades
catch ``KNOWN.transport`` (``_stacks``: httpx's, and httpx2's once a client of it
was passed) and hand them here, so none escapes a public call. Everything here
takes an httpx or an httpx2 client alike: the two share one API.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from functools import lru_cache
from time import monotonic
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
import httpx

from ._content import BodyDecoder, BodyError, BodyTooLarge, content_codings
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    AuraValidationError,
    ResponseTooLargeError,
    TimeoutLimit,
)
from ._retry_after import parse_retry_after_ms
from ._secrets import scrub, scrub_chain
from ._stacks import KNOWN, Stack, stack_of, stack_of_class
from ._validation import check_proxy, redact_url, scrub_password

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable

    import httpcore  # imported by httpx only when a client is made: so here

    from ._config import ClientConfig
    from ._dialects import Dialect
    from ._exceptions import APIError
    from ._reply import Reply
    from ._request import RequestSpec
    from ._timeouts import BodyClock, Budget

__all__ = [
    "DRAIN_BYTES",
    "DRAIN_SECONDS",
    "adrain",
    "drain",
    "DEFAULT_LIMITS",
    "check_http_client",
    "HeadClock",
    "abody_chunks",
    "bind_deadlines",
    "body_chunks",
    "bounded_chunks",
    "build_request",
    "connection_error",
    "deadline",
    "error_from_response",
    "interrupt",
    "is_identity",
    "keep_alive",
    "may_queue",
    "open_http",
    "pool_of",
    "release_stuck_connections",
    "set_body_timeout",
    "timeout_error",
]

DEFAULT_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
"""The SDK's own pool: room for a thousand streams at once (httpx's default is 100)."""

# By class name: httpx's and httpx2's timeouts are named alike.
_PHASES: dict[str, TimeoutLimit] = {
    "ConnectTimeout": "connect",
    "ReadTimeout": "response",
    "WriteTimeout": "write",
    "PoolTimeout": "pool",
}


_Http = TypeVar("_Http", httpx.Client, httpx.AsyncClient)


def open_http(
    kind: type[_Http], given: object, proxy: object, config: ClientConfig, dialect: Dialect
) -> _Http:
    """The httpx client of a facade: ``given`` if it is the right kind, else a new one.

    Everything httpx would refuse later, mid-call, is refused here with an
    ``AuraValidationError``: a base URL its parser rejects (an IPv4 address out
    of range, a bad IDNA label), a proxy, also one from ``$HTTPS_PROXY`` and the
    like, that it cannot use.
    """
    _check_httpx_url(config.base_url_origin, config.base_url + dialect.chat_path)
    if given is not None:
        check_http_client(given, sync=kind is httpx.Client)
        if proxy is not None:
            raise AuraValidationError(
                "proxy: not used with http_client; configure the proxy of the client you pass"
            )
        # An httpx2 client has httpx's API: typed as httpx's here, on every path.
        return cast(_Http, given)
    url = check_proxy(proxy)
    if url is not None:
        _check_httpx_url("proxy", url)
    where = (
        "proxy" if url is not None else "proxy from the environment ($HTTPS_PROXY, $ALL_PROXY...)"
    )
    headers = dialect.headers(config)  # its own AuraValidationError, first
    verify = shared_ssl_context()
    try:
        http = kind(proxy=url, limits=DEFAULT_LIMITS, headers=headers, verify=verify)
    except ImportError:  # socks5:// without socksio
        raise AuraValidationError(
            f"{where}: a SOCKS proxy needs an extra package: pip install 'httpx[socks]'"
        ) from None
    except (httpx.InvalidURL, ValueError) as exc:
        detail = _detail(exc)
        if url is None and _env_proxy_has_userinfo():
            # httpx parsed a URL no check of ours saw: with a raw '#' or '/' in its
            # password ('http://u:s3#cr3t@h'), its message quotes a piece of it
            # ("Invalid port: 's3'"), so it is not repeated.
            detail = "check that a user name or password in it is percent-encoded"
        raise AuraValidationError(f"{where}: httpx cannot use it ({detail})") from None
    keep_alive(http)
    return http


def check_http_client(given: object, *, sync: bool) -> Stack:
    """``given``'s stack, if it is a client the facade can send through; else
    ``AuraValidationError`` naming what is accepted (nothing is sent)."""
    stack = stack_of(given)
    clients = KNOWN.sync_clients if sync else KNOWN.async_clients
    if stack is not None and isinstance(given, clients):
        return stack
    kind = type(given)
    got = f"{kind.__module__.split('.')[0]}.{kind.__qualname__}"
    if kind.__module__ == "builtins":
        got = kind.__qualname__
    if sync:
        wanted, other = "an httpx.Client or an httpx2.Client", "AsyncAuraClient"
    else:
        wanted, other = "an httpx.AsyncClient or an httpx2.AsyncClient", "AuraClient"
    hint = ""
    if stack is not None:  # the right stack, the wrong facade
        hint = f" ({other} is the one that takes an {got})"
    raise AuraValidationError(f"http_client: expected {wanted}, or None; got {got}{hint}")


def shared_ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once per trust store its variables name.

    Building one loads the whole CA bundle (about 10 to 20 ms), which was most of
    the cost of making a client. httpx reads ``$SSL_CERT_FILE`` and
    ``$SSL_CERT_DIR`` when it builds one, so a change to them gets a new one.
    """
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    try:
        return _ssl_context(cafile, capath)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        name = "$SSL_CERT_FILE" if cafile else "$SSL_CERT_DIR"
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise AuraValidationError(
            f"{name}: no CA certificates could be loaded from it ({type(exc).__name__}: {detail})"
        ) from None


@lru_cache(maxsize=4)
def _ssl_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    del cafile, capath  # the cache key: httpx reads them from the environment
    return httpx.create_ssl_context()


def _env_proxy_has_userinfo() -> bool:
    """Whether a ``*_proxy`` variable (what httpx reads, through urllib) has an '@'."""
    return any(
        "@" in value for name, value in os.environ.items() if name.lower().endswith("_proxy")
    )


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
    http: httpx.Client | httpx.AsyncClient,
    spec: RequestSpec,
    budget: Budget,
    *,
    own: bool,
    clock: HeadClock | None = None,
) -> httpx.Request:
    """The request, with the limits that apply until its status line arrives.

    ``own``: the SDK made ``http`` with ``spec.headers`` as its default headers,
    so they need not be merged again for each request (which costs more than all
    the SDK's other work on a request). ``clock``: started by httpcore's trace
    when the wait for the head begins.
    """
    return http.build_request(
        spec.method,
        spec.url,
        headers=None if own else spec.headers,
        content=spec.content,
        timeout=_timeout(cast(type, type(http)), *budget.request().values()),
        extensions=None if clock is None else {"trace": clock.tracer(http)},
    )


@lru_cache(maxsize=32)
def _timeout(
    kind: type, connect: float | None, read: float | None, write: float | None, pool: float | None
) -> Any:
    # The stack's own Timeout (httpx2's takes no httpx.Timeout: a TypeError deep in a
    # call). Without a total deadline the limits repeat from request to request.
    stack = stack_of_class(kind)
    return stack.timeout(connect=connect, read=read, write=write, pool=pool)


def set_body_timeout(response: httpx.Response, budget: Budget) -> None:
    """Switch the read limit from "until the status line" to "between two chunks".

    httpcore takes the body's read timeout from the request's timeout extension
    when the body is first read, so setting it here, before that, is enough.
    """
    timeouts = response.request.extensions.get("timeout")
    if isinstance(timeouts, dict):
        timeouts["read"] = budget.body_read()


def connection_error(
    exc: BaseException, budget: Budget, reply: Reply | None = None, *, body: bool = False
) -> APIConnectionError:
    """The SDK's error for a transport failure; mid-body (``reply`` given) it carries the text.

    No secret shows: the message is scrubbed, and so are the messages of ``exc``
    and of the exceptions it was raised from (they become the error's cause).
    ``body``: the failure came while reading a body (a read timeout is ``read``,
    not ``response``), as for ``models()``.
    """
    scrub_chain(exc)
    if isinstance(exc, KNOWN.timeouts) and _timed_out(exc):
        phase = _PHASES.get(type(exc).__name__, "read")
        if (body or reply is not None) and phase == "response":
            phase = "read"
        if reply is not None:
            return reply.timed_out(*budget.fired(phase))
        return timeout_error(budget, phase)
    if isinstance(exc, BodyTooLarge):
        why = f"the body passed max_response_bytes={exc.limit} as received, still encoded"
        if reply is not None:
            return reply.too_large(why)
        return ResponseTooLargeError(f"response cut off: {why}")
    detail = scrub(str(exc) or type(exc).__name__)
    if isinstance(exc, (*KNOWN.decoding, BodyError)):
        detail = f"the body could not be decoded as its Content-Encoding says: {detail}"
    if reply is not None:
        return reply.interrupted(detail)
    return APIConnectionError(f"connection error: {detail}")


def _timed_out(exc: BaseException) -> bool:
    """``exc`` says a limit fired, and one did.

    httpx-aiohttp (the optional aiohttp transport) turns every aiohttp connection
    error into ``httpx.ConnectTimeout``: a server that closes before the status
    line, or a stale keep-alive connection, would read "connect timeout after
    10s" at once. Only an aiohttp timeout under it is a timeout.
    """
    cause = exc.__cause__
    return (
        cause is None
        or not type(cause).__module__.startswith("aiohttp")
        or isinstance(cause, (TimeoutError, asyncio.TimeoutError))
    )


def timeout_error(budget: Budget, phase: TimeoutLimit) -> APITimeoutError:
    """``APITimeoutError`` for a limit that fired in ``phase`` (``total`` if it has passed)."""
    limit, seconds = budget.fired(phase)
    after = "" if seconds is None else f" after {seconds:g}s"
    return APITimeoutError(f"{limit} timeout{after}", limit=limit, seconds=seconds)


class _Deadline:
    """A ``time.monotonic()`` instant every socket wait must end by (None: none)."""

    __slots__ = ("at",)

    def __init__(self, at: float | None) -> None:
        self.at = at


_current: ContextVar[_Deadline | BodyClock | None] = ContextVar("aura_sdk_deadline", default=None)
"""The deadline of the sync call under way in this thread, read by ``_DeadlineStream``."""


class HeadClock(_Deadline):
    """The deadline of a response head: ``response`` seconds from when the wait begins.

    httpcore's trace (``http11.receive_response_headers.started``) says when
    that is. Before it (pool, connect, sending), or with a transport that has no
    trace, the deadline is the sum of those phases' limits and ``response``;
    never past the total deadline. The async facade moves its cancel scope with
    it (``moved``); the sync one reads ``at`` in ``_DeadlineStream``.
    """

    __slots__ = ("_response", "_total", "connected", "moved", "sent")

    def __init__(self, budget: Budget) -> None:
        t = budget.timeout
        self._response = t.response
        self._total = budget.deadline
        # Until the trace says the wait for the head began (or with a transport that
        # has no trace): every phase before the head, then the head.
        phases = (t.pool, t.connect, t.write, t.response)
        at = None if None in phases else monotonic() + sum(p for p in phases if p is not None)
        super().__init__(_earlier(at, self._total))
        self.moved: Any = None  # async: a callback taking the new deadline
        self.connected = False  # the trace saw a new connection opened for the request
        self.sent = False  # ... and the request's head being written

    def start(self) -> None:
        if self._response is None:
            return
        self.at = _earlier(monotonic() + self._response, self._total)
        if self.moved is not None:
            self.moved(self.at)

    def tracer(self, http: httpx.Client | httpx.AsyncClient) -> Any:
        """httpcore's ``trace`` extension for ``http``'s requests (a coroutine for async)."""
        return self._atrace if isinstance(http, KNOWN.async_clients) else self._trace

    def _trace(self, name: str, info: object) -> None:
        if name.endswith(".receive_response_headers.started"):
            self.start()
        elif name.endswith(".send_request_headers.started"):
            self.sent = True
        elif name.endswith((".connect_tcp.started", ".connect_unix_socket.started")):
            self.connected = True

    def stale(self, exc: BaseException) -> bool:
        """``exc`` says a pooled connection was dead: the request went out on a
        connection kept from before, and nothing came back on it.

        A server closes an idle keep-alive connection when it likes (uvicorn
        after 5 s; llama-cpp-python about 10 ms after its empty ``200``);
        httpcore checks a pooled connection before reuse, but a close that
        comes while the request is being sent loses that race. Such a request
        may be sent again at once, as Go's ``net/http`` does: the server saw
        it at most as the connection closed.
        """
        if not self.sent or self.connected:
            return False
        if isinstance(exc, KNOWN.protocol):
            return "without sending a response" in str(exc)
        return isinstance(exc, KNOWN.read_write)

    async def _atrace(self, name: str, info: object) -> None:
        self._trace(name, info)

    def passed(self) -> bool:
        """The head came too late (with a transport that does not enforce the deadline)."""
        return self.at is not None and monotonic() >= self.at


def _earlier(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


@contextmanager
def deadline(clock: _Deadline | float | None) -> Iterator[None]:
    """Every socket wait of the SDK's own sync client, inside, ends by ``clock``."""
    if clock is None:
        yield
        return
    token = _current.set(clock if isinstance(clock, _Deadline) else _Deadline(clock))
    try:
        yield
    finally:
        _current.reset(token)


def bounded_chunks(chunks: Iterator[bytes], bound: _Deadline | BodyClock) -> Iterator[bytes]:
    """``chunks``, each read by ``bound.at`` (a generator does not keep a
    ``deadline()`` between reads); ``bound.at`` may move between them."""
    while True:
        token = _current.set(bound)
        try:
            data = next(chunks)
        except StopIteration:
            return
        finally:
            _current.reset(token)
        yield data


class _DeadlineStream:
    """A socket whose every wait ends by the current deadline, not only by its own timeout.

    httpcore applies a timeout to each socket read; a head or body trickled a
    byte at a time would outlast any limit. Outside an SDK call it is the plain
    stream. (An ``httpcore.NetworkStream`` by its methods: httpcore is imported
    only once httpx makes a client, and importing it pulls in trio if installed.)
    """

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        bound = _current.get()
        if bound is None:  # outside an SDK call, or no deadline: as fast as the plain stream
            return self._stream.read(max_bytes, timeout)
        while True:
            left = _left(bound, timeout)
            if left is _OWN:
                return self._stream.read(max_bytes, timeout)
            try:
                return self._stream.read(max_bytes, left)
            except _httpcore().ReadTimeout:
                continue  # woken a hair early: ``_left`` raises once it has passed

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        left = _left(_current.get(), timeout, write=True)
        self._stream.write(buffer, timeout if left is _OWN else left)

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> _DeadlineStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


_OWN: Any = object()


def _httpcore() -> Any:
    import httpcore  # imported already, by the transport calling us

    return httpcore


def _left(
    bound: _Deadline | BodyClock | None, timeout: float | None, *, write: bool = False
) -> Any:
    """The wait allowed now: ``_OWN`` (the transport's own timeout) or the time left."""
    if bound is None or bound.at is None:
        return _OWN
    left = bound.at - monotonic()
    if left <= 0:
        core = _httpcore()
        raise (core.WriteTimeout if write else core.ReadTimeout)("the SDK's deadline passed")
    return _OWN if timeout is not None and timeout <= left else left


def _connect_timeout(timeout: float | None) -> float | None:
    """The connect's own timeout, cut to the current deadline.

    The request's connect limit is clamped to the total deadline when it is
    built; a wait in the pool's queue before the connect would otherwise let
    the connect run that long past the deadline.
    """
    bound = _current.get()
    if bound is None or bound.at is None:
        return timeout
    left = bound.at - monotonic()
    if left <= 0:
        raise _httpcore().ConnectTimeout("the SDK's deadline passed")
    return left if timeout is None or left < timeout else timeout


class _DeadlineBackend:
    """An ``httpcore.NetworkBackend`` whose streams are ``_DeadlineStream``s."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _DeadlineStream:
        timeout = _connect_timeout(timeout)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _DeadlineStream:
        timeout = _connect_timeout(timeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _keepalive_options() -> list[tuple[int, int, int]]:
    """TCP keepalive, as anthropic-sdk-python sets it: probes after 60 s idle, every
    60 s, 5 of them (a peer gone behind a NAT is noticed in about 6 minutes)."""
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 60), ("TCP_KEEPCNT", 5)):
        option = getattr(socket, name, None)  # not on every platform
        if option is not None:
            options.append((socket.IPPROTO_TCP, option, value))
    return options


KEEPALIVE = _keepalive_options()
"""The socket options of the SDK's own connections (``keep_alive``)."""


def _pools(http: httpx.Client | httpx.AsyncClient) -> list[Any]:
    # httpx's private attributes, read defensively: a pool not found keeps httpx's defaults.
    transports = [getattr(http, "_transport", None), *getattr(http, "_mounts", {}).values()]
    return [getattr(transport, "_pool", None) for transport in transports]


def keep_alive(http: httpx.Client | httpx.AsyncClient) -> None:
    """TCP keepalive on every connection of the SDK's own client (its pools, a
    proxy's too), so that a peer that vanished is noticed. A caller's own
    ``http_client`` is left as it is."""
    for pool in _pools(http):
        if pool is not None and getattr(pool, "_socket_options", ()) is None:
            pool._socket_options = KEEPALIVE


def bind_deadlines(http: httpx.Client) -> None:
    """Make the SDK's own sync client honour ``deadline()`` on every socket wait.

    Wraps the network backend of each of its httpcore pools (the main one and
    any proxy's). Only for a client the SDK made: a caller's own ``http_client``
    is left as it is (its waits are bounded per socket read, as httpx does).
    """
    # Without them the limits still hold per socket read, as for a caller's client.
    for pool in _pools(http):
        backend: Any = getattr(pool, "_network_backend", None)
        if hasattr(backend, "connect_tcp") and not isinstance(backend, _DeadlineBackend):
            pool._network_backend = _DeadlineBackend(backend)


DRAIN_SECONDS = 0.5
"""How long the end of a complete reply's body may take to arrive (see ``drain``)."""
DRAIN_BYTES = 64 * 1024
"""How much may follow a complete reply before its connection is given up instead."""


def drain(chunks: Iterator[bytes], total_at: float | None) -> None:
    """Read the rest of a body whose reply is complete (``data: [DONE]`` came), so
    that its connection goes back to the pool instead of being closed.

    A server ends the body right after ``[DONE]``; one that does not within
    ``DRAIN_SECONDS`` (or sends more than ``DRAIN_BYTES``) only loses the
    connection. Every read ends by that deadline: for the SDK's own client only
    (``deadline``), so the caller of a sync stream over their own ``http_client``
    does not get here. A failure is no error: the reply was complete.
    """
    at = _earlier(monotonic() + DRAIN_SECONDS, total_at)
    size = 0
    with suppress(*KNOWN.transport), deadline(at):
        for data in chunks:
            size += len(data)
            if size > DRAIN_BYTES:
                return


async def adrain(chunks: AsyncIterator[bytes], total_at: float | None) -> None:
    """``drain`` for an async body: the same bounds (``total_at``: the call's total
    deadline, on the ``monotonic`` clock), by a cancel scope."""
    at = _earlier(monotonic() + DRAIN_SECONDS, total_at)
    size = 0
    assert at is not None
    with anyio.move_on_after(max(0.0, at - monotonic())), suppress(*KNOWN.transport):
        async for data in chunks:
            size += len(data)
            if size > DRAIN_BYTES:
                return


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
    if response.is_stream_consumed:
        return _read_already(response, max_bytes)
    if is_identity(response) and isinstance(response.stream, KNOWN.sync_streams):
        return iter(response.stream)
    return _decoded(response, max_bytes)


def _read_already(response: httpx.Response, max_bytes: int | None) -> Iterator[bytes]:
    """The body a caller's response event hook read already (``response.read()``,
    httpx's logging recipe), in bounded pieces: iterating the spent stream again
    would spin in the connection pool, forever, at full CPU. A body iterated by the
    hook but not kept (``response.content`` raises) is httpx's ``ResponseNotRead``,
    a transport error like any other."""
    yield from BodyDecoder([], max_bytes).decode(response.content)


def _decoded(response: httpx.Response, max_bytes: int | None) -> Iterator[bytes]:
    # A generator, so an encoding it refuses is raised where chunks are read. It
    # reads the transport's stream, as above: ``iter_raw`` would close the response
    # at the end, before ``flush`` can say the compressed data was cut short.
    decoder = BodyDecoder(content_codings(response.headers.get("content-encoding", "")), max_bytes)
    stream = response.stream
    raw = stream if isinstance(stream, KNOWN.sync_streams) else response.iter_raw()
    for data in raw:
        yield from decoder.decode(data)
    yield from decoder.flush()


def abody_chunks(response: httpx.Response, max_bytes: int | None = None) -> AsyncIterator[bytes]:
    """``body_chunks`` for an async response."""
    if response.is_stream_consumed:
        return _aread_already(response, max_bytes)
    if is_identity(response) and isinstance(response.stream, KNOWN.async_streams):
        stream: AsyncIterator[bytes] = response.stream.__aiter__()
        return stream
    return _adecoded(response, max_bytes)


async def _aread_already(response: httpx.Response, max_bytes: int | None) -> AsyncIterator[bytes]:
    """``_read_already`` for an async response."""
    for piece in _read_already(response, max_bytes):
        yield piece


async def _adecoded(response: httpx.Response, max_bytes: int | None) -> AsyncIterator[bytes]:
    decoder = BodyDecoder(content_codings(response.headers.get("content-encoding", "")), max_bytes)
    stream = response.stream
    raw = (stream if isinstance(stream, KNOWN.async_streams) else response.aiter_raw()).__aiter__()
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


def error_from_response(
    response: httpx.Response, body: bytes, secret: str, dialect: Dialect, base_url: str
) -> APIError:
    """The status error; an echoed secret is masked in it and in its ``response``'s repr."""
    reason = reason_phrase(response)
    location = response.headers.get("location")  # echoed secrets masked, as in the reason
    clean = scrub(reason)
    if clean != reason:
        response.extensions["reason_phrase"] = clean.encode("utf-8")
    return dialect.status_error(
        response.status_code,
        clean,
        scrub(body.decode("utf-8", "replace")),
        response=response,
        secret=secret,
        retry_after=_retry_after(response.headers),
        location=None if location is None else scrub(location),
        base_url=base_url,
    )


def _retry_after(headers: httpx.Headers) -> str | None:
    """The wait a response asks for, as ``Retry-After`` says it: ``retry-after-ms``
    first (the finer of the two, read first by openai-python too)."""
    ms = parse_retry_after_ms(headers.get("retry-after-ms"))
    return headers.get("retry-after") if ms is None else f"{ms:.6f}"


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
    stack = stack_of_class(type(http))
    core = stack.core_module()  # here, not at import: httpx imports it only when needed
    transport = getattr(http, "_transport", None)
    if getattr(http, "_mounts", None) or type(transport) is not stack.module.AsyncHTTPTransport:
        return None  # proxies, mounts, other transports: nobody is woken
    pool = getattr(transport, "_pool", None)
    if type(pool) is not core.AsyncConnectionPool:
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
    core = sys.modules[type(pool).__module__.split(".")[0]]  # httpcore or httpcore2
    found = False
    assigned = {id(request.connection) for request in pool._requests}
    for connection in pool._connections:
        if (
            id(connection) not in assigned
            and isinstance(connection, core.AsyncHTTPConnection)
            and connection._connection is None
            and not connection._connect_failed
        ):
            connection._connect_failed = True
            found = True
    return found
