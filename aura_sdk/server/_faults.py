"""Faults the local server can be told to inject, per server or per request."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["FAULT_HEADER", "Fault"]

FAULT_HEADER = "x-aura-fault"
"""A request header whose JSON object (``Fault`` fields) scripts that one request."""


@dataclass(frozen=True)
class Fault:
    """How to misbehave on one request (the defaults misbehave not at all).

    - ``delay``: seconds to wait before the status line (``math.inf``: hang there,
      as openchat-ui does when its upstream returns a non-streaming body);
    - ``status``, ``reason``, ``headers``, ``body``: answer with this status line
      instead of a reply (openchat-ui's own failures are ``500`` + body ``Error``);
    - ``stall_after``: send this many chunks, then fall silent, connection open
      (the real server's mid-stream hang);
    - ``drop_after``: send this many chunks, then close the connection with no
      terminating chunk;
    - ``split_multibyte``: cut a chunk inside a multibyte character;
    - ``reply_bytes``: send a reply of exactly this many bytes instead;
    - ``chunks``: send exactly these chunks instead (any bytes, invalid UTF-8 too;
      in the header's JSON, a list of strings);
    - ``chunk_size``: with ``reply_bytes``, bytes per chunk;
    - ``close_before_status``: read the request, then close with no answer at all;
    - ``content_length``: send the reply unchunked under this (wrong, if you
      like) ``Content-Length``, then close;
    - ``raw``: send exactly these bytes as the whole answer, then close (for
      answers that are not HTTP at all);
    - ``repeat``: when queued, how many requests in a row get this fault
      (``Fault(status=503, repeat=2)`` then nothing: fail twice, then succeed).
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

    def __post_init__(self) -> None:
        if self.delay < 0 or math.isnan(self.delay):
            raise ValueError(f"delay must be >= 0, got {self.delay!r}")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"status must be 100..599, got {self.status!r}")
        for name in ("stall_after", "drop_after", "reply_bytes", "content_length"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")
        if self.chunk_size < 1 or self.repeat < 1:
            raise ValueError("chunk_size and repeat must be >= 1")

    @classmethod
    def from_json(cls, text: str) -> Fault:
        """A fault from the JSON of the ``x-aura-fault`` header: ``{"drop_after": 2}``."""
        data: Any = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the fault header must hold a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if isinstance(data.get("chunks"), list):
            data["chunks"] = tuple(str(chunk).encode() for chunk in data["chunks"])
        return cls(**data)
