"""The reply being received: decoded text so far, and the errors that carry it.

Both stream facades feed raw body bytes in and hand out what comes back; all
bookkeeping (what was received, what a cut split) lives here, free of I/O.
"""

from __future__ import annotations

from ._decoder import DecodeErrors, UTF8Decoder
from ._exceptions import (
    AuraDecodeError,
    ResponseTooLargeError,
    StreamInterruptedError,
    StreamTimeoutError,
    TimeoutLimit,
)

__all__ = ["Reply"]


class Reply:
    """Accumulates one reply.

    >>> r = Reply()
    >>> r.feed(b"Hel"), r.feed(b"lo \\xe2\\x9c"), r.feed(b"\\x93"), r.finish(), r.text
    ('Hel', 'lo ', '✓', '', 'Hello ✓')
    """

    __slots__ = ("_decoder", "_parts", "bytes_received", "max_bytes")

    def __init__(self, errors: DecodeErrors = "replace", max_bytes: int | None = None) -> None:
        self._decoder = UTF8Decoder(errors)
        self._parts: list[str] = []
        self.bytes_received = 0
        self.max_bytes = max_bytes

    @property
    def text(self) -> str:
        """All text decoded so far."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def feed(self, data: bytes) -> str:
        """Decode the next chunk of the body; "" while a character is incomplete."""
        self.bytes_received += len(data)
        if self.max_bytes is not None and self.bytes_received > self.max_bytes:
            self.bytes_received -= len(data)
            keep = self.max_bytes - self.bytes_received
            self.feed(data[:keep])
            raise ResponseTooLargeError(
                self._message(f"the reply passed max_response_bytes={self.max_bytes}"),
                text=self.text,
                truncated=self._decoder.pending,
            )
        try:
            text = self._decoder.decode(data)
        except AuraDecodeError as exc:
            exc.text = self.text
            raise
        if text:
            self._parts.append(text)
        return text

    def finish(self) -> str:
        """The body ended cleanly: decode what is left (an incomplete character is U+FFFD)."""
        try:
            text = self._decoder.flush()
        except AuraDecodeError as exc:
            exc.text = self.text
            raise
        if text:
            self._parts.append(text)
        return text

    def interrupted(self, why: str) -> StreamInterruptedError:
        """The error for a body that broke off, carrying everything received."""
        return StreamInterruptedError(
            self._message(why), text=self.text, truncated=self._decoder.pending
        )

    def timed_out(self, limit: TimeoutLimit, seconds: float | None) -> StreamTimeoutError:
        """The error for a server that went quiet mid-reply."""
        after = "" if seconds is None else f" after {seconds:g}s"
        why = f"no data from the server for the {limit} timeout{after}"
        return StreamTimeoutError(
            self._message(why),
            limit=limit,
            seconds=seconds,
            text=self.text,
            truncated=self._decoder.pending,
        )

    def _message(self, why: str) -> str:
        message = f"reply interrupted after {len(self.text)} characters ({self.bytes_received} bytes): {why}"
        pending = self._decoder.pending
        if pending:
            message += f"; the cut split a character, {len(pending)} byte(s) kept in .truncated"
        return message
