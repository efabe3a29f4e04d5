"""The local Aura server: openchat-ui's wire behaviour on h11 and anyio.

ASGI has no way to set an HTTP reason phrase, and openchat-ui's reason phrase is
its only error detail, so this server speaks HTTP/1.1 itself through h11 (the
sans-IO HTTP library httpx already depends on).

This module only moves bytes: what each request gets is the dialect's answer
(``_aura.AuraDialect``, ``_openai.OpenAIDialect``, the seam in ``_answers``).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import anyio.abc
import anyio.from_thread
import h11
from anyio.abc import TaskStatus  # pyright's --verifytypes cannot see it as anyio.abc.TaskStatus

from .._models import KNOWN_MODELS
from ._answers import Dialect, RecordedRequest, Settings, Whole, phrase
from ._aura import AuraDialect
from ._faults import FAULT_HEADER, Fault, is_safe_reason
from ._flavors import FLAVORS, Flavor, FlavorName
from ._openai import DEFAULT_OPENAI_MODELS, OpenAIDialect
from ._protocol import Failure
from ._responder import LocalResponder, to_utf8

if TYPE_CHECKING:
    from typing_extensions import Self

    from .._dialects import DialectName

__all__ = ["DEFAULT_MAX_RECORDED", "DIALECTS", "AuraServer", "RecordedRequest", "url_host"]

_MAX_BODY = 16 * 1024 * 1024
_MAX_HEAD = 64 * 1024
_TEXT_PLAIN = ("content-type", "text/plain;charset=UTF-8")
DEFAULT_MAX_RECORDED = 1000
"""How many requests ``AuraServer.requests`` keeps by default (the newest)."""
_ACCEPT_PAUSES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
"""The waits after a failed ``accept`` (out of file descriptors), growing, then the last."""
# The answer when building the real one failed before a byte of it was sent.
_FALLBACK_500 = (
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain;charset=UTF-8\r\n"
    b"content-length: 5\r\nconnection: close\r\n\r\nError"
)

DIALECTS: dict[str, Callable[[], Dialect]] = {"aura": AuraDialect, "openai": OpenAIDialect}
"""The wire dialects ``AuraServer`` speaks, by name."""
_DEFAULT_MODELS = {"aura": tuple(KNOWN_MODELS), "openai": DEFAULT_OPENAI_MODELS}

request_log = logging.getLogger("aura_sdk.server")
"""One INFO record per request answered: client, method, path, status, bytes, ms.

The message reads ``127.0.0.1 POST /api/chat 200 1234 B 12 ms``; the record also
has them as attributes (``client``, ``method``, ``path``, ``status``, ``sent``,
``ms``). The path has no query string and no control characters; no header value
(so no API key) is ever in it. ``aura serve`` shows it on stderr (``--quiet``: not).
"""
_MAX_LOGGED_PATH = 200


@dataclass
class _Stats:
    max_recorded: int
    connections: int = 0
    accept_errors: int = 0
    requests: deque[RecordedRequest] = field(init=False)

    def __post_init__(self) -> None:
        self.requests = deque(maxlen=self.max_recorded)


def _check_flavor(
    dialect: object, flavor: object, context: object, reasoning: object, keepalive: object
) -> Flavor | None:
    """The flavor to play (None: the dialect's own), its settings checked."""
    if flavor is None:
        if context is not None or reasoning is not None or keepalive is not None:
            if dialect != "openai":
                raise ValueError("context, reasoning and keepalive are for dialect='openai'")
            flavor = "openchat"
        else:
            return None
    if dialect != "openai":
        raise ValueError(
            f"flavor is for dialect='openai' (an OpenAI-compatible server), got {dialect!r}"
        )
    if not isinstance(flavor, str) or flavor not in FLAVORS:
        raise ValueError(f"flavor must be one of {sorted(FLAVORS)}, got {flavor!r}"[:300])
    played = FLAVORS[flavor]
    if context is not None:
        if isinstance(context, bool) or not isinstance(context, int) or not 1 <= context <= 10**7:
            raise ValueError(f"context must be an int from 1 to 10**7 tokens, got {context!r}")
        if flavor == "openchat":
            raise ValueError("context: OpenChat's is fixed (8192); pick another flavor")
    if reasoning is not None and not isinstance(reasoning, str):
        raise TypeError(f"reasoning must be a str, got {type(reasoning).__name__}")
    if keepalive is not None:
        if isinstance(keepalive, bool) or not isinstance(keepalive, (int, float)):
            raise TypeError(f"keepalive must be seconds, got {type(keepalive).__name__}")
        if not 0 < keepalive <= 3600:
            raise ValueError(f"keepalive must be from 0 to 3600 seconds, got {keepalive!r}")
        played = replace(played, keepalive=float(keepalive))
    return played


def _check_settings(host: object, port: object, pace: object, fault: object) -> None:
    """``AuraServer``'s settings, refused at once (not as a dead server or a 500 later)."""
    if not isinstance(host, str):
        raise TypeError(f"host must be a str, got {type(host).__name__}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an int from 0 to 65535, got {port!r}")
    if isinstance(pace, bool) or not isinstance(pace, (int, float)):
        raise TypeError(f"pace must be a number of seconds, got {type(pace).__name__}")
    try:
        seconds = float(pace)
    except OverflowError:  # an int too large for a float
        seconds = math.inf
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"pace must be a finite number of seconds >= 0, got {pace!r}")
    if fault is not None and not isinstance(fault, Fault):
        raise TypeError(f"fault must be a Fault or None, got {type(fault).__name__}")


def _strings(name: str, values: object) -> tuple[str, ...]:
    """A collection of non-empty str; a str alone is refused, not split into characters."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(
            f"{name} must be a collection of str (a set or a list), got {values!r}"[:200]
        )
    items = tuple(values)
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValueError(f"{name}: expected non-empty str items, got {item!r}"[:200])
    return items


class AuraServer:
    """An Aura-compatible server on 127.0.0.1, for development and tests.

    Run it in a background thread::

        with AuraServer(pace=0) as server:
            client = AuraClient(base_url=server.base_url)
            server.script(Fault(drop_after=2))      # the next chat request breaks off
            ...
            server.requests[-1].json()              # what the client sent

    or in your own event loop with ``await server.serve(task_status=...)``.
    ``fault`` applies to every request that has no scripted fault of its own;
    ``host`` may be an IPv6 address (``"::1"``: ``base_url`` is ``http://[::1]:PORT``).
    ``requests`` keeps the newest ``max_recorded`` requests (1000 by default).

    ``dialect="openai"`` speaks OpenChat's own OpenAI-compatible server instead
    (``POST /v1/chat/completions``, ``GET /v1/models``, SSE, its errors and
    quirks): ``base_url`` is then ``http://HOST:PORT/v1``, as clients want it
    (``root_url`` is always ``http://HOST:PORT``). There, ``api_keys`` are
    checked as ``Authorization: Bearer KEY`` (none, or empty: no check),
    ``models`` defaults to ``openchat_3.6``, ``openchat_3.5`` and its alias
    ``openchat_v3.2_mistral``, and ``enable_sys_prompt=True`` is OpenChat's
    ``--enable-sys-prompt`` (system messages are dropped without it). ``pace``
    is the pause per word of the reply in both dialects: there, each delta of six
    words waits six times ``pace``. A ``Fault`` field only the openai dialect can
    send (``sse``, ``error_event``...) is a ``ValueError`` in the aura dialect.

    A bad setting (a port out of range, a NaN ``pace``, ``api_keys`` given as one
    str) raises ``ValueError`` or ``TypeError`` here, not when it starts.

    No request stops it: broken HTTP gets a ``400`` (``431`` for a head over
    64 KiB, ``413`` for a body over 16 MiB) and the connection closes; anything
    else it cannot serve gets openchat-ui's ``500``. Running out of file
    descriptors pauses accepting until some are free.

    Args:
        host: the address to listen on (``127.0.0.1``; ``::1`` for IPv6).
        port: the port, or ``0`` for a free one (read ``port`` once started).
        pace: seconds between two words of a streamed reply (``0``: no pause).
        models: the model ids it offers (default: the dialect's own).
        api_keys: the keys it accepts (openai dialect; ``None``: no check).
        fault: the fault of every request that has none scripted (``None``: none).
        max_recorded: how many requests ``requests`` keeps (the newest).
        dialect: ``"aura"`` (openchat-ui) or ``"openai"`` (OpenChat's own server).
        enable_sys_prompt: OpenChat's ``--enable-sys-prompt`` (openai dialect only).
        flavor: the OpenAI-compatible server it plays (openai dialect only):
            ``"openchat"`` (the default), ``"vllm"``, ``"ollama"``,
            ``"llama-cpp-python"``, ``"llama-server"`` (llama.cpp's own),
            ``"lmstudio"`` or ``"sglang"``: each one's framing, error shapes,
            overflow, usage, keep-alives and request ids (see the README's table).
        context: the context in tokens, for a flavor other than ``openchat``
            (default: the flavor's; a small one makes an overflow cheap).
        reasoning: text sent as reasoning deltas before each streamed reply, under
            the flavor's field (``reasoning_content`` or ``reasoning``).
        keepalive: seconds between the flavor's keep-alive comments while a reply
            stalls (default: the flavor's, 15 s for llama-cpp-python; ``None``
            with no flavor default: none).
    """

    dialect: DialectName
    """The wire dialect it speaks: ``"aura"`` or ``"openai"``."""
    enable_sys_prompt: bool
    """OpenChat's ``--enable-sys-prompt``: system messages reach the model (openai dialect)."""
    flavor: FlavorName | None
    """The OpenAI-compatible server it plays (``None``: the aura dialect, or OpenChat's own)."""
    context: int | None
    """Its context in tokens, if set (else the flavor's)."""
    reasoning: str | None
    """Reasoning sent before each streamed reply, if set."""
    host: str
    """The address it listens on."""
    port: int
    """The port it listens on (the one it got, once started with ``port=0``)."""
    responder: LocalResponder
    """What builds its replies (``responder.pace`` is the pause between two words)."""
    models: tuple[str, ...]
    """The model ids it offers."""
    api_keys: frozenset[str] | None
    """The keys it accepts (``None``: no check). Never in its ``repr``."""
    fault: Fault
    """The fault of every chat request that has none scripted (``Fault()``: none)."""
    max_recorded: int
    """How many requests ``requests`` keeps (the newest)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        pace: float = 0.03,
        models: Collection[str] | None = None,
        api_keys: Collection[str] | None = None,
        fault: Fault | None = None,
        max_recorded: int = DEFAULT_MAX_RECORDED,
        dialect: DialectName = "aura",
        enable_sys_prompt: bool = False,
        flavor: FlavorName | None = None,
        context: int | None = None,
        reasoning: str | None = None,
        keepalive: float | None = None,
    ) -> None:
        count: object = max_recorded
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"max_recorded must be an int >= 1, got {max_recorded!r}")
        _check_settings(host, port, pace, fault)
        name: object = dialect
        if not isinstance(name, str) or name not in DIALECTS:
            raise ValueError(f"dialect must be one of {sorted(DIALECTS)}, got {dialect!r}"[:200])
        if not isinstance(enable_sys_prompt, bool):
            raise TypeError("enable_sys_prompt must be true or false")
        if enable_sys_prompt and dialect != "openai":
            raise ValueError("enable_sys_prompt is OpenChat's flag: only for dialect='openai'")
        played = _check_flavor(dialect, flavor, context, reasoning, keepalive)
        self.dialect = dialect
        self.flavor = None if played is None else played.name
        self._dialect = OpenAIDialect(played) if played is not None else DIALECTS[dialect]()
        self.enable_sys_prompt = enable_sys_prompt
        self.context = context
        self.reasoning = reasoning
        if fault is not None:
            self._dialect.check_fault(fault)
        self.host = host
        self.port = port
        self.responder = LocalResponder(pace=float(pace))
        self.models = _strings("models", _DEFAULT_MODELS[dialect] if models is None else models)
        self.api_keys = None if api_keys is None else frozenset(_strings("api_keys", api_keys))
        self.fault = fault or Fault()
        self._script: deque[Fault] = deque()
        self.max_recorded = max_recorded
        self._stats = _Stats(max_recorded)
        self._lock = threading.Lock()
        self._portal_cm: AbstractContextManager[anyio.from_thread.BlockingPortal] | None = None
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._cancel: anyio.CancelScope | None = None
        self._listening = False

    def __repr__(self) -> str:
        # Never its API keys: only the address, the dialect and whether it runs.
        state = "running" if self._listening else "stopped"
        flavor = "" if self.flavor is None else f" flavor={self.flavor}"
        return f"<AuraServer dialect={self.dialect}{flavor} {self.base_url} {state}>"

    # --- what tests use ------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What a client takes as its base URL: ``root_url``, plus ``/v1`` in the openai dialect."""
        return self.root_url + self._dialect.prefix

    @property
    def root_url(self) -> str:
        """``http://HOST:PORT``, with an IPv6 host in brackets."""
        return f"http://{url_host(self.host)}:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far (the newest ``max_recorded``), oldest first."""
        with self._lock:
            return list(self._stats.requests)

    @property
    def connections(self) -> int:
        """How many TCP connections were accepted."""
        return self._stats.connections

    @property
    def accept_errors(self) -> int:
        """How many times accepting a connection failed (out of file descriptors, say)."""
        return self._stats.accept_errors

    def script(self, *faults: Fault) -> None:
        """Queue faults for the next chat requests, one request each (or ``repeat``).

        A fault this dialect cannot send raises ``ValueError`` (and queues nothing).
        """
        for fault in faults:
            self._dialect.check_fault(fault)
        with self._lock:
            for fault in faults:
                self._script.extend([fault] * fault.repeat)

    @property
    def scripted(self) -> int:
        """How many scripted faults wait for a request."""
        with self._lock:
            return len(self._script)

    def reset(self) -> None:
        """Forget recorded requests and scripted faults."""
        with self._lock:
            self._script.clear()
            self._stats = _Stats(self.max_recorded)

    # --- running -------------------------------------------------------------

    def __enter__(self) -> Self:
        portal_cm = anyio.from_thread.start_blocking_portal()
        portal = portal_cm.__enter__()
        try:
            portal.start_task(self.serve)
        except BaseException as exc:
            # A failed start (the port taken, a bad host) must not leave the portal's
            # thread running: the interpreter would wait for it forever at exit.
            portal_cm.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._portal_cm = portal_cm
        self._portal = portal
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._portal_cm is not None:
            cancel = self._cancel
            if cancel is not None and self._portal is not None:
                self._portal.call(cancel.cancel)
            self._portal_cm.__exit__(exc_type, exc, tb)
            self._portal_cm = None
            self._portal = None

    async def serve(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled, in the caller's event loop.

        Args:
            task_status: told ``started()`` once it listens (``await tasks.start(server.serve)``).
        """
        listener = await anyio.create_tcp_listener(local_host=self.host, local_port=self.port)
        self.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        with anyio.CancelScope() as scope:
            self._cancel = scope
            try:
                async with listener, anyio.create_task_group() as tasks:
                    for one in listener.listeners:
                        assert isinstance(one, anyio.abc.SocketListener)
                        tasks.start_soon(self._accept, one, tasks)
                    self._listening = True
                    task_status.started()
            finally:
                self._listening = False

    async def _accept(self, listener: anyio.abc.SocketListener, tasks: anyio.abc.TaskGroup) -> None:
        """Accept connections until the listener closes; a failed accept only pauses it.

        ``anyio``'s own ``serve`` ends on the first failure, and ``accept`` fails
        with ``EMFILE`` whenever the process is out of file descriptors.
        """
        failures = 0
        while True:
            try:
                stream = await listener.accept()
            except anyio.ClosedResourceError:
                return
            except (OSError, anyio.BrokenResourceError):  # trio wraps the OSError
                self._stats.accept_errors += 1
                await anyio.sleep(_ACCEPT_PAUSES[min(failures, len(_ACCEPT_PAUSES) - 1)])
                failures += 1
                continue
            failures = 0
            tasks.start_soon(self._connection, stream)

    # --- one connection ------------------------------------------------------

    async def _connection(self, stream: anyio.abc.SocketStream) -> None:
        self._stats.connections += 1
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEAD)
        try:
            async with stream:
                while await self._exchange(conn, stream):
                    conn.start_next_cycle()
        except Exception:  # one connection never ends the server
            pass

    async def _receive(self, conn: h11.Connection, stream: anyio.abc.SocketStream) -> Any:
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            try:
                data = await stream.receive()
            except anyio.EndOfStream:
                data = b""
            conn.receive_data(data)

    async def _exchange(self, conn: h11.Connection, stream: anyio.abc.SocketStream) -> bool:
        """Serve one request; False when the connection must end. Never raises but
        for the connection itself failing."""
        writer = _Writer(conn, stream)
        try:
            return await self._serve_one(conn, stream, writer)
        except h11.RemoteProtocolError as exc:  # broken HTTP: 400 (431 for a huge head)
            await writer.refuse(exc.error_status_hint)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
            pass
        except Exception:  # a bug, or a fault h11 refused to send: a plain 500
            await writer.fallback()
        finally:
            if request_log.isEnabledFor(logging.INFO) and (writer.method or writer.sent):
                _log_request(stream, writer)
        return False

    async def _serve_one(
        self, conn: h11.Connection, stream: anyio.abc.SocketStream, writer: _Writer
    ) -> bool:
        request = await self._receive(conn, stream)
        if not isinstance(request, h11.Request):
            return False
        writer.started = time.monotonic()
        writer.method = request.method.decode("latin-1")
        writer.path = request.target.decode("latin-1")
        body = bytearray()
        while True:
            event = await self._receive(conn, stream)
            if isinstance(event, h11.Data):
                body += event.data
                if len(body) > _MAX_BODY:
                    await writer.refuse(413)
                    return False
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                return False
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers}
        recorded = RecordedRequest(
            request.method.decode("latin-1"), request.target.decode("latin-1"), headers, bytes(body)
        )
        with self._lock:
            self._stats.requests.append(recorded)
        writer.head = recorded.method == "HEAD"
        try:
            path = urlsplit(recorded.path).path  # a proxied request has an absolute target
        except ValueError:  # "http://[" and the like
            path = ""
        route = self._dialect.route(recorded, path, self._settings())
        if isinstance(route, Whole):
            await writer.send(route)
        elif route == "models":
            await writer.send(self._dialect.models(recorded, self._settings()))
        elif not await self._chat(writer, recorded, stream):
            return False
        return conn.our_state is h11.DONE and conn.their_state is h11.DONE

    def _settings(self) -> Settings:
        return Settings(
            self.models,
            self.api_keys,
            self.responder,
            self.enable_sys_prompt,
            self.context,
            self.reasoning,
        )

    def _next_fault(self, recorded: RecordedRequest) -> Fault:
        header = recorded.headers.get(FAULT_HEADER)
        if header:
            return Fault.from_json(header)
        with self._lock:
            return self._script.popleft() if self._script else self.fault

    async def _chat(
        self, writer: _Writer, recorded: RecordedRequest, stream: anyio.abc.SocketStream
    ) -> bool:
        dialect = self._dialect
        try:
            fault = self._next_fault(recorded)
            dialect.check_fault(fault)
        except (ValueError, TypeError) as exc:
            await writer.send(dialect.bad_fault(f"Bad {FAULT_HEADER} header: {exc}"))
            return True
        if fault.delay:
            await (anyio.sleep_forever() if math.isinf(fault.delay) else anyio.sleep(fault.delay))
        if fault.close_before_status:
            return False
        if fault.raw is not None:
            await writer.raw(fault.raw)
            return False
        if fault.status is not None:
            await writer.send(dialect.fault_answer(fault))
            return True
        answer = dialect.chat(recorded, fault, self._settings())
        if isinstance(answer, Whole):
            await writer.send(answer)
            return True
        pieces = answer.pieces
        if fault.content_length is not None:
            # Outside h11, which would refuse a body that disagrees with its length.
            fields = "".join(f"{k}: {v}\r\n" for k, v in answer.headers)
            head = f"HTTP/1.1 200 OK\r\n{fields}content-length: {fault.content_length}\r\n\r\n"
            await writer.raw(head.encode("latin-1") + b"".join(b"".join(p) for p in pieces))
            return False
        await writer.start_stream([*answer.headers, *fault.headers.items()], answer.reason)
        for index, piece in enumerate(pieces):
            if index == answer.drop_at:
                return False  # close with no terminating chunk
            if index == answer.stall_at:
                await _stall(stream, writer, answer.keepalive)
                return False
            if answer.pauses[index]:
                await anyio.sleep(answer.pauses[index])
            for data in piece:
                await writer.chunk(data)
        if answer.drop_at is not None and answer.drop_at >= len(pieces):
            return False
        if answer.stall_at is not None and answer.stall_at >= len(pieces):
            await _stall(stream, writer, answer.keepalive)
            return False
        await writer.end()
        if answer.dead_after:
            # Alive to the client's pool, dead to its next request (taken unanswered).
            await _wait_for_data(stream)
            return False
        return True


h11_reason = phrase


async def _stall(
    stream: anyio.abc.SocketStream, writer: _Writer, keepalive: tuple[float, bytes] | None
) -> None:
    """Fall silent until the client goes away; with ``keepalive``, silent but for a
    comment every so often (which keeps a client's read limit from ever firing)."""
    if keepalive is None:
        await _wait_for_close(stream)
        return
    every, comment = keepalive
    async with anyio.create_task_group() as tasks:

        async def ping() -> None:
            try:
                while True:
                    await anyio.sleep(every)
                    await writer.chunk(comment)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass
            tasks.cancel_scope.cancel()

        tasks.start_soon(ping)
        await _wait_for_close(stream)
        tasks.cancel_scope.cancel()


async def _wait_for_data(stream: anyio.abc.SocketStream) -> None:
    """Until the client sends something (its next request) or goes away."""
    with suppress(anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
        await stream.receive()


async def _wait_for_close(stream: anyio.abc.SocketStream) -> None:
    """Stay silent with the connection open until the client goes away."""
    try:
        while await stream.receive():
            pass
    except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass


def _log_request(stream: anyio.abc.SocketStream, writer: _Writer) -> None:
    try:
        address = stream.extra(anyio.abc.SocketAttribute.remote_address)
    except Exception:  # not a socket (a test double) or gone
        address = "-"
    client = address[0] if isinstance(address, tuple) else str(address)
    path = writer.path.split("?", 1)[0] if writer.path else "-"
    if len(path) > _MAX_LOGGED_PATH:
        path = path[:_MAX_LOGGED_PATH] + "..."
    method = _printable(writer.method or "-")
    path = _printable(path)
    status = "-" if writer.status is None else str(writer.status)
    ms = round((time.monotonic() - (writer.started or time.monotonic())) * 1000)
    request_log.info(
        "%s %s %s %s %d B %d ms",
        client, method, path, status, writer.bytes_sent, ms,
        extra={
            "client": client, "method": method, "path": path,
            "status": writer.status, "sent": writer.bytes_sent, "ms": ms,
        },
    )  # fmt: skip


def _printable(text: str) -> str:
    """``text`` with anything but printable ASCII as ``\\xNN`` escapes: safe in a log line."""
    return "".join(c if " " < c < "\x7f" else f"\\x{ord(c):02x}" for c in text)


def url_host(host: str) -> str:
    """``host`` as it goes in a URL: an IPv6 address in brackets, its zone as ``%25``."""
    if ":" in host and not host.startswith("["):
        return "[" + host.replace("%", "%25") + "]"
    return host


def _encode(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    # Latin-1, not h11's ASCII: a Fault's header value may hold obs-text.
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]


class _Writer:
    """Sends one response through h11, and knows whether any of it went out."""

    def __init__(self, conn: h11.Connection, stream: anyio.abc.SocketStream) -> None:
        self._conn = conn
        self._stream = stream
        self.sent = False
        self.head = False  # the answer to HEAD has no body (h11 refuses one)
        # For the request log: what was asked, when, and what went back.
        self.method = ""
        self.path = ""
        self.started: float | None = None
        self.status: int | None = None
        self.bytes_sent = 0

    async def _send(self, event: Any) -> None:
        data = self._conn.send(event)
        if data:
            await self.raw(data)

    async def raw(self, data: bytes) -> None:
        """Send bytes as they are, outside h11."""
        if not self.sent and self.status is None and data[:9] in (b"HTTP/1.1 ", b"HTTP/1.0 "):
            with suppress(ValueError):
                self.status = int(data[9:12])
        self.sent = True
        self.bytes_sent += len(data)
        await self._stream.send(data)

    async def send(self, answer: Whole) -> None:
        """A dialect's whole answer, with its ``Content-Length``."""
        reason, headers = answer.reason, answer.headers
        if not is_safe_reason(reason):
            # CR/LF would split the response (an echoed key, say): refuse it.
            fallback = Failure()
            answer = Whole(fallback.status, fallback.body, answer.content_type, fallback.reason)
            reason, headers = answer.reason, ()
        body = to_utf8(answer.body)
        if answer.status in (204, 304):
            body = b""  # a body is not allowed here; h11 would refuse it
        kind = [] if answer.content_type is None else [("content-type", answer.content_type)]
        length = [] if answer.status in (204, 304) else [("content-length", str(len(body)))]
        if self.head:
            body = b""  # HEAD: the length of the body it would get, and no body
        await self._send(
            h11.Response(
                status_code=answer.status,
                reason=reason.encode("latin-1", "replace"),
                headers=_encode([*kind, *length, *headers]),
            )
        )
        if body:
            await self._send(h11.Data(data=body))
        await self._send(h11.EndOfMessage())

    async def refuse(self, status: int) -> None:
        """Answer broken HTTP (or a body too large) with ``status``, if nothing went out yet."""
        if self.sent:
            return
        with suppress(Exception):
            if self._conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                body = h11_reason(status).encode()
                headers = [_TEXT_PLAIN, ("content-length", str(len(body))), ("connection", "close")]
                reason = h11_reason(status).encode()
                await self._send(h11.Response(status_code=status, reason=reason, headers=headers))
                await self._send(h11.Data(data=body))
                await self._send(h11.EndOfMessage())

    async def fallback(self) -> None:
        """openchat-ui's plain ``500``, outside h11, if nothing went out yet."""
        if not self.sent:
            with suppress(Exception):
                await self.raw(_FALLBACK_500)

    async def start_stream(self, headers: Iterable[tuple[str, str]], reason: str = "") -> None:
        await self._send(
            h11.Response(
                status_code=200,
                reason=reason.encode("latin-1"),
                headers=_encode([("transfer-encoding", "chunked"), *headers]),
            )
        )

    async def chunk(self, data: bytes) -> None:
        if data:
            await self._send(h11.Data(data=data))

    async def end(self) -> None:
        await self._send(h11.EndOfMessage())
