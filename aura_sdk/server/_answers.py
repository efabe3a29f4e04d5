"""The seam between the server's I/O and a wire dialect: what a dialect answers.

``AuraServer`` moves bytes (h11, sockets, pauses, faults that act on the
connection); a dialect (``_aura.AuraDialect``, ``_openai.OpenAIDialect``) decides
which routes exist and what each request gets, as one of two plain values:
a ``Whole`` response, or a ``Streamed`` one. No dialect touches a socket, so
each can be read (and tested) as a table of request -> answer.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, Union

from ._protocol import masked_headers
from ._responder import LocalResponder

if TYPE_CHECKING:
    from typing_extensions import TypeAlias

    from ._faults import Fault

__all__ = [
    "Answer",
    "Dialect",
    "RecordedRequest",
    "Route",
    "Settings",
    "Streamed",
    "Whole",
    "phrase",
]


def phrase(status: int) -> str:
    """The standard reason phrase of ``status`` (``"Error"`` for an unknown one)."""
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it.

    ``method`` and ``path`` (the request target) as sent, ``headers`` with
    lower-case names, ``body`` the whole body. Its ``repr`` masks the
    ``Authorization`` header and leaves the body out (both may hold an API key).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def __repr__(self) -> str:
        headers = masked_headers(self.headers)
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, "
            f"headers={headers!r}, body=<{len(self.body)} bytes>)"
        )

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Whole:
    """A complete response, sent with its ``Content-Length``.

    ``reason`` is the reason phrase (``""``: none at all, as h11 sends by
    default); ``content_type`` ``None`` means no ``Content-Type`` header.
    """

    status: int
    body: str
    content_type: str | None
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Streamed:
    """A ``200`` whose body goes out piece by piece (chunked), with pauses.

    Each piece is one or more writes sent back to back; ``pauses[i]`` is the
    wait before piece ``i``. ``drop_at``: close the connection, with no
    terminating chunk, before that piece (``len(pieces)``: after the last one);
    ``stall_at``: fall silent there, the connection open.
    """

    pieces: list[tuple[bytes, ...]]
    pauses: list[float]
    headers: tuple[tuple[str, str], ...] = ()
    reason: str = ""
    drop_at: int | None = None
    stall_at: int | None = None
    keepalive: tuple[float, bytes] | None = None
    """While stalled: this comment every so many seconds (a server's keep-alive)."""
    dead_after: bool = False
    """After the body, the connection looks alive but the next request on it is
    taken and closed unanswered (llama-cpp-python after its empty ``200``)."""


Answer: TypeAlias = Union[Whole, Streamed]
Route: TypeAlias = Union[Literal["chat", "models"], Whole]


@dataclass(frozen=True)
class Settings:
    """The server's settings, as one request sees them."""

    models: Collection[str]
    api_keys: frozenset[str] | None
    responder: LocalResponder = field(default_factory=LocalResponder)
    enable_sys_prompt: bool = False
    context: int | None = None
    """The context in tokens, if not the flavor's (openai dialect)."""
    reasoning: str | None = None
    """Reasoning to send before each streamed reply (openai dialect)."""


class Dialect(Protocol):
    """What ``AuraServer`` asks of a wire dialect; every method is pure (no I/O)."""

    prefix: str
    """What ``base_url`` adds to the server's root: ``""`` or ``"/v1"``."""

    def route(self, request: RecordedRequest, path: str, settings: Settings) -> Route:
        """``"chat"``, ``"models"``, or the whole answer (a 404, a 401...)."""

    def models(self, request: RecordedRequest, settings: Settings) -> Whole:
        """The answer to a models request that ``route`` let through."""

    def chat(self, request: RecordedRequest, fault: Fault, settings: Settings) -> Answer:
        """The answer to a chat request that ``route`` let through, shaped by ``fault``."""

    def check_fault(self, fault: Fault) -> None:
        """Raise ``ValueError`` if this dialect cannot send ``fault``."""

    def fault_answer(self, fault: Fault) -> Whole:
        """The answer of a ``Fault(status=...)``."""

    def bad_fault(self, message: str) -> Whole:
        """The answer to a request whose fault header is wrong (``message`` says why)."""
