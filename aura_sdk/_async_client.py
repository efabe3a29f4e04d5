"""``AsyncAuraClient``: the async facade (asyncio and trio, through anyio).

It mirrors ``AuraClient`` method for method; a test compares the two surfaces.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import httpx

from ._base import DEFAULT_MAX_RESPONSE_BYTES, BaseClient, BaseStream
from ._exceptions import AuraUsageError
from ._http import (
    TRANSPORT_ERRORS,
    abody_chunks,
    build_request,
    connection_error,
    error_from_response,
    open_http,
    set_body_timeout,
)
from ._models import DEFAULT_MODEL, Model
from ._request import models_request
from ._response import parse_models
from ._retry import RetryPolicy
from ._status import ERROR_BODY_LIMIT
from ._timeouts import DEFAULT_TIMEOUT, Budget, Timeout, TimeoutTypes

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from types import TracebackType

    from typing_extensions import Self

    from ._decoder import DecodeErrors
    from ._exceptions import APIError
    from ._messages import Message
    from ._reply import Reply
    from ._request import RequestSpec

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
    using it from another raises ``AuraUsageError``.
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
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            api_key=api_key,
            model=model,
            timeout=timeout,
            max_retries=max_retries,
            headers=headers,
            max_response_bytes=max_response_bytes,
        )
        self._owns_http = http_client is None
        self._http = open_http(httpx.AsyncClient, http_client, proxy, self._config)
        self._loop: anyio.lowlevel.EventLoopToken | None = None
        # Streams dropped unclosed (``break`` with no reference kept) land here;
        # they are closed at the start of the next call, on the right event loop,
        # since a finalizer must not schedule work on a loop.
        self._orphans: list[_Orphan] = []

    def stream(
        self,
        messages: Sequence[Message],
        *,
        temperature: float | None = 0.5,
        max_tokens: int = 8192,
        system: str | None = None,
        model: str | Model | None = None,
        errors: DecodeErrors = "replace",
        timeout: float | Timeout | None = None,
    ) -> AsyncStream:
        """Stream a reply: an async iterator of text chunks, and an async context manager.

        The input is checked now; nothing is sent until the stream is entered or
        iterated. ``system`` goes before any system messages in the prompt;
        ``timeout`` replaces the client's limits for this call.
        """
        spec, reply, limits = self._chat(
            messages, temperature, max_tokens, system, model, errors, timeout
        )
        return AsyncStream(self, spec, reply, limits)

    async def chat(
        self,
        messages: Sequence[Message],
        *,
        temperature: float | None = 0.5,
        max_tokens: int = 8192,
        system: str | None = None,
        model: str | Model | None = None,
        errors: DecodeErrors = "replace",
        timeout: float | Timeout | None = None,
    ) -> str:
        """The whole reply as one string.

        If the reply breaks off, the ``StreamInterruptedError`` carries the part
        received in ``.text``.
        """
        async with self.stream(
            messages,
            temperature=temperature,
            max_tokens=max_tokens,
            system=system,
            model=model,
            errors=errors,
            timeout=timeout,
        ) as stream:
            async for _ in stream:
                pass
        return stream.text

    async def models(self, *, timeout: float | Timeout | None = None) -> list[Model]:
        """The models the server offers (``POST /api/models``)."""
        budget = Budget(self._timeout(timeout))
        response, _ = await self._open(models_request(self._config), budget)
        try:
            body = await response.aread()
        except TRANSPORT_ERRORS as exc:
            raise connection_error(exc, budget) from exc
        finally:
            await response.aclose()
        return parse_models(body)

    async def aclose(self) -> None:
        """Close the connection pool (unless the ``http_client`` was passed in)."""
        self._check_loop()
        await self._reap()
        if self._owns_http:
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
        if self._loop is None:
            self._loop = token
        elif token != self._loop:
            raise AuraUsageError(
                "this AsyncAuraClient was first used in another event loop, and its "
                "connections belong to that loop: create one client per event loop"
            )

    async def _reap(self) -> None:
        while self._orphans:
            chunks, response = self._orphans.pop()
            await _aclose(chunks, response)

    async def _open(self, spec: RequestSpec, budget: Budget) -> tuple[httpx.Response, int]:
        """Send ``spec`` until a success status arrives; retries as the policy says."""
        self._check_loop()
        await self._reap()
        attempts = self._attempts(spec, budget)
        while True:
            attempts.start()
            error: APIError
            try:
                request = build_request(self._http, spec, budget, own=self._owns_http)
                response = await self._http.send(request, stream=True)
            except TRANSPORT_ERRORS as exc:
                error = connection_error(exc, budget)
                error.__cause__ = exc
            else:
                if response.is_success:
                    attempts.succeeded(response.status_code)
                    set_body_timeout(response, budget)
                    return response, attempts.retries
                error = await self._status_error(response)
            await anyio.sleep(attempts.failed(error))

    async def _status_error(self, response: httpx.Response) -> APIError:
        body = bytearray()
        chunks = _aiter_bytes(response)
        try:
            async for chunk in chunks:
                body += chunk
                if len(body) >= ERROR_BODY_LIMIT:
                    break
        except TRANSPORT_ERRORS:
            pass  # the status line already says what went wrong
        finally:
            await _aclose(chunks, response)
        return error_from_response(response, bytes(body), self._config.api_key)


async def _no_chunk() -> bytes:
    raise StopAsyncIteration


def _aiter_bytes(response: httpx.Response) -> AsyncGenerator[bytes, None]:
    # Typed as AsyncIterators; they are async generators, which we must aclose().
    return abody_chunks(response)  # type: ignore[return-value]


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
        self, client: AsyncAuraClient, spec: RequestSpec, reply: Reply, timeout: Timeout
    ) -> None:
        super().__init__(spec, reply, timeout)
        self._client = client
        self._chunks: AsyncGenerator[bytes, None] | None = None
        self._next_chunk: Callable[[], Awaitable[bytes]] = _no_chunk
        self._feed = reply.feed

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
        if self._chunks is None:
            await self._start()
            if self._chunks is None:
                raise StopAsyncIteration
        while True:
            try:
                data = await self._next_chunk()
            except StopAsyncIteration:
                await self.aclose()
                tail = self._reply.finish()
                if tail:
                    return tail
                raise
            except TRANSPORT_ERRORS as exc:
                await self.aclose()
                raise connection_error(exc, self._budget, self._reply) from exc
            except BaseException:
                await self.aclose()
                raise
            try:
                text = self._feed(data)
            except BaseException:
                await self.aclose()
                raise
            if self._deadline is not None and (overdue := self._overdue()):
                await self.aclose()
                raise overdue
            if text:
                return text

    async def aclose(self) -> None:
        """Stop reading and give the connection back to the pool. Safe to call twice."""
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
        self._response, self.retries = await self._client._open(self._spec, self._begin())
        self._done = False
        self._chunks = _aiter_bytes(self._response)
        self._next_chunk = self._chunks.__anext__

    def __del__(self) -> None:
        # Dropped while open (``break`` with no reference kept): hand the response
        # to the client, which closes it on its own loop at its next call.
        response: httpx.Response | None = getattr(self, "_response", None)
        if response is not None and not response.is_closed:
            self._client._orphans.append((self._chunks, response))
