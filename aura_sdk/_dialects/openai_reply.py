"""The reply of the OpenAI-compatible dialect: server-sent events in, text out.

Each ``data:`` event is a ``chat.completion.chunk``; its ``choices[0].delta.content``
is the text. Around that, what servers really send (``openchat-protocol.md``):

- a role-only first chunk, empty deltas, ``delta: null``, ``data: null``, a
  ``choices: []`` usage chunk: no text, no error;
- ``finish_reason`` (``""`` counts as none), ``usage`` and ``id`` are kept;
- ``data: [DONE]`` ends the reply; so does a ``finish_reason`` followed by the
  end of the body. Neither (a dropped engine, a cut) is a ``StreamInterruptedError``
  carrying the text, as is a body that ends inside an event;
- a ``data: {"error": ...}`` event becomes the error its ``code`` says, with
  the text so far on ``.text``;
- ``stop`` strings are enforced here (OpenChat's server ignores them): the
  text is held back while it may be the start of one.

JSON is parsed per event only after the SSE rules split the bytes on CR and LF,
so U+2028 inside a string is text, not a line end.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .._decoder import DecodeErrors, UTF8Decoder
from .._exceptions import (
    APIResponseValidationError,
    APIStatusError,
    AuraDecodeError,
    ContextLengthError,
    ResponseTooLargeError,
    StreamInterruptedError,
    StreamTimeoutError,
    TimeoutLimit,
)
from .._reply import Reply
from .._secrets import scrub
from .._sse import ServerSentEvent, SSEDecoder
from .._status import context_numbers, error_message, event_status, phrase, status_error

if TYPE_CHECKING:
    from .._timeouts import BodyClock

__all__ = ["EventReply", "StopMatcher", "error_event"]

_loads = json.loads


class StopMatcher:
    """Cuts a text stream before the first of some stop strings, wherever chunks split it.

    >>> m = StopMatcher(("\\n\\nUser:",))
    >>> m.push("Hi!\\n"), m.push("\\nUs"), m.push("er: more"), m.hit
    ('Hi!', '', '', True)
    """

    __slots__ = ("held", "hit", "longest", "matched", "stops")

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = stops
        self.longest = max(len(s) for s in stops)
        self.held = ""  # the end of the text so far that may start a stop string
        self.hit = False
        self.matched: str | None = None  # the stop string that was hit

    def push(self, text: str) -> str:
        """The part of ``text`` that is safe to hand out now.

        A stop string that matches is cut off at once, unless a longer one may
        still match from an earlier position: the text from there is held.
        """
        text = self.held + text
        stops = self.stops
        match = self._first(text)
        # The earliest start of a proper prefix of a stop string at the end of the text.
        start = len(text)
        for size in range(min(self.longest - 1, len(text)), 0, -1):
            tail = text[-size:]
            if any(len(s) > size and s.startswith(tail) for s in stops):
                start = len(text) - size
                break
        if match >= 0 and match <= start:
            self.held = ""
            self.hit = True
            return text[:match]
        self.held = text[start:]
        return text[:start]

    def release(self) -> str:
        """The end of the reply: the text held back, up to a stop string in it."""
        held, self.held = self.held, ""
        match = self._first(held)
        if match >= 0:
            self.hit = True
            return held[:match]
        return held

    def _first(self, text: str) -> int:
        """Where the earliest stop string in ``text`` starts (-1: none); it is ``matched``."""
        first = -1
        for stop in self.stops:
            at = text.find(stop)
            if at >= 0 and (first < 0 or at < first):
                first, self.matched = at, stop
        return first


class EventReply(Reply):
    """One reply of the OpenAI-compatible dialect (see the module docstring).

    >>> r = EventReply()
    >>> r.feed(b'data: {"choices":[{"delta":{"role":"assistant"}}]}\\n\\n')
    ''
    >>> r.feed(b'data: {"id":"c1","choices":[{"delta":{"content":"caf\\xc3')
    ''
    >>> r.feed(b'\\xa9"}}]}\\n\\ndata: {"choices":[{"delta":{},"finish_reason":"stop"}]}\\n\\n')
    'café'
    >>> r.feed(b"data: [DONE]\\n\\n"), r.ended, r.finish_reason, r.id, r.text
    ('', True, 'stop', 'c1', 'café')
    """

    __slots__ = (
        "_events",
        "_sse",
        "_stop",
        "_strict",
        "_thoughts",
        "drain",
        "empty",
        "ended",
        "finish_reason",
        "id",
        "usage",
    )

    @property
    def stop_sequence(self) -> str | None:  # type: ignore[override]
        """The stop string that ended the reply, if one did."""
        stop = self._stop
        return stop.matched if stop is not None and stop.hit else None

    def __init__(
        self,
        errors: DecodeErrors = "replace",
        max_bytes: int | None = None,
        stop: tuple[str, ...] = (),
    ) -> None:
        super().__init__(errors, max_bytes)
        self._sse = SSEDecoder(max_bytes)
        self._strict = errors == "strict"
        self._stop = StopMatcher(stop) if stop else None
        self.drain = False
        self.ended = False
        """The reply is complete (``[DONE]``, or a stop string): read no further."""
        self._events = 0
        self._thoughts: list[str] = []
        self.empty = False
        """The body ended with no event at all (llama-cpp-python's streaming overflow)."""
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.id: str | None = None

    def restart(self) -> None:
        stop = self._stop
        EventReply.__init__(self, self._errors, self.max_bytes, () if stop is None else stop.stops)  # type: ignore[arg-type]

    @property
    def reasoning(self) -> str:
        """The reasoning deltas received so far (``reasoning_content``, ``reasoning``)."""
        thoughts = self._thoughts
        if len(thoughts) > 1:
            thoughts[:] = ["".join(thoughts)]
        return thoughts[0] if thoughts else ""

    @property
    def events(self) -> int:
        """Events received so far."""
        return self._events

    def feed(self, data: bytes) -> str:
        """The text that the events this chunk completes carry."""
        if self.ended:
            return ""
        size = len(data)
        if self._consumed + size > self._cap:
            raise self._too_large(data)
        if self._strict:
            consumed = self._consumed
            try:
                UTF8Decoder.decode(self, data)  # counts the bytes; raises on invalid UTF-8
            except AuraDecodeError as exc:
                # The events complete before the bad byte were received whole: their
                # text is kept (and a reply they end, by [DONE] or a stop string,
                # is no error), wherever the chunk boundaries fell.
                good = data[: max(exc.position - consumed, 0)]
                try:
                    text = self._texts(self._sse.feed(good)) if good else ""
                except ResponseTooLargeError:  # an event past the cap: the bad byte is the news
                    text = ""
                if self.ended:
                    self._consumed += size
                    return text
                self._release()
                exc.text = self.text
                raise
        else:
            self._consumed += size
        try:
            events = self._sse.feed(data)
        except ResponseTooLargeError as exc:
            raise self.too_large(str(exc)) from None
        return self._texts(events) if events else ""

    def texts(self, chunks: Iterable[bytes], clock: BodyClock | None = None) -> Iterator[str]:
        """``feed`` over a whole body (the sync stream's loop); see ``Reply.texts``."""
        feed = self.feed
        tick = self.tick
        for data in chunks:
            text = feed(data)
            if clock is not None:
                tick(clock, text)
            if text:
                yield text
            if self.ended:
                return
        tail = self.finish()
        if tail:
            yield tail

    def finish(self) -> str:
        """The body ended: complete if ``[DONE]`` or a ``finish_reason`` came, else a cut."""
        if self.ended:
            return ""
        if self._strict:
            try:
                self.flush()
            except AuraDecodeError as exc:
                exc.text = self.text
                raise
        tail = self._release()
        if self.ended:  # a stop string, complete in what was held back
            return tail
        if self._sse.pending:
            raise self.interrupted(
                f"the body ended inside an event ({self._sse.pending} bytes of it discarded)"
            )
        if self._events == 0 and not self._parts:
            self.empty = True
            raise self.interrupted(
                "the server sent an empty stream (a 200 with no event at all, as "
                "llama-cpp-python answers a prompt over its context)"
            )
        if self.finish_reason is None:
            raise self.interrupted("the stream ended with neither data: [DONE] nor a finish_reason")
        self._complete = True
        return tail

    # --- errors carry the text held back for a stop string, too ---------------

    def interrupted(self, why: str) -> StreamInterruptedError:
        self._release()
        return super().interrupted(why)

    def timed_out(self, limit: TimeoutLimit, seconds: float | None) -> StreamTimeoutError:
        self._release()
        return super().timed_out(limit, seconds)

    def too_large(self, why: str) -> ResponseTooLargeError:
        self._release()
        return super().too_large(why)

    def _failed(self, exc: UnicodeDecodeError) -> AuraDecodeError:
        self._release()
        return super()._failed(exc)

    def _release(self) -> str:
        stop = self._stop
        if stop is None or not stop.held:
            return ""
        held = stop.release()
        if stop.hit:
            self.ended = True
            self.finish_reason = "stop"
        if held:
            self._parts.append(held)
        return held

    # --- events ---------------------------------------------------------------

    def _texts(self, events: list[ServerSentEvent]) -> str:
        # Every event of every stream passes here.
        pieces: list[str] = []
        for event in events:
            self._events += 1
            data = event.data
            if data == "[DONE]":
                if self.finish_reason is None and not pieces and self._nothing_yet():
                    # LM Studio's answer to a context overflow: no text, no reason.
                    raise self.interrupted(
                        "the server ended the stream (data: [DONE]) with no text and no "
                        "finish_reason (LM Studio answers a prompt over its context so)"
                    )
                self.ended = self.drain = True
                break
            try:
                chunk = _loads(data)
            except (ValueError, RecursionError):
                raise self._invalid("is not JSON", data) from None
            if type(chunk) is not dict:
                if chunk is None:  # data: null
                    continue
                raise self._invalid("is not a JSON object", data)
            if chunk.get("error") is not None or chunk.get("object") == "error":
                text = self._emit(pieces)
                if self.ended:  # a stop string came first: the reply was complete
                    return text
                raise self._error_event(chunk, data)
            if self.id is None and type(chunk.get("id")) is str:
                self.id = chunk["id"]
            usage = chunk.get("usage")
            if type(usage) is dict:
                self.usage = usage
            choices = chunk.get("choices")
            if not choices or type(choices) is not list:
                continue
            choice = choices[0]
            if type(choice) is not dict:
                continue
            delta = choice.get("delta")
            if type(delta) is dict:
                content = delta.get("content")
                if content and type(content) is str:
                    pieces.append(content)
                if len(delta) > 1 or content is None:  # more than content: reasoning?
                    thought = delta.get("reasoning_content") or delta.get("reasoning")
                    if thought and type(thought) is str:
                        self._thoughts.append(thought)
                        self._progress = True
            reason = choice.get("finish_reason")
            if reason and type(reason) is str:
                self.finish_reason = reason
        text = self._emit(pieces)
        if self.ended:
            text += self._release()
        return text

    def _nothing_yet(self) -> bool:
        """No text so far, none held back for a stop string."""
        stop = self._stop
        return not self._parts and (stop is None or not stop.held)

    def _emit(self, pieces: list[str]) -> str:
        """Hand out ``pieces`` (through the stop strings), keeping what is handed out."""
        text = "".join(pieces) if len(pieces) != 1 else pieces[0]
        stop = self._stop
        if stop is not None and text:
            text = stop.push(text)
            if stop.hit:
                self.ended = True
                self.finish_reason = "stop"
        if text:
            self._parts.append(text)
        return text

    def _invalid(self, why: str, data: str) -> APIResponseValidationError:
        sample = scrub(data[:200])
        error = APIResponseValidationError(
            f"event {self._events} of the stream {why}: {sample!r}", body=sample
        )
        self._release()
        error.text = self.text
        return error

    def _error_event(self, chunk: dict[str, Any], data: str) -> APIStatusError:
        self._release()
        return error_event(chunk, data, self.text)


def error_event(chunk: dict[str, Any], data: str, text: str) -> APIStatusError:
    """The exception for a ``data: {"error": ...}`` event inside a ``200`` stream.

    Classified as a status would be (``event_status``): by the error's ``type``
    and ``code`` strings (``exceed_context_size_error``, ``rate_limit_exceeded``...),
    else its ``code`` when that is an HTTP status, else its message; a
    ``ContextLengthError`` keeps llama.cpp's ``n_prompt_tokens`` and ``n_ctx``.
    ``text`` is the reply received before it.
    """
    error = chunk.get("error")
    inner = error if isinstance(error, dict) else chunk
    code = inner.get("code")
    message = error_message(data) or data[:200]
    status, context = event_status(inner, message)
    exc = status_error(status, phrase(status), scrub(data))  # .body: the event, masked
    if context and not isinstance(exc, ContextLengthError):
        exc = ContextLengthError(
            str(exc), status_code=status, reason=exc.reason, body=exc.body, retry_after=None
        )
    if isinstance(exc, ContextLengthError):
        exc.n_prompt_tokens, exc.n_ctx = context_numbers(inner)
    where = f"after {len(text)} characters" if text else "before any text"
    said = f" (code {code})" if isinstance(code, (int, str)) and code != "" else ""
    # Scrubbed whole: the server's message (decoded from JSON, so \u-escapes and
    # all) and its code may echo the key it was sent.
    exc.args = (scrub(f"the server sent an error event {where}: {message}{said}"),)
    exc.text = text
    return exc
