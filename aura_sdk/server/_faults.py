"""Faults the local server can be told to inject, per server or per request."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ._protocol import masked_headers

__all__ = ["FAULT_HEADER", "MAX_REPLY_BYTES", "Fault", "is_safe_reason"]

FAULT_HEADER = "x-aura-fault"
"""A request header whose JSON object (``Fault`` fields) scripts that one request."""

MAX_REPLY_BYTES = 1 << 28
"""The largest ``reply_bytes`` (the reply is built in memory)."""

MAX_DELAY = 10**9
"""A larger int ``delay`` (1e9 s is over 30 years) hangs, as ``math.inf`` does."""

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 field-value, as h11 checks it: visible characters (and obs-text), single
# spaces or tabs between them, none at either end.
_FIELD_VALUE = re.compile(r"(?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?")


def is_safe_reason(reason: str) -> bool:
    """True if ``reason`` can go in a status line: no control character but tab.

    CR or LF would end the status line early and let the rest be read as headers
    (response splitting); the other C0 and C1 controls and DEL have no place
    there either (RFC 9112 ``reason-phrase``).
    """
    return not any((c < " " and c != "\t") or "\x7f" <= c <= "\x9f" for c in reason)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Fault:
    """How to misbehave on one request (the defaults misbehave not at all).

    - ``delay``: seconds to wait before the status line (``math.inf``: hang there,
      as openchat-ui does when its upstream returns a non-streaming body);
    - ``status``, ``reason``, ``headers``, ``body``: answer with this status line
      instead of a reply (openchat-ui's own failures are ``500`` + body ``Error``);
      ``status`` is 200 to 599, ``reason`` holds no control character but tab,
      ``headers`` are valid HTTP field names and values;
    - ``stall_after``: send this many chunks, then fall silent, connection open
      (the real server's mid-stream hang);
    - ``drop_after``: send this many chunks, then close the connection with no
      terminating chunk;
    - ``split_multibyte``: cut a chunk inside a multibyte character;
    - ``reply_bytes``: send a reply of exactly this many bytes instead (at most
      ``MAX_REPLY_BYTES``);
    - ``chunks``: send exactly these chunks instead (any bytes, invalid UTF-8 too;
      in the header's JSON, a list of strings, sent as UTF-8);
    - ``chunk_size``: with ``reply_bytes``, bytes per chunk;
    - ``close_before_status``: read the request, then close with no answer at all;
    - ``content_length``: send the reply unchunked under this (wrong, if you
      like) ``Content-Length``, then close;
    - ``raw``: send exactly these bytes as the whole answer, then close (for
      answers that are not HTTP at all; in the header's JSON, a string sent as UTF-8);
    - ``repeat``: when queued, how many requests in a row get this fault
      (``Fault(status=503, repeat=2)`` then nothing: fail twice, then succeed).

    In the ``openai`` dialect (``AuraServer(dialect="openai")``) the same fields
    apply to the SSE stream: each of ``chunks`` is one content delta (bytes cut
    inside a character are held back until it is whole, as OpenChat does), and
    ``drop_after`` / ``stall_after`` count content deltas (the role chunk always
    goes first; ``drop_after=0`` is OpenChat's engine error: the role chunk, then
    the connection drops). ``split_multibyte`` cuts a TCP write inside a
    multibyte character of the event's JSON. Only that dialect has these
    (``AuraServer`` refuses them in the ``aura`` dialect with ``ValueError``, and a
    header that sets them gets a ``500`` there):

    - ``error_event``: the JSON text of an error, sent as ``data: {"error": ...}``
      after ``error_after`` content deltas, then ``data: [DONE]`` (vLLM's
      mid-stream error; there is no finish chunk then);
    - ``error_after``: how many content deltas come before ``error_event``;
    - ``done``: False ends the body with no ``data: [DONE]`` (a clean end of the
      HTTP body all the same);
    - ``finish_reason``: the ``finish_reason`` of the finish chunk (a reply cut by
      ``max_tokens`` says ``"length"`` instead); ``None``: no finish chunk at all
      (a reply cut inside a multibyte character, on OpenChat);
    - ``sse``: send exactly these bytes, one write each, as the body of a ``200
      text/event-stream`` (for SSE edge cases: a BOM, CR line ends, comments...);
      ``drop_after`` / ``stall_after`` count them; in the header's JSON, a list
      of strings sent as UTF-8.

    A non-streaming openai request (no ``"stream": true``) gets a whole
    ``chat.completion``: there, only the text (``chunks``, ``reply_bytes``),
    ``finish_reason`` and the fields that act before the answer (``delay``,
    ``status``, ``raw``, ``close_before_status``) apply.

    A field of the wrong type or out of range raises ``ValueError`` (or
    ``TypeError``) here, so a bad ``x-aura-fault`` header gets a clean ``500``.

    Its ``repr`` shows only the fields set (``Fault(drop_after=2)``), a long
    value as its size, and ``***`` for a header value under a credential-like
    name (``Authorization``, ``Set-Cookie``, ``X-API-Key``...).
    """

    delay: float = 0.0
    status: int | None = None
    reason: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = "Error"
    stall_after: int | None = None
    drop_after: int | None = None
    split_multibyte: bool = False
    reply_bytes: int | None = None
    chunk_size: int = 16
    chunks: tuple[bytes, ...] | None = None
    close_before_status: bool = False
    content_length: int | None = None
    raw: bytes | None = None
    repeat: int = 1
    error_event: str | None = None
    error_after: int = 0
    done: bool = True
    finish_reason: str | None = "stop"
    sse: tuple[bytes, ...] | None = None

    def __post_init__(self) -> None:
        delay: object = self.delay
        if isinstance(delay, bool) or not isinstance(delay, (int, float)):
            raise TypeError(f"delay must be a number of seconds, got {type(delay).__name__}")
        if delay < 0 or (isinstance(delay, float) and math.isnan(delay)):
            raise ValueError(f"delay must be >= 0, got {delay!r}")
        if isinstance(delay, int) and delay > MAX_DELAY:
            # An int too large for a float broke math.isnan and anyio.sleep (OverflowError).
            object.__setattr__(self, "delay", math.inf)
        status = self.status
        if status is not None and not (_is_count(status) and 200 <= status <= 599):
            raise ValueError(f"status must be an int from 200 to 599, got {status!r}")
        self._check_text()
        for name in ("stall_after", "drop_after", "reply_bytes", "content_length"):
            value = getattr(self, name)
            if value is not None and not (_is_count(value) and value >= 0):
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        if self.reply_bytes is not None and self.reply_bytes > MAX_REPLY_BYTES:
            raise ValueError(f"reply_bytes must be at most {MAX_REPLY_BYTES}")
        for name in ("chunk_size", "repeat"):
            value = getattr(self, name)
            if not (_is_count(value) and value >= 1):
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        for name in ("split_multibyte", "close_before_status", "done"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be true or false")
        for name in ("chunks", "sse"):
            chunks: object = getattr(self, name)
            if chunks is not None:
                if not isinstance(chunks, (tuple, list)) or not all(
                    isinstance(c, bytes) for c in chunks
                ):
                    raise TypeError(f"{name} must be a tuple of bytes")
                object.__setattr__(self, name, tuple(chunks))
        raw: object = self.raw
        if raw is not None and not isinstance(raw, bytes):
            raise TypeError(f"raw must be bytes, got {type(raw).__name__}")
        self._check_openai()

    def __repr__(self) -> str:
        shown = []
        for name, default in _DEFAULTS.items():
            value = getattr(self, name)
            if value == default:
                continue
            if name == "headers":
                value = masked_headers(value)
            text = repr(value)
            if len(text) > _REPR_LIMIT:
                size = len(value)  # only str, bytes and tuples of bytes grow that long
                unit = "chars" if isinstance(value, str) else "items"
                if isinstance(value, bytes):
                    unit = "bytes"
                text = f"<{size} {unit}>"
            shown.append(f"{name}={text}")
        return f"Fault({', '.join(shown)})"

    def _check_openai(self) -> None:
        error_event: object = self.error_event
        if error_event is not None:
            if not isinstance(error_event, str):
                raise TypeError(f"error_event must be a str, got {type(error_event).__name__}")
            try:
                json.loads(error_event)
            except (ValueError, RecursionError):
                raise ValueError(
                    'error_event must be JSON text, such as \'{"message": "x"}\''
                ) from None
            if "\r" in error_event or "\n" in error_event:
                # A raw line end would end the data line early; JSON never needs one.
                raise ValueError("error_event must hold no raw CR or LF")
        error_after = self.error_after
        if not (_is_count(error_after) and error_after >= 0):
            raise ValueError(f"error_after must be an int >= 0, got {error_after!r}")
        reason: object = self.finish_reason
        if reason is not None and not isinstance(reason, str):
            raise TypeError(f"finish_reason must be a str or None, got {type(reason).__name__}")

    def openai_only(self) -> list[str]:
        """The fields set here that only the ``openai`` dialect can send."""
        return [name for name in _OPENAI_ONLY if getattr(self, name) != _DEFAULTS[name]]

    def _check_text(self) -> None:
        reason: object = self.reason
        if reason is not None:
            if not isinstance(reason, str):
                raise TypeError(f"reason must be a str, got {type(reason).__name__}")
            if not is_safe_reason(reason):
                raise ValueError("reason must not contain CR, LF or other control characters")
        if not isinstance(self.body, str):
            raise TypeError(f"body must be a str, got {type(self.body).__name__}")
        headers: object = self.headers
        if not isinstance(headers, Mapping):
            raise TypeError(f"headers must be a mapping, got {type(headers).__name__}")
        for name, value in headers.items():
            if not isinstance(name, str) or not _TOKEN.fullmatch(name):
                raise ValueError(f"headers: invalid header name {name!r}")
            if not isinstance(value, str) or not _FIELD_VALUE.fullmatch(value):
                raise ValueError(f"headers: invalid value for {name!r}")

    @classmethod
    def from_json(cls, text: str) -> Fault:
        """A fault from ``text``, the JSON of the ``x-aura-fault`` header: ``{"drop_after": 2}``.

        Anything wrong in it (bad JSON, nesting too deep, an unknown field, a
        wrong type) raises ``ValueError``.
        """
        try:
            data: Any = json.loads(text)
        except RecursionError:
            raise ValueError("the fault header nests too deep") from None
        if not isinstance(data, dict):
            raise ValueError("the fault header must hold a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)!r}"[:200])
        for name in ("chunks", "sse", "raw"):
            data[name] = _bytes_from_json(name, data.get(name))
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(str(exc)) from None


def _bytes_from_json(name: str, value: object) -> Any:
    """``chunks`` and ``sse`` (lists of strings) and ``raw`` (a string) as bytes."""
    try:
        if name in ("chunks", "sse") and isinstance(value, list):
            if not all(isinstance(chunk, str) for chunk in value):
                raise ValueError(f"{name} must be a list of strings")
            return tuple(chunk.encode() for chunk in value)
        if name == "raw" and isinstance(value, str):
            return value.encode()
    except UnicodeEncodeError:
        raise ValueError(f"{name}: not encodable as UTF-8 (a lone surrogate?)") from None
    return value


_OPENAI_ONLY = ("error_event", "error_after", "done", "finish_reason", "sse")
_DEFAULTS: dict[str, Any] = {
    f.name: {} if f.name == "headers" else f.default for f in fields(Fault)
}
_REPR_LIMIT = 80
"""A field's repr longer than this shows as its size."""
