"""The HTTP stacks the SDK runs over: httpx, and httpx2 beside it.

httpx is the runtime dependency and the stack of the SDK's own clients. httpx2
(pydantic's maintained fork, which openai-python 3.x and anthropic 2.x install
instead of httpx) has the same API under another name, over ``httpcore2``: a
caller who holds an ``httpx2.Client`` passes it as ``http_client=``. httpx2 is
imported only then (``stack_of``), never by ``import aura_sdk``.

``KNOWN`` holds, per role, the classes of every stack loaded so far, as tuples:
what an ``except`` or ``isinstance`` names. An ``except KNOWN.transport:`` looks
the tuple up only when an exception is on its way, so loading httpx2 later
extends what every clause catches, at no cost to the code that raises nothing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any, Literal, Protocol, Union

import httpx

from ._content import BodyError


class Httpx2Client(Protocol):
    """An ``httpx2.Client``, as the SDK uses one (typed without httpx2 installed)."""

    @property
    def is_closed(self) -> bool:
        """Whether the client was closed."""
        ...

    def build_request(
        self,
        method: str,
        url: Any,
        *,
        content: Any = None,
        headers: Any = None,
        timeout: Any = None,
        extensions: Any = None,
    ) -> Any:
        """A request of ``method`` to ``url`` with ``content``, ``headers``, ``timeout``
        and ``extensions``, as httpx's ``build_request``."""
        ...

    def send(self, request: Any, *, stream: bool = False, follow_redirects: bool = False) -> Any:
        """Send ``request`` (``stream``: its body read later; ``follow_redirects``: never)."""
        ...

    def close(self) -> None:
        """Close the pool."""
        ...


class Httpx2AsyncClient(Protocol):
    """An ``httpx2.AsyncClient``, as the SDK uses one (typed without httpx2 installed)."""

    @property
    def is_closed(self) -> bool:
        """Whether the client was closed."""
        ...

    def build_request(
        self,
        method: str,
        url: Any,
        *,
        content: Any = None,
        headers: Any = None,
        timeout: Any = None,
        extensions: Any = None,
    ) -> Any:
        """A request of ``method`` to ``url`` with ``content``, ``headers``, ``timeout``
        and ``extensions``, as httpx's ``build_request``."""
        ...

    async def send(
        self, request: Any, *, stream: bool = False, follow_redirects: bool = False
    ) -> Any:
        """Send ``request`` (``stream``: its body read later; ``follow_redirects``: never)."""
        ...

    async def aclose(self) -> None:
        """Close the pool."""
        ...


SyncHTTPClient = Union[httpx.Client, Httpx2Client]
"""What ``AuraClient(http_client=...)`` takes: an ``httpx.Client`` or an ``httpx2.Client``."""
AsyncHTTPClient = Union[httpx.AsyncClient, Httpx2AsyncClient]
"""What ``AsyncAuraClient(http_client=...)`` takes: the two stacks' ``AsyncClient``."""

__all__ = [
    "HTTPX",
    "KNOWN",
    "AsyncHTTPClient",
    "Httpx2AsyncClient",
    "Httpx2Client",
    "SyncHTTPClient",
    "Known",
    "Stack",
    "StackName",
    "stack_of",
    "stack_of_class",
]

StackName = Literal["httpx", "httpx2"]


class Known:
    """The classes of every loaded stack, by role (see the module docstring)."""

    def __init__(self) -> None:
        self.names: tuple[StackName, ...] = ()
        self.transport: tuple[type[BaseException], ...] = (OSError, BodyError)
        """What a request under way may raise: each stack's ``HTTPError``,
        ``StreamError`` and ``InvalidURL``, the socket's ``OSError``, the body's
        decoding (``BodyError``)."""
        self.send: tuple[type[BaseException], ...] = (UnicodeError,)
        """What sending may raise too: the ``UnicodeError`` of a host name that
        ``getaddrinfo`` cannot encode (``a..b``)."""
        self.invalid_url: tuple[type[BaseException], ...] = ()
        self.timeouts: tuple[type[BaseException], ...] = ()
        self.decoding: tuple[type[BaseException], ...] = ()
        self.protocol: tuple[type[BaseException], ...] = ()
        self.read_write: tuple[type[BaseException], ...] = ()
        self.sync_streams: tuple[type[Any], ...] = ()
        self.async_streams: tuple[type[Any], ...] = ()
        self.sync_clients: tuple[type[Any], ...] = ()
        self.async_clients: tuple[type[Any], ...] = ()

    def add(self, name: StackName, module: ModuleType) -> None:
        """Know the classes of ``module`` (``httpx`` or ``httpx2``), once."""
        if name in self.names:
            return
        m: Any = module
        self.names += (name,)
        self.transport = (m.HTTPError, m.StreamError, m.InvalidURL, *self.transport)
        self.send = (*self.transport, UnicodeError)
        self.invalid_url += (m.InvalidURL,)
        self.timeouts += (m.TimeoutException,)
        self.decoding += (m.DecodingError,)
        self.protocol += (m.RemoteProtocolError,)
        self.read_write += (m.ReadError, m.WriteError)
        self.sync_streams += (m.SyncByteStream,)
        self.async_streams += (m.AsyncByteStream,)
        self.sync_clients += (m.Client,)
        self.async_clients += (m.AsyncClient,)


KNOWN = Known()
KNOWN.add("httpx", httpx)


@dataclass(frozen=True)
class Stack:
    """One HTTP stack: its name, its module and the module of its connection pool."""

    name: StackName
    module: ModuleType
    core: str
    """``httpcore`` or ``httpcore2``: imported only once a client of the stack exists."""

    @property
    def timeout(self) -> Any:
        """The stack's ``Timeout`` class."""
        return self.module.Timeout

    def core_module(self) -> Any:
        """``httpcore`` or ``httpcore2``, imported now (its client exists already)."""
        return importlib.import_module(self.core)


HTTPX = Stack("httpx", httpx, "httpcore")


def stack_of(client: object) -> Stack | None:
    """The stack ``client`` (an ``http_client=``) belongs to, or None: neither.

    httpx2 is imported here only if ``client``'s class comes from it (so it was
    imported already, by the caller).
    """
    if isinstance(client, (httpx.Client, httpx.AsyncClient)):
        return HTTPX
    for kind in type(client).__mro__:
        if kind.__module__.split(".")[0] == "httpx2":
            return _httpx2()
    return None


def stack_of_class(kind: type) -> Stack:
    """The stack of a client class: httpx2's if it comes from there, else httpx's."""
    for base in kind.__mro__:
        if base.__module__.split(".")[0] == "httpx2":
            return _httpx2()
    return HTTPX


@lru_cache(maxsize=1)
def _httpx2() -> Stack:
    import httpx2

    KNOWN.add("httpx2", httpx2)
    return Stack("httpx2", httpx2, "httpcore2")
