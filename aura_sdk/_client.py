"""``AuraClient``: the synchronous facade. It only moves bytes and sleeps."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, NoReturn

import httpx

from ._base import DEFAULT_MAX_RESPONSE_BYTES, BaseClient, BaseStream, probe_failed, probed
from ._exceptions import APIError
from ._http import (
    HeadClock,
    bind_deadlines,
    body_chunks,
    bounded_chunks,
    build_request,
    connection_error,
    deadline,
    drain,
    error_from_response,
    interrupt,
    open_http,
    set_body_timeout,
    timeout_error,
)
from ._models import DEFAULT_MODEL, Model
from ._response import BodyBuffer
from ._retry import Attempts, RetryPolicy, with_retries
from ._stacks import KNOWN
from ._status import error_body_limit
from ._timeouts import DEFAULT_TIMEOUT, Budget, Timeout, TimeoutTypes

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self, Unpack

    from ._dialects import DialectName
    from ._messages import Message
    from ._params import ChatParams
    from ._reply import Reply
    from ._request import RequestSpec
    from ._stacks import SyncHTTPClient

__all__ = ["AuraClient", "Stream"]


class AuraClient(BaseClient):
    """A synchronous client for an Aura (openchat-ui) server.

    Example::

        with AuraClient(base_url="http://127.0.0.1:8000") as client:
            for chunk in client.stream([user("Hi")]):
                print(chunk, end="", flush=True)

    ``base_url`` falls back to ``$AURA_BASE_URL``, then the dialect's default:
    ``http://127.0.0.1:8000`` (``aura serve``) for ``"aura"``,
    ``http://127.0.0.1:11434/v1`` (ollama) for ``"openai"``; an endpoint pasted
    whole (``.../api/chat``, ``.../v1/chat/completions``) is cut back to the
    server's URL. ``api_key`` falls back to ``$AURA_API_KEY``, then ``""`` (the
    server's own key). ``max_retries`` is a count or a ``RetryPolicy``. An
    ``http_client`` passed in is used as it is and never closed by the SDK.
    ``with_options()`` makes a copy with other settings over the same pool.
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
        http_client: SyncHTTPClient | None = None,
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
            http_client: an ``httpx.Client`` or an ``httpx2.Client`` to send through
                (openai-python 3.x's stack), used as it is and never closed by the SDK.
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
        self._http = open_http(httpx.Client, http_client, proxy, self._config, self._dialect)
        if http_client is None:
            bind_deadlines(self._http)  # a trickled head or body cannot outlast a limit

    def stream(self, messages: Sequence[Message], **params: Unpack[ChatParams]) -> Stream:
        """Stream a reply: an iterator of text chunks, and a context manager.

        ``messages`` is the conversation (``user("Hi")``...). The input is checked
        now (``AuraValidationError``); nothing is sent until the stream is entered
        or iterated. ``params`` (see ``ChatParams``):
        ``temperature``, ``max_tokens``, ``system`` (placed before any system
        messages), ``model``, ``stop``, ``top_p``, ``seed``, ``condition``,
        ``errors``, ``timeout`` (this call's limits, replacing the client's) and
        ``max_retries`` (this call's retries).
        """
        spec, reply, limits, policy = self._chat(messages, params)
        return Stream(self, spec, reply, limits, policy)

    def chat(self, messages: Sequence[Message], **params: Unpack[ChatParams]) -> str:
        """The whole reply to ``messages`` as one string; ``params`` as for ``stream()``.

        If the reply breaks off, the ``StreamInterruptedError`` carries the part
        received in ``.text``.
        """
        with self.stream(messages, **params) as stream:
            for _ in stream:
                pass
        return stream.text

    def models(
        self, *, timeout: float | Timeout | None = None, max_retries: int | None = None
    ) -> list[Model]:
        """The models the server offers (Aura: ``POST /api/models``; OpenAI: ``GET /models``).

        ``timeout``: this call's limits (seconds or a ``Timeout``), replacing the
        client's; ``max_retries``: this call's retries, replacing the client's count.
        """
        spec, budget, policy = self._models(timeout, max_retries)
        response, attempts = self._open(spec, budget, policy, reply=False)
        buffer = BodyBuffer(self._max_response_bytes, self._config.api_key)
        try:
            with _closing(response):
                try:
                    with deadline(budget.deadline):
                        for chunk in body_chunks(response, buffer.limit):
                            buffer.add(chunk)
                except KNOWN.transport as exc:
                    raise connection_error(exc, budget, body=True) from exc
            return self._dialect.parse_models(bytes(buffer.data), self._config.api_key)
        except APIError as error:
            attempts.annotate(error, midway=True)
            raise

    def close(self) -> None:
        """Close the connection pool (unless the ``http_client`` was passed in).

        The client cannot be used afterwards (``AuraUsageError``).
        """
        self._closed = True
        if self._closes_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _http_closed(self) -> bool:
        return self._http.is_closed

    def _open(
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
        if attempts is None:
            attempts = self._attempts(spec, budget, policy)
        replayed = False
        while True:
            attempts.start()
            error: APIError
            clock = HeadClock(budget)
            request = build_request(self._http, spec, budget, own=self._http_headers, clock=clock)
            try:
                with deadline(clock):
                    # Never a redirect, even if the caller's http_client follows them:
                    # the body (the prompt, maybe the key) must not go elsewhere.
                    response = self._http.send(request, stream=True, follow_redirects=False)
            except KNOWN.send as exc:
                if not replayed and clock.stale(exc):
                    replayed = True
                    attempts.replay(exc)
                    continue
                error = connection_error(exc, budget)
                error.__cause__ = exc
            else:
                attempts.received(response.status_code, response.headers.multi_items())
                if clock.passed():  # a caller's http_client bounds each read, not the head
                    response.close()
                    error = timeout_error(budget, "response")
                elif response.is_success and (
                    not reply or self._dialect.streams(response.headers.get("content-type", ""))
                ):
                    attempts.succeeded(response.status_code)
                    set_body_timeout(response, budget)
                    return response, attempts
                else:
                    error = self._status_error(response, budget)
            time.sleep(attempts.failed(error))

    def _probe(self, spec: RequestSpec, budget: Budget, empty: APIError) -> NoReturn:
        """After an empty stream: ``spec`` (the dialect's ``probe``) once, and raise
        what it answers, or ``empty`` if that is a success."""
        try:
            response, _ = self._open(spec, budget, with_retries(self._retry, 0), reply=False)
        except APIError as error:
            raise probe_failed(error) from None
        response.close()
        raise probed(empty, response.status_code)

    def _status_error(self, response: httpx.Response, budget: Budget) -> APIError:
        # A success that is no reply (an error inside a 200) may be as large as one.
        limit = (
            error_body_limit(self._max_response_bytes)
            if not response.is_success or self._max_response_bytes is None
            else self._max_response_bytes
        )
        with _closing(response):
            body = bytearray()
            set_body_timeout(response, budget)
            try:
                with deadline(budget.deadline):
                    for chunk in body_chunks(response, limit):  # bounded, received and decoded
                        body += chunk
                        if len(body) >= limit:
                            break
            except KNOWN.transport:
                pass  # the status line already says what went wrong
        return error_from_response(
            response,
            bytes(body[:limit]),
            self._config.api_key,
            self._dialect,
            self._config.base_url,
        )


class _closing:
    """``contextlib.closing`` for an ``httpx.Response``, typed."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    def __enter__(self) -> httpx.Response:
        return self._response

    def __exit__(self, *exc_info: object) -> None:
        self._response.close()


class Stream(BaseStream, Iterator[str]):
    """A streamed reply: iterate it for text chunks, or use it as a context manager.

    Nothing is sent until it is entered or iterated. ``text`` holds everything
    received so far (also after an error); ``status_code`` and ``headers``
    describe the response once it has arrived. Leaving the ``with`` block,
    reaching the end, ``break`` or an error all give the connection back.
    """

    def __init__(
        self,
        client: AuraClient,
        spec: RequestSpec,
        reply: Reply,
        timeout: Timeout,
        policy: RetryPolicy,
    ) -> None:
        """Made by ``AuraClient.stream()``, not by hand: ``client`` sends ``spec``
        (the request) within ``timeout`` (the call's limits) and ``policy`` (its
        retries); ``reply`` decodes the body."""
        super().__init__(spec, reply, timeout, policy)
        self._client = client
        self._chunks: Iterator[bytes] | None = None
        self._rest: Iterator[bytes] | None = None
        self._texts: Generator[str, None, None] | None = None
        self._body: _Body | None = None
        self._reader = 0  # the thread that iterates it
        self._stopped = False  # close() was called

    def __enter__(self) -> Self:
        self._start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[str]:
        if self._texts is None:
            self._start()
            if self._body is None or self._chunks is None or self._attempts is None:
                self._texts = _no_texts()  # closed before it was iterated
            else:
                self._texts = _texts(
                    self._body,
                    self._chunks,
                    self._reply,
                    self._budget,
                    self._rest,
                    self._attempts,
                    _Again(self),
                )
                self._reader = threading.get_ident()
        return self._texts

    def __next__(self) -> str:
        return next(self._texts or self.__iter__())

    def close(self) -> None:
        """Stop reading and give the connection back to the pool. Safe to call twice.

        From another thread than the one iterating, it ends that thread's loop
        (at once, also if it is waiting for the next chunk), which then gives
        the connection back itself.
        """
        self._done = self._stopped = True
        self._chunks = None
        body, texts = self._body, self._texts
        if body is None:
            return
        body.stopped = True
        if texts is not None and self._reader != threading.get_ident():
            # Not the generator's thread: closing it there could run into it
            # ("generator already executing"), and the response under it.
            with body.lock:
                if not body.response.is_closed:  # else its connection is back in the pool
                    interrupt(body.response)
            return
        if texts is not None:
            texts.close()  # its ``finally`` closes the response
        body.response.close()

    def _start(self) -> None:
        if self._done or self._response is not None:
            return
        self._done = True  # a failed start is final, too
        self._response, self._attempts = self._client._open(self._spec, self._begin(), self._policy)
        self.retries = self._attempts.retries
        if self._stopped:  # closed from another thread while it was being sent
            self._response.close()
            return
        self._done = False
        self._body = _Body(self._response)
        self._chunks, self._rest = self._read(self._response)

    def _read(self, response: httpx.Response) -> tuple[Iterator[bytes], Iterator[bytes] | None]:
        """The body's chunks, and the same unbounded to read the rest after the end."""
        # Dropping these unclosed (``break`` with no reference kept) runs their
        # close(), which makes httpcore give the connection back at once.
        chunks = rest = body_chunks(response, self._reply.max_bytes)
        clock = self._budget.start_body()
        if clock is not None and self._client._owns_http:
            # Each read ends by the clock (the total deadline, the next text's), not
            # only each chunk: a caller's http_client bounds each read by ``read``.
            chunks = bounded_chunks(chunks, clock)
        # Only the SDK's own client can bound each read of the rest (see ``drain``).
        return chunks, rest if self._client._owns_http else None


class _Body:
    """A stream's open response, shared by the stream and its loop.

    The last of them dropped (a stream started, or iterated, then dropped unread)
    closes the response: it gives the connection back at once, as a dropped
    loop's own ``finally`` does.
    """

    __slots__ = ("lock", "response", "stopped")

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.stopped = False  # closed by the caller: the end of the body is not a cut
        self.lock = threading.Lock()  # a close from another thread vs. the loop's own

    def __del__(self) -> None:
        with suppress(*KNOWN.transport):  # a finalizer raises to no one
            self.response.close()


def _no_texts() -> Generator[str, None, None]:
    yield from ()


class _Again:
    """What a stream's loop does when its reply fails before any text.

    A weak reference to the stream (the loop must not keep it alive).
    """

    __slots__ = ("_stream",)

    def __init__(self, stream: Stream) -> None:
        self._stream = weakref.ref(stream)

    def __call__(self, error: APIError) -> tuple[Iterator[bytes], Iterator[bytes] | None]:
        """Send the request again, or raise: the error, or what the probe answered."""
        stream = self._stream()
        if stream is None or stream._attempts is None or stream._body is None:
            raise error
        client, reply, attempts = stream._client, stream._reply, stream._attempts
        budget = stream._budget
        # The connection goes back first: the next request may need it (a pool of one).
        stream._body.response.close()
        probe = client._dialect.probe(stream._spec) if reply.empty else None
        if probe is not None:
            client._probe(probe, budget, error)  # raises
        delay = attempts.failed(error)  # raises the error, named, when it is final
        time.sleep(delay)
        response, _ = client._open(stream._spec, budget, stream._policy, attempts=attempts)
        stream.retries = attempts.retries
        stream._response = stream._body.response = response
        reply.restart()
        return stream._read(response)


def _texts(
    body: _Body,
    chunks: Iterator[bytes],
    reply: Reply,
    budget: Budget,
    rest: Iterator[bytes] | None,
    attempts: Attempts,
    again: _Again,
) -> Generator[str, None, None]:
    """The loop of a stream, as a generator: cheaper per chunk than ``__next__``.

    It holds no reference to its ``Stream``, so dropping the stream drops it, and
    closing it (``break``, an exception in the caller's loop) closes the response
    at once. ``rest``: the body's own chunks, to read the end of it after a
    complete reply (``drain``), when every read there can be bounded. Its
    errors name the request (``attempts``). An error before any text (an error
    event, an empty stream) goes to ``again``: a retry, or the error.
    """
    try:
        while True:
            try:
                yield from reply.texts(chunks, budget.body)
                if reply.drain and rest is not None:
                    drain(rest, budget.deadline)
                return
            except APIError as error:  # the reply's own: an error event, a cut, a deadline
                if not reply.may_ask_again(error):
                    raise
                with body.lock:
                    if body.stopped:
                        return
                chunks, rest = again(error)
    except KNOWN.transport as exc:
        if body.stopped or body.response.is_closed:
            return  # closed by the caller while iterating
        raise attempts.annotate(connection_error(exc, budget, reply), midway=True) from exc
    except APIError as error:
        attempts.annotate(error, midway=True)
        raise
    finally:
        with body.lock:
            body.response.close()
