"""The reply being received: decoded text so far, and the errors that carry it.

Both stream facades feed raw body bytes in and hand out what comes back; all
bookkeeping (what was received, what a cut split) lives here, free of I/O.
"""

from __future__ import annotations

from codecs import utf_8_decode
from collections.abc import Iterable, Iterator
from time import monotonic
from typing import TYPE_CHECKING, Any

from ._decoder import DecodeErrors, UTF8Decoder
from ._exceptions import (
    AuraDecodeError,
    ResponseTooLargeError,
    StreamInterruptedError,
    StreamTimeoutError,
    TimeoutLimit,
)

if TYPE_CHECKING:
    from ._timeouts import BodyClock

__all__ = ["Reply"]


class Reply(UTF8Decoder):
    """Accumulates one reply: an incremental decoder that keeps what it decoded.

    >>> r = Reply()
    >>> r.feed(b"Hel"), r.feed(b"lo \\xe2\\x9c"), r.feed(b"\\x93"), r.finish(), r.text
    ('Hel', 'lo ', '✓', '', 'Hello ✓')
    """

    __slots__ = ("_cap", "_complete", "_parts", "_progress", "max_bytes")

    max_bytes: int | None
    """The most body bytes the reply may hold (``None``: no limit)."""

    ended: bool = False
    """The body holds nothing more to read (a dialect's end marker came): the
    facades stop reading and close the response. Plain text ends only with its body."""
    drain: bool = False
    """The end marker came where the body should end too: the facades read the
    rest (bounded) so that the connection is kept."""
    finish_reason: str | None = None
    """Why the reply ended, when the dialect says (``"stop"``, ``"length"``...)."""
    stop_sequence: str | None = None
    """The stop string that ended the reply on the client, if one did."""
    usage: dict[str, Any] | None = None
    """Token counts, when the server sends them."""
    id: str | None = None
    """The reply's id, when the server gives one."""
    empty: bool = False
    """The body ended with no event at all (a dialect with events only)."""

    @property
    def reasoning(self) -> str:
        """Reasoning the server sent beside the text (a dialect with reasoning deltas only)."""
        return ""

    def __init__(self, errors: DecodeErrors = "replace", max_bytes: int | None = None) -> None:
        """An empty reply: ``errors`` says what invalid UTF-8 gives (see ``UTF8Decoder``),
        ``max_bytes`` how many body bytes it takes before ``ResponseTooLargeError``."""
        super().__init__(errors)
        self._parts: list[str] = []
        self._complete = False
        self._progress = False  # output that is not text (reasoning) came: the text wait restarts
        self.max_bytes = max_bytes
        self._cap = (1 << 62) if max_bytes is None else max_bytes

    def may_ask_again(self, error: BaseException) -> bool:
        """Whether ``error``, raised by this reply, leaves the request worth sending
        again (or asking about): nothing was handed out, and it is an error event
        (a status inside the stream) or an empty stream. The policy decides the rest."""
        from ._exceptions import APIStatusError

        return not self.text and (self.empty or isinstance(error, APIStatusError))

    def restart(self) -> None:
        """Forget everything received: the request is sent again (a retry before any text)."""
        Reply.__init__(self, self._errors, self.max_bytes)  # type: ignore[arg-type]

    @property
    def text(self) -> str:
        """All text decoded so far."""
        parts = self._parts
        if len(parts) > 1:
            # Joined in place: the sync loop (``texts``) holds this same list, and
            # keeps appending to it while the caller reads ``text`` between chunks.
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""

    @property
    def complete(self) -> bool:
        """The reply ended as its dialect says a whole reply ends (not cut off)."""
        return self._complete or self.ended

    @property
    def bytes_received(self) -> int:
        """Body bytes fed so far (the same as ``consumed``)."""
        return self._consumed

    def feed(self, data: bytes) -> str:
        """Decode the next chunk of the body; "" while a character is incomplete."""
        # Every chunk of an async stream passes here: ``UTF8Decoder.decode``, inlined.
        size = len(data)
        if self._consumed + size > self._cap:
            raise self._too_large(data)
        if self._pending:
            data = self._pending + data
        try:
            text, used = utf_8_decode(data, self._errors, False)
        except UnicodeDecodeError as exc:
            raise self._failed(exc) from None
        self._consumed += size
        self._pending = data[used:] if used < len(data) else b""
        if text:
            self._parts.append(text)
        return text

    def texts(self, chunks: Iterable[bytes], clock: BodyClock | None = None) -> Iterator[str]:
        """``feed`` over a whole body, as one loop: each non-empty text, then the tail.

        The sync stream's loop (a generator resumes for less than a method call
        costs). With a ``clock``, a chunk that arrives after the total deadline,
        or without text after the text's, ends the reply with ``StreamTimeoutError``
        (``.limit`` says which), whose ``.text`` includes that chunk.
        """
        parts = self._parts
        errors = self._errors
        cap = self._cap
        for data in chunks:
            size = len(data)
            if self._consumed + size > cap:
                raise self._too_large(data)
            if self._pending:
                data = self._pending + data
            try:
                text, used = utf_8_decode(data, errors, False)
            except UnicodeDecodeError as exc:
                raise self._failed(exc) from None
            self._consumed += size
            self._pending = data[used:] if used < len(data) else b""
            if text:
                parts.append(text)  # kept even when the deadline fires below
            if clock is not None:
                self.tick(clock, text)
            if text:
                yield text
        tail = self.finish()
        if tail:
            yield tail

    def tick(self, clock: BodyClock, text: str) -> None:
        """A chunk arrived (with ``text``, maybe ""): raise if a limit of ``clock`` has passed.

        Text that arrives late is still text: it resets the wait, unless the
        total deadline has passed.
        """
        now = monotonic()
        limit = clock.passed(now)
        if (text or self._progress) and limit != "total":
            self._progress = False
            clock.heard(now)
        elif limit is not None:
            raise self.timed_out(limit, clock.quiet if limit == "text" else clock.total)

    def _failed(self, exc: UnicodeDecodeError) -> AuraDecodeError:
        error = self._error(exc)
        error.text = self.text
        return error

    def finish(self) -> str:
        """The body ended cleanly: decode what is left (an incomplete character is U+FFFD)."""
        try:
            text = self.flush()
        except AuraDecodeError as exc:
            exc.text = self.text
            raise
        if text:
            self._parts.append(text)
        self._complete = True
        return text

    def _too_large(self, data: bytes) -> ResponseTooLargeError:
        assert self.max_bytes is not None
        self.feed(data[: self.max_bytes - self._consumed])
        return self.too_large(f"the reply passed max_response_bytes={self.max_bytes}")

    def too_large(self, why: str) -> ResponseTooLargeError:
        """The error for a reply cut off at a size limit, carrying everything received."""
        return ResponseTooLargeError(self._message(why), text=self.text, truncated=self.pending)

    def interrupted(self, why: str) -> StreamInterruptedError:
        """The error for a body that broke off, carrying everything received."""
        return StreamInterruptedError(self._message(why), text=self.text, truncated=self.pending)

    def timed_out(self, limit: TimeoutLimit, seconds: float | None) -> StreamTimeoutError:
        """The error for a server that went quiet mid-reply."""
        after = "" if seconds is None else f" after {seconds:g}s"
        if limit == "total":
            why = f"the total timeout{after} passed"
        elif limit == "text":
            why = (
                f"no text from the server for the text timeout{after} (keep-alives and "
                "events without text do not count)"
            )
        else:
            why = f"no data from the server for the {limit} timeout{after}"
        return StreamTimeoutError(
            self._message(why),
            limit=limit,
            seconds=seconds,
            text=self.text,
            truncated=self.pending,
        )

    def _message(self, why: str) -> str:
        message = f"reply interrupted after {len(self.text)} characters ({self.bytes_received} bytes): {why}"
        pending = self.pending
        if pending:
            message += f"; the cut split a character, {len(pending)} byte(s) kept in .truncated"
        return message
