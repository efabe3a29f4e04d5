"""Incremental UTF-8 decoding of a reply that arrives in arbitrary byte chunks.

A chunk boundary can fall inside a multibyte character, so the body is decoded
as one stream, never chunk by chunk (the seed provider's bug). Shape as in
httpx's ``_decoders.py``: ``decode(chunk) -> str`` then ``flush() -> str``.

It calls the codec's C function directly (``codecs.utf_8_decode``, which stops
before an incomplete character and says how much it used) rather than
``codecs.getincrementaldecoder``, whose ``decode`` is Python code: every chunk
of every stream passes here.
"""

from __future__ import annotations

from codecs import utf_8_decode
from typing import Literal

from ._exceptions import AuraDecodeError, AuraValidationError
from ._validation import show

__all__ = ["DecodeErrors", "UTF8Decoder"]

DecodeErrors = Literal["replace", "strict"]
"""What to do with invalid UTF-8: put U+FFFD in its place, or raise ``AuraDecodeError``."""


class UTF8Decoder:
    """Feed it bytes, get whole characters back.

    ``errors`` is what invalid UTF-8 gives: ``"replace"`` (U+FFFD) or ``"strict"``
    (``AuraDecodeError``, naming the bad byte's position).

    >>> d = UTF8Decoder()
    >>> d.decode(b"caf\\xc3"), d.decode(b"\\xa9"), d.flush()
    ('caf', 'é', '')
    """

    __slots__ = ("_consumed", "_errors", "_pending")

    def __init__(self, errors: DecodeErrors = "replace") -> None:
        if errors not in ("replace", "strict"):
            raise AuraValidationError(f"errors: expected 'replace' or 'strict', got {show(errors)}")
        self._errors: str = errors
        self._pending = b""
        self._consumed = 0

    @property
    def pending(self) -> bytes:
        """Bytes of an incomplete character held back until more arrive."""
        return self._pending

    @property
    def consumed(self) -> int:
        """Bytes fed so far."""
        return self._consumed

    def decode(self, data: bytes) -> str:
        """Decode the next chunk, ``data``; an incomplete character at its end waits
        in ``pending``."""
        size = len(data)
        if self._pending:
            data = self._pending + data
        try:
            text, used = utf_8_decode(data, self._errors, False)
        except UnicodeDecodeError as exc:
            raise self._error(exc) from None
        self._consumed += size
        self._pending = data[used:] if used < len(data) else b""
        return text

    def flush(self) -> str:
        """End of input: an incomplete character left over becomes U+FFFD (or raises)."""
        if not self._pending:
            return ""
        try:
            text, _ = utf_8_decode(self._pending, self._errors, True)
        except UnicodeDecodeError as exc:
            raise self._error(exc) from None
        self._pending = b""
        return text

    def _error(self, exc: UnicodeDecodeError) -> AuraDecodeError:
        # A failed call changed nothing, so the failing input started with ``pending``.
        position = self._consumed - len(self._pending) + exc.start
        return AuraDecodeError(
            f"invalid UTF-8 at byte {position} of the reply: {exc.reason}", position=position
        )
