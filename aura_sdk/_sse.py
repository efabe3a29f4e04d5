"""Incremental decoding of a ``text/event-stream`` body: bytes in, events out.

Dialect-free and sans-IO: it follows the WHATWG "event stream interpretation"
rules and knows nothing of JSON or ``[DONE]``; a dialect's body parser wraps it.
Shape as in h11: ``feed(bytes) -> list[event]`` for each chunk, then
``close() -> list[event]`` at the end of the body.

Why it is written the way it is:

- Lines are split over bytes, on CR and LF only. ``str.splitlines()`` (and so
  ``httpx.Response.iter_lines()``) also splits on U+2028, U+2029 and U+0085,
  which servers send raw inside JSON.
- CR and LF never occur inside a UTF-8 multibyte sequence, so splitting before
  decoding cannot cut a character, and a character split across chunks simply
  waits in the unfinished line. A ``data`` value is decoded once, when its event
  is dispatched (``errors="replace"``, as the spec says); a chunk is scanned by
  ``bytes`` methods (C loops), never byte by byte in Python.
- A CR that ends one chunk may be the first half of a CRLF: the LF that may
  start the next chunk is then skipped, so it never makes an extra empty line.
- ``max_event_bytes`` bounds what is held: the bytes of the current event's
  lines (line ends not counted; comment lines count alone, as they are never
  kept). Passing it raises ``ResponseTooLargeError``, the tree's error for "the
  SDK cut the reply off at a size limit", already while a line is still
  arriving, so a server that sends one endless line cannot exhaust memory. The
  wrapping parser knows the reply text so far and re-raises it with ``text=``.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from ._exceptions import AuraUsageError, AuraValidationError, ResponseTooLargeError

__all__ = ["DEFAULT_MAX_EVENT_BYTES", "SSEDecoder", "ServerSentEvent"]

DEFAULT_MAX_EVENT_BYTES = 1 << 20
"""1 MiB: a chat chunk is a few hundred bytes."""

_BOM = b"\xef\xbb\xbf"
_NO_LIMIT = 1 << 62


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event.

    ``event`` is the type (``"message"`` unless an ``event`` field set one),
    ``id`` the last event id the stream set, which persists from event to event
    (``None`` if it never set one, ``""`` if it cleared it), and ``retry`` the
    reconnection time in milliseconds given by this event's own ``retry`` field.
    """

    __slots__ = ("data", "event", "id", "retry")

    data: str
    event: str
    id: str | None
    retry: int | None

    def __init__(
        self,
        data: str,
        event: str = "message",
        id: str | None = None,
        retry: int | None = None,
    ) -> None:
        # The slots' own setters: a frozen dataclass refuses setattr, and these
        # cost less than object.__setattr__ (one event per ~100 bytes of stream).
        _set_data(self, data)
        _set_event(self, event)
        _set_id(self, id)
        _set_retry(self, retry)

    def __reduce__(self) -> tuple[type[ServerSentEvent], tuple[str, str, str | None, int | None]]:
        # Frozen and slotted: the default copy/pickle protocol would restore the
        # slots with setattr, which a frozen dataclass refuses.
        return (ServerSentEvent, (self.data, self.event, self.id, self.retry))


_set_data = ServerSentEvent.__dict__["data"].__set__
_set_event = ServerSentEvent.__dict__["event"].__set__
_set_id = ServerSentEvent.__dict__["id"].__set__
_set_retry = ServerSentEvent.__dict__["retry"].__set__


class SSEDecoder:
    """Feed it the body's bytes in any chunks, get whole events back.

    >>> decoder = SSEDecoder()
    >>> decoder.feed(b'\\xef\\xbb\\xbfdata: {"text": "caf\\xc3')
    []
    >>> decoder.feed(b'\\xa9"}\\r\\n\\r')
    [ServerSentEvent(data='{"text": "café"}', event='message', id=None, retry=None)]
    >>> decoder.feed(b"\\n: keep-alive\\n\\nevent: done\\nid: 7\\ndata: a\\ndata: b\\n\\ndata: cut")
    [ServerSentEvent(data='a\\nb', event='done', id='7', retry=None)]
    >>> decoder.close(), decoder.pending, decoder.comments
    ([], 9, 1)

    ``close()`` discards an event that lacks its final empty line, as the spec
    says; ``pending`` then tells how many bytes of it were dropped, so a caller
    can refuse a stream that ended mid-event rather than lose it silently.
    """

    __slots__ = (
        "_closed",
        "_comments",
        "_data",
        "_event",
        "_event_retry",
        "_failure",
        "_id",
        "_last_id",
        "_limit",
        "_retry",
        "_size",
        "_skip_lf",
        "_start",
        "_tail",
        "_tail_size",
        "max_event_bytes",
    )

    def __init__(self, max_event_bytes: int | None = DEFAULT_MAX_EVENT_BYTES) -> None:
        if max_event_bytes is not None and (
            type(max_event_bytes) is not int or max_event_bytes < 1  # bool is not an int here
        ):
            raise AuraValidationError(
                f"max_event_bytes: expected a positive int or None, got {max_event_bytes!r}"
            )
        self.max_event_bytes = max_event_bytes
        self._limit = _NO_LIMIT if max_event_bytes is None else max_event_bytes
        self._start = True  # a BOM may still come
        self._skip_lf = False  # the last chunk ended with CR
        self._tail: list[bytes] = []  # the unfinished line, in pieces (no CR or LF)
        self._tail_size = 0
        self._data: list[bytes] = []  # the event's data values
        self._event = ""
        self._event_retry: int | None = None
        self._size = 0  # bytes of the event's finished non-comment lines
        self._id: str | None = None  # the spec's "last event ID buffer"
        self._last_id: str | None = None  # ... as of the last empty line
        self._retry: int | None = None
        self._comments = 0
        self._failure: ResponseTooLargeError | None = None
        self._closed = False

    @property
    def pending(self) -> int:
        """Bytes received that no dispatched event has used yet.

        The event in progress: its finished lines (without their line ends) and
        the unfinished last line. 0 right after an event or a comment ends. After
        ``close()``, the bytes that were discarded.
        """
        return self._size + self._tail_size

    @property
    def comments(self) -> int:
        """Comment lines seen so far (keep-alives): compare before and after a feed."""
        return self._comments

    @property
    def last_event_id(self) -> str | None:
        """The id the stream had set at its last empty line (the spec's "last event
        ID string"), for a ``Last-Event-ID`` header when reconnecting.
        """
        return self._last_id

    @property
    def retry(self) -> int | None:
        """The last reconnection time (ms) the stream set, even in an event not dispatched."""
        return self._retry

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Decode the next chunk: the events it completes, in order."""
        if self._failure is not None:
            raise self._failure
        if self._closed:
            raise AuraUsageError("SSEDecoder.feed() after close()")
        if not data:
            return []
        if (
            data[-2:] == b"\n\n"
            and data.startswith(b"data: ")
            and data.count(b"\n") == 2
            and not (self._tail or self._data or self._skip_lf or self._start or self._size)
            and not (self._event or self._event_retry is not None)
            and b"\r" not in data
            and len(data) - 2 <= self._limit
        ):
            # The usual chunk of a chat stream: one whole ``data:`` event, in a
            # decoder between events. The general path gives the same event.
            self._last_id = self._id
            return [ServerSentEvent(data[6:-2].decode("utf-8", "replace"), "message", self._id)]
        if self._skip_lf:
            self._skip_lf = False
            if data[0] == 0x0A:
                data = data[1:]
                if not data:
                    return []
        if self._start:
            data = self._strip_bom(data)
            if not data:
                return []
        has_cr = b"\r" in data
        if not has_cr and b"\n" not in data:
            self._tail.append(data)
            self._tail_size += len(data)
            return self._check_tail([])
        if self._tail:
            self._tail.append(data)
            data = b"".join(self._tail)
            self._tail = []
            self._tail_size = 0
        if has_cr:
            self._skip_lf = data[-1] == 0x0D
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = data.split(b"\n")
        tail = lines.pop()
        events = self._lines(lines)
        if tail and self._failure is None:
            self._tail.append(tail)
            self._tail_size = len(tail)
            return self._check_tail(events)
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of the body. An event without its final empty line is discarded
        (see ``pending``), so this returns ``[]``; it keeps the h11 shape.
        """
        if self._failure is not None:
            raise self._failure
        self._closed = True
        return []

    def _strip_bom(self, data: bytes) -> bytes:
        if self._tail:
            data = b"".join(self._tail) + data
            self._tail = []
            self._tail_size = 0
        if len(data) < 3 and _BOM.startswith(data):
            # Maybe the start of a BOM: wait for the rest.
            self._tail.append(data)
            self._tail_size = len(data)
            return b""
        self._start = False
        return data[3:] if data.startswith(_BOM) else data

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent]:
        # Every chunk passes here: the state lives in locals for the loop.
        events: list[ServerSentEvent] = []
        limit = self._limit
        data = self._data
        event = self._event
        event_retry = self._event_retry
        size = self._size
        id_ = self._id
        last_id = self._last_id
        for line in lines:
            if not line:
                last_id = id_
                if data:
                    text = b"\n".join(data).decode("utf-8", "replace")
                    events.append(ServerSentEvent(text, event or "message", id_, event_retry))
                    data = []
                event = ""
                event_retry = None
                size = 0
                continue
            if line[0] == 0x3A:  # ":"
                if len(line) > limit:
                    return self._fail(events)
                self._comments += 1
                continue
            size += len(line)
            if size > limit:
                return self._fail(events)
            if line.startswith(b"data:"):
                data.append(line[6:] if line.startswith(b" ", 5) else line[5:])
                continue
            colon = line.find(b":")
            if colon < 0:
                name = line
                value = b""
            else:
                name = line[:colon]
                value = line[colon + 2 :] if line.startswith(b" ", colon + 1) else line[colon + 1 :]
            if name == b"data":
                data.append(value)
            elif name == b"event":
                event = value.decode("utf-8", "replace")
            elif name == b"id":
                if b"\0" not in value:
                    id_ = value.decode("utf-8", "replace")
            elif name == b"retry" and value.isdigit():  # bytes.isdigit: ASCII digits only
                # More digits than int() takes (sys.get_int_max_str_digits): ignored.
                with suppress(ValueError):
                    event_retry = self._retry = int(value)
        self._data = data
        self._event = event
        self._event_retry = event_retry
        self._size = size
        self._id = id_
        self._last_id = last_id
        return events

    def _check_tail(self, events: list[ServerSentEvent]) -> list[ServerSentEvent]:
        # A comment line is never kept, so it is measured alone; any other line
        # adds to its event. Either way the verdict cannot change as the line
        # grows, so every split of the stream fails at the same event.
        held = self._tail_size
        if self._tail[0][0] != 0x3A:
            held += self._size
        if held > self._limit:
            return self._fail(events)
        return events

    def _fail(self, events: list[ServerSentEvent]) -> list[ServerSentEvent]:
        self._failure = ResponseTooLargeError(
            f"an event of the stream passed max_event_bytes={self.max_event_bytes}"
        )
        self._tail = []
        self._tail_size = 0
        self._data = []
        self._size = 0
        # Events the chunk completed before the limit was passed are still
        # handed out; the error comes with the next call.
        if events:
            return events
        raise self._failure
