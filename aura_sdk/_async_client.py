"""``AsyncAuraClient``: the async facade (asyncio and trio, through anyio).

It mirrors ``AuraClient`` method for method; a test compares the two surfaces.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NoReturn

import anyio
import anyio.lowlevel
import httpx

from ._base import DEFAULT_MAX_RESPONSE_BYTES, BaseClient, BaseStream, probe_failed, probed
from ._exceptions import APIError, AuraUsageError
from ._http import (
    HeadClock,
    abody_chunks,
    adrain,
    build_request,
    connection_error,
    error_from_response,
    may_queue,
    open_http,
    pool_of,
    release_stuck_connections,
    set_body_timeout,
    timeout_error,
)
from ._models import DEFAULT_MODEL, Model
from ._response import BodyBuffer
from ._retry import Attempts, RetryPolicy, with_retries
from ._stacks import KNOWN
from ._status import error_body_limit
from ._timeouts import DEFAULT_TIMEOUT, BodyClock, Budget, Timeout, TimeoutTypes

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from types import TracebackType

    import httpcore
    from typing_extensions import Self, Unpack

    from ._dialects import DialectName
    from ._messages import Message
    from ._params import ChatParams
    from ._reply import Reply
    from ._request import RequestSpec
    from ._stacks import AsyncHTTPClient

__all__ = ["AsyncAuraClient", "AsyncStream"]

_CLOSE_GRACE = 5.0
"""Seconds a shielded close may take before it is abandoned."""

_Orphan = tuple["AsyncGenerator[bytes, None] | None", httpx.Response]


class AsyncAuraClient(BaseClient):
    """An async client for an Aura (openchat-ui) server, for asyncio and trio.

    Example::

        async with AsyncAuraClient() as client:
            async for chunk in client.stream([user("Hi")]):
                print(chunk, end="", flush=True)

    Configuration as for ``AuraClient``. One client belongs to one event loop:
    using it from another raises ``AuraUsageError`` (so do its ``with_options()``
    copies, which share its pool and that loop).
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | Model = DEFAULT_MODEL,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int | RetryPolicy = 2,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        proxy: str | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: AsyncHTTPClient | None = None,
        dialect: DialectName | None = None,
    ) -> None:
        """Make a client; nothing is sent until a call. Every argument is keyword-only.

        Args:
            base_url: the server, e.g. ``"http://127.0.0.1:8000"``; default
                ``$AURA_BASE_URL``, then the dialect's: ``aura serve``'s
                ``http://127.0.0.1:8000`` (aura), ollama's
                ``http://127.0.0.1:11434/v1`` (openai).
            api_key: the key sent with each request; default ``$AURA_API_KEY``, then
                ``""`` (the server's own). Never printed, logged or in a ``repr``.
            model: the default model of chat calls: an id or a ``Model``.
            timeout: the limits of each call: seconds, or a ``Timeout``.
            max_retries: retries of a failed request (before any text): a count or
                a ``RetryPolicy``.
            max_response_bytes: the longest reply accepted (``ResponseTooLargeError``
                past it); ``None``: no limit.
            proxy: an ``http(s)://`` or ``socks5://`` proxy URL (not with ``http_client``).
            headers: extra headers sent with every request.
            http_client: an ``httpx.AsyncClient`` or an ``httpx2.AsyncClient`` (the
                stack of openai-python 3.x) to send through, used as it is and never
                closed by the SDK.
            dialect: ``"aura"`` (openchat-ui) or ``"openai"`` (OpenAI-compatible
                servers); default ``$AURA_DIALECT``, then ``"aura"``.
        """
        super().__init__(
            base_url=base_url,
            api_key=api_key,
            model=model,
            timeout=timeout,
            max_retries=max_retries,
            headers=headers,
            max_response_bytes=max_response_bytes,
            dialect=dialect,
        )
        self._owns_http = http_client is None
        self._closes_http = self._http_headers = self._owns_http
        self._http = open_http(httpx.AsyncClient, http_client, proxy, self._config, self._dialect)
        # The pool's event loop, its dropped streams and its queued sends: one
        # object, shared with every ``with_options()`` copy (same pool, same loop).
        self._shared = _Shared()
        self._orphans = self._shared.orphans
        self._waiters = self._shared.waiters
        self._pool = pool_of(self._http)

    def stream(self, messages: Sequence[Message], **params: Unpack[ChatParams]) -> AsyncStream:
        """Stream a reply: an async iterator of text chunks, and an async context manager.

        ``messages`` is the conversation (``user("Hi")``...). The input is checked
        now (``AuraValidationError``); nothing is sent until the stream is entered
        or iterated. ``params`` (see ``ChatParams``):
        ``temperature``, ``max_tokens``, ``system`` (placed before any system
        messages), ``model``, ``stop``, ``top_p``, ``seed``, ``condition``,
        ``errors``, ``timeout`` (this call's limits, replacing the client's) and
        ``max_retries`` (this call's retries).
        """
        spec, reply, limits, policy = self._chat(messages, params)
        return AsyncStream(self, spec, reply, limits, policy)

    async def chat(self, messages: Sequence[Message], **params: Unpack[ChatParams]) -> str:
        """The whole reply to ``messages`` as one string; ``params`` as for ``stream()``.

        If the reply breaks off, the ``StreamInterruptedError`` carries the part
        received in ``.text``.
        """
        async with self.stream(messages, **params) as stream:
            async for _ in stream:
                pass
        return stream.text

    async def models(
        self, *, timeout: float | Timeout | None = None, max_retries: int | None = None
    ) -> list[Model]:
        """The models the server offers (Aura: ``POST /api/models``; OpenAI: ``GET /models``).

        ``timeout``: this call's limits (seconds or a ``Timeout``), replacing the
        client's; ``max_retries``: this call's retries, replacing the client's count.
        """
        spec, budget, policy = self._models(timeout, max_retries)
        response, attempts = await self._open(spec, budget, policy, reply=False)
        buffer = BodyBuffer(self._max_response_bytes, self._config.api_key)
        chunks = _aiter_bytes(response, buffer.limit)
        try:
            try:
                with _until(budget.deadline) as scope:
                    async for chunk in chunks:
                        buffer.add(chunk)
            except KNOWN.transport as exc:
                raise connection_error(exc, budget, body=True) from exc
            finally:
                await _aclose(chunks, response)
            if scope.cancelled_caught:
                raise timeout_error(budget, "total")
            return self._dialect.parse_models(bytes(buffer.data), self._config.api_key)
        except APIError as error:
            attempts.annotate(error, midway=True)
            raise

    async def aclose(self) -> None:
        """Close the connection pool (unless the ``http_client`` was passed in).

        The client cannot be used afterwards (``AuraUsageError``).
        """
        self._check_loop()
        self._closed = True
        await self._reap()
        if self._closes_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _check_loop(self) -> None:
        token = anyio.lowlevel.current_token()
        shared = self._shared
        if shared.loop is None:
            shared.loop = token
            shared.thread = threading.get_ident()
        elif token != shared.loop:
            raise AuraUsageError(
                "this AsyncAuraClient was first used in another event loop, and its "
                "connections belong to that loop: create one client per event loop"
            )

    def _http_closed(self) -> bool:
        return self._http.is_closed

    async def _reap(self) -> None:
        while self._orphans:
            chunks, response = self._orphans.pop()
            # Shielded: a popped orphan that a cancellation left open would leak.
            with anyio.move_on_after(_CLOSE_GRACE, shield=True):
                await _aclose(chunks, response)

    async def _open(
        self,
        spec: RequestSpec,
        budget: Budget,
        policy: RetryPolicy,
        *,
        reply: bool = True,
        attempts: Attempts | None = None,
    ) -> tuple[httpx.Response, Attempts]:
        """Send ``spec`` until a success status arrives; retries as the policy says.

        ``reply``: a chat reply, whose success head the dialect classifies (a
        ``200`` may hold an error); else any success is the answer. ``attempts``:
        those of the same request so far (a retry after an error event). A
        request that met a dead pooled connection is sent again at once, once
        (``HeadClock.stale``), whatever the policy: no retry is counted.
        """
        self._check_open()
        self._check_loop()
        await self._reap()
        if attempts is None:
            attempts = self._attempts(spec, budget, policy)
        replayed = False
        while True:
            attempts.start()
            error: APIError
            response: httpx.Response | None = None
            clock = HeadClock(budget)
            try:
                request = build_request(
                    self._http, spec, budget, own=self._http_headers, clock=clock
                )
                # The head's deadline, for any transport: httpcore's trace moves it
                # to ``response`` seconds from when the wait for the head begins.
                with _until(clock.at) as scope:
                    clock.moved = lambda at: _move(scope, at)
                    response = await self._send(request)
            except KNOWN.send as exc:
                if not replayed and clock.stale(exc):
                    replayed = True
                    attempts.replay(exc)
                    continue
                error = connection_error(exc, budget)
                error.__cause__ = exc
            else:
                if response is None:  # the scope's deadline passed
                    error = timeout_error(budget, "response")
                elif response.is_success and (
                    not reply or self._dialect.streams(response.headers.get("content-type", ""))
                ):
                    attempts.received(response.status_code, response.headers.multi_items())
                    attempts.succeeded(response.status_code)
                    set_body_timeout(response, budget)
                    return response, attempts
                else:
                    attempts.received(response.status_code, response.headers.multi_items())
                    error = await self._status_error(response, budget)
            await anyio.sleep(attempts.failed(error))

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """``http.send``, woken from the pool's queue when a dropped stream frees a connection.

        A stream dropped open (``break`` with no reference kept) still holds its
        connection, and only an async close on this loop frees it; its finalizer
        may not run one, so it cancels the pool wait of the oldest waiting send
        (sync and loop-safe). That send reaps the orphans, then queues again: no
        retry, and nothing was written (see ``_Waiter.trace``). Only a send that
        may wait pays for this (a cancel scope costs more than the whole send).
        """
        # Never a redirect, even if the caller's http_client follows them: the
        # body (the prompt, maybe the key) must not go elsewhere.
        send = self._http.send
        pool = self._pool
        if pool is None:
            return await send(request, stream=True, follow_redirects=False)
        if not may_queue(pool):
            try:
                return await send(request, stream=True, follow_redirects=False)
            except BaseException:
                self._release_stuck(pool)
                raise
        waiters = self._waiters
        inner = request.extensions.get("trace")  # the head's clock
        while True:
            waiter = _Waiter(waiters, request, inner)
            request.extensions["trace"] = waiter.trace
            waiters[waiter] = None
            sent = False
            try:
                with anyio.CancelScope() as waiter.scope:
                    response = await send(request, stream=True, follow_redirects=False)
                    sent = True
                    return response
            finally:
                waiters.pop(waiter, None)
                _set_trace(request, inner)
                if not sent:
                    self._release_stuck(pool)
            await self._reap()

    def _release_stuck(self, pool: httpcore.AsyncConnectionPool) -> None:
        """After a failed or cancelled send: httpcore#1093 (see ``release_stuck_connections``)."""
        if release_stuck_connections(pool):
            self._wake()  # a slot is free again: a send already waiting may take it

    def _wake(self) -> None:
        """Cut the oldest pool wait short (sync: a finalizer may call it, on the loop's thread)."""
        waiters = self._waiters
        if waiters:
            waiter = next(iter(waiters))
            del waiters[waiter]
            waiter.woken = True
            if waiter.scope is not None:
                waiter.scope.cancel()

    async def _probe(self, spec: RequestSpec, budget: Budget, empty: APIError) -> NoReturn:
        """After an empty stream: ``spec`` (the dialect's ``probe``) once, and raise
        what it answers, or ``empty`` if that is a success."""
        try:
            response, _ = await self._open(spec, budget, with_retries(self._retry, 0), reply=False)
        except APIError as error:
            raise probe_failed(error) from None
        await response.aclose()
        raise probed(empty, response.status_code)

    async def _status_error(self, response: httpx.Response, budget: Budget) -> APIError:
        # A success that is no reply (an error inside a 200) may be as large as one.
        limit = (
            error_body_limit(self._max_response_bytes)
            if not response.is_success or self._max_response_bytes is None
            else self._max_response_bytes
        )
        body = bytearray()
        chunks = _aiter_bytes(response, limit)  # bounded, as received and decoded
        set_body_timeout(response, budget)
        try:
            with _until(budget.deadline):
                async for chunk in chunks:
                    body += chunk
                    if len(body) >= limit:
                        break
        except KNOWN.transport:
            pass  # the status line already says what went wrong
        finally:
            await _aclose(chunks, response)
        return error_from_response(
            response,
            bytes(body[:limit]),
            self._config.api_key,
            self._dialect,
            self._config.base_url,
        )


class _Shared:
    """What a client and its ``with_options()`` copies share with their pool."""

    __slots__ = ("loop", "orphans", "thread", "waiters")

    def __init__(self) -> None:
        self.loop: anyio.lowlevel.EventLoopToken | None = None
        self.thread = 0  # the event loop's thread
        # Streams dropped unclosed (``break`` with no reference kept) land here;
        # they are closed at the start of the next call, or by a send they woke
        # in the pool's queue, on the right event loop: a finalizer must not
        # schedule work on a loop.
        self.orphans: list[_Orphan] = []
        # Sends that may be waiting in the pool's queue, oldest first: a dropped
        # stream wakes one (``_wake``), which reaps it and queues again.
        self.waiters: dict[_Waiter, None] = {}


class _Waiter:
    """One send of ``AsyncAuraClient._send``, while it may wait in the pool's queue."""

    __slots__ = ("inner", "request", "scope", "waiters", "woken")

    def __init__(
        self,
        waiters: dict[_Waiter, None],
        request: httpx.Request,
        inner: Callable[[str, object], Awaitable[None]] | None,
    ) -> None:
        self.waiters = waiters
        self.request = request
        self.inner = inner  # the request's own trace (the head's clock), passed every event
        self.scope: anyio.CancelScope | None = None
        self.woken = False

    async def trace(self, name: str, info: object) -> None:
        """httpcore's ``trace`` extension; only its first event matters.

        It comes as the request leaves the pool's queue (``connect_tcp`` or
        ``send_request_headers``, ``.started``), before anything is written:
        from then on the send may not be woken. Woken just before (the pool
        handed it a connection in the same instant), it ends here, unsent.
        """
        _set_trace(self.request, self.inner)
        self.waiters.pop(self, None)
        if self.woken:
            await anyio.lowlevel.checkpoint_if_cancelled()
        if self.inner is not None:
            await self.inner(name, info)


def _set_trace(request: httpx.Request, trace: object) -> None:
    if trace is None:
        request.extensions.pop("trace", None)
    else:
        request.extensions["trace"] = trace


def _until(at: float | None) -> anyio.CancelScope:
    """A cancel scope that ends at ``at``, a ``time.monotonic()`` instant (None: never).

    anyio's clock is not ``time.monotonic()`` under trio, hence the conversion.
    """
    return anyio.CancelScope(deadline=_on_anyio_clock(at))


def _move(scope: anyio.CancelScope, at: float | None) -> None:
    scope.deadline = _on_anyio_clock(at)


def _on_anyio_clock(at: float | None) -> float:
    return math.inf if at is None else anyio.current_time() + (at - time.monotonic())


def _before(
    next_chunk: Callable[[], Awaitable[bytes]], clock: BodyClock, reply: Reply
) -> Callable[[], Awaitable[bytes]]:
    """``next_chunk`` that ends the reply once ``clock.at`` passes (the total
    deadline, or the next text's).

    A closure, not a method: a stream must not reference itself (it would
    outlive a ``break`` until the garbage collector runs).
    """

    async def before() -> bytes:
        with _until(clock.at):
            return await next_chunk()
        limit = clock.passed(time.monotonic()) or "total"
        raise reply.timed_out(limit, clock.quiet if limit == "text" else clock.total)

    return before


def _sooner_than_read(clock: BodyClock, stream: AsyncStream) -> bool:
    """The text limit is shorter than the read limit (else a silent server hits ``read``)."""
    read = stream._timeout.read
    return clock.quiet is not None and (read is None or clock.quiet < read)


async def _no_chunk() -> bytes:
    raise StopAsyncIteration


def _aiter_bytes(
    response: httpx.Response, max_bytes: int | None = None
) -> AsyncGenerator[bytes, None]:
    # Typed as AsyncIterators; they are async generators, which we must aclose().
    return abody_chunks(response, max_bytes)  # type: ignore[return-value]


async def _aclose(chunks: AsyncGenerator[bytes, None] | None, response: httpx.Response) -> None:
    try:
        aclose = getattr(chunks, "aclose", None)  # a transport's stream may be a plain iterator
        if aclose is not None:
            await aclose()
    finally:
        await response.aclose()


class AsyncStream(BaseStream, AsyncIterator[str]):
    """A streamed reply: ``async for`` it for text chunks, or ``async with`` it.

    Nothing is sent until it is entered or iterated. ``text`` holds everything
    received so far (also after an error); ``status_code`` and ``headers``
    describe the response once it has arrived. Leaving the ``async with`` block,
    reaching the end, ``break``, an error or a cancellation all give the
    connection back.
    """

    def __init__(
        self,
        client: AsyncAuraClient,
        spec: RequestSpec,
        reply: Reply,
        timeout: Timeout,
        policy: RetryPolicy,
    ) -> None:
        """Made by ``AsyncAuraClient.stream()``, not by hand: ``client`` sends ``spec``
        (the request) within ``timeout`` (the call's limits) and ``policy`` (its
        retries); ``reply`` decodes the body."""
        super().__init__(spec, reply, timeout, policy)
        self._client = client
        self._chunks: AsyncGenerator[bytes, None] | None = None
        self._next_chunk: Callable[[], Awaitable[bytes]] = _no_chunk
        self._feed = reply.feed
        self._clock: BodyClock | None = None
        self._reading = False  # a task is inside __anext__
        self._stopped = False  # aclose() was called

    async def __aenter__(self) -> Self:
        await self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> str:
        # Every chunk passes here: bound methods are looked up once, in _start.
        if self._reading:
            raise AuraUsageError(
                "this stream is being read by another task: iterate a stream in one task only"
            )
        self._reading = True
        try:
            while True:
                try:
                    if self._chunks is None:
                        await self._start()
                        if self._chunks is None:
                            raise StopAsyncIteration
                    while True:
                        try:
                            data = await self._next_chunk()
                        except StopAsyncIteration:
                            await self._close()
                            tail = self._reply.finish()
                            if tail:
                                return tail
                            raise
                        except KNOWN.transport as exc:
                            await self._close()
                            if self._stopped:  # another task's aclose() ended this read
                                raise StopAsyncIteration from None
                            raise connection_error(exc, self._budget, self._reply) from exc
                        except BaseException:
                            await self._close()
                            raise
                        try:
                            text = self._feed(data)
                            if self._clock is not None:
                                self._reply.tick(self._clock, text)
                        except BaseException:
                            await self._close()
                            raise
                        if self._reply.ended:  # the dialect's end marker: read no further
                            try:
                                if self._reply.drain and self._chunks is not None:
                                    await adrain(self._chunks, self._deadline)
                            finally:
                                await self._close()
                            if text:
                                return text
                            raise StopAsyncIteration
                        if text:
                            return text
                except APIError as error:
                    # Before any text, an error event may be retried; an empty stream
                    # is asked about (``_again``); else it is final.
                    reply = self._reply
                    if self._stopped or not reply.may_ask_again(error):
                        raise
                    await self._again(error)
        except APIError as error:  # a cut, an error event, a deadline: it names the request
            if self._attempts is not None:
                self._attempts.annotate(error, midway=True)
            raise
        finally:
            self._reading = False

    async def _again(self, error: APIError) -> None:
        """Send the request again after ``error`` (before any text), or raise: the
        error, named, when it is final, or what the dialect's probe answers."""
        client, reply, attempts = self._client, self._reply, self._attempts
        if attempts is None:
            raise error
        # The connection goes back first: the next request may need it (a pool of one).
        await self._close()
        probe = client._dialect.probe(self._spec) if reply.empty else None
        if probe is not None:
            await client._probe(probe, self._budget, error)  # raises
        delay = attempts.failed(error)  # raises the error, named, when it is final
        await anyio.sleep(delay)
        self._response, _ = await client._open(
            self._spec, self._budget, self._policy, attempts=attempts
        )
        self.retries = attempts.retries
        reply.restart()
        self._done = False
        self._read(self._response)

    async def aclose(self) -> None:
        """Stop reading and give the connection back to the pool. Safe to call twice.

        From another task than the one iterating, it ends that task's loop (at
        once, also if it is waiting for the next chunk).
        """
        self._done = self._stopped = True
        if self._reading:
            # Another task is inside __anext__: closing the body's iterator under
            # it would fail; closing the response ends its read, and it closes
            # the rest itself.
            response = self._response
            if response is not None:
                with anyio.move_on_after(_CLOSE_GRACE, shield=True):
                    await response.aclose()
            return
        await self._close()

    async def _close(self) -> None:
        self._done = True
        chunks, self._chunks = self._chunks, None
        if self._response is not None and not self._response.is_closed:
            # Shielded, so a cancelled caller still gives the connection back.
            with anyio.move_on_after(_CLOSE_GRACE, shield=True):
                await _aclose(chunks, self._response)

    async def _start(self) -> None:
        if self._done or self._response is not None:
            return
        self._done = True  # a failed start is final, too
        self._response, self._attempts = await self._client._open(
            self._spec, self._begin(), self._policy
        )
        self.retries = self._attempts.retries
        if self._stopped:  # closed by another task while it was being sent
            await self._close()
            return
        self._done = False
        self._read(self._response)

    def _read(self, response: httpx.Response) -> None:
        """Read ``response``'s body from now on."""
        self._chunks = _aiter_bytes(response, self._reply.max_bytes)
        self._next_chunk = self._chunks.__anext__
        self._clock = clock = self._budget.start_body()
        if clock is not None and (self._deadline is not None or _sooner_than_read(clock, self)):
            # Each read ends by the clock, not only each chunk: a cancel scope per
            # read, so only where ``read`` (which ends a silent server's stream
            # first otherwise) would not do.
            self._next_chunk = _before(self._next_chunk, clock, self._reply)

    def __del__(self) -> None:
        # Dropped while open (``break`` with no reference kept): hand the response
        # to the client, which closes it on its own loop at its next call.
        response: httpx.Response | None = getattr(self, "_response", None)
        if response is not None and not response.is_closed:
            client = self._client
            client._orphans.append((self._chunks, response))
            # A send may be waiting for this very connection: wake one, unless
            # this runs on a foreign thread (never touch a loop from there).
            if client._waiters and threading.get_ident() == client._shared.thread:
                client._wake()
