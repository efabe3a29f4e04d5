"""The wire dialects: the one seam between the facades and what goes over the wire.

A dialect says how a chat call becomes a request, whether a success head
starts a stream, how body bytes become text (its ``Reply``), how an error
answer becomes an exception, and how the model list is asked for and read.
The facades hold one and never ask which it is::

    aura     openchat-ui's POST /api/chat: plain UTF-8 text (aura.py)
    openai   POST {base_url}/chat/completions, server-sent events: OpenChat's
             own server, vLLM, ollama, llama.cpp (openai.py, openai_reply.py)

Every dialect is a stateless object; nothing here does I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from .._exceptions import AuraValidationError
from .._validation import show
from .aura import AuraDialect
from .base import Dialect
from .openai import OpenAIDialect

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DIALECTS", "DIALECT_ENV", "Dialect", "DialectName", "resolve_dialect"]

DialectName = Literal["aura", "openai"]
"""The dialects a client can speak (``dialect=``, or ``$AURA_DIALECT``)."""

DIALECT_ENV = "AURA_DIALECT"

DIALECTS: dict[str, Dialect] = {"aura": AuraDialect(), "openai": OpenAIDialect()}


def resolve_dialect(dialect: object, environ: Mapping[str, str]) -> Dialect:
    """The ``dialect`` argument, else ``$AURA_DIALECT``, else ``"aura"``, checked."""
    where = "dialect"
    if dialect is None:
        dialect = environ.get(DIALECT_ENV) or "aura"
        if DIALECT_ENV in environ:
            where = f"${DIALECT_ENV} (dialect)"
    if not isinstance(dialect, str) or dialect not in DIALECTS:
        raise AuraValidationError(
            f"{where}: expected 'aura' (openchat-ui) or 'openai' (OpenChat's own server, "
            f"vLLM, ollama, llama.cpp), got {show(dialect)}"
        )
    return DIALECTS[dialect]
