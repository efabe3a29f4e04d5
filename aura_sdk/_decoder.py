"""Incremental UTF-8 decoding of a reply that arrives in arbitrary byte chunks.

A chunk boundary can fall inside a multibyte character, so the body is decoded
as one stream, never chunk by chunk (the seed provider's bug). Shape as in
httpx's ``_decoders.py``: ``decode(chunk) -> str`` then ``flush() -> str``.
"""

from __future__ import annotations

import codecs
from typing import Literal

from ._exceptions import AuraDecodeError, AuraValidationError

__all__ = ["DecodeErrors", "UTF8Decoder"]

DecodeErrors = Literal["replace", "strict"]
"""What to do with invalid UTF-8: put U+FFFD in its place, or raise ``AuraDecodeError``."""


class UTF8Decoder:
    """Feed it bytes, get whole characters back.

    >>> d = UTF8Decoder()
    >>> d.decode(b"caf\\xc3"), d.decode(b"\\xa9"), d.flush()
    ('caf', 'é', '')
    """

    __slots__ = ("_consumed", "_decoder", "_errors")

    def __init__(self, errors: DecodeErrors = "replace") -> None:
        if errors not in ("replace", "strict"):
            raise AuraValidationError(f"errors: expected 'replace' or 'strict', got {errors!r}")
        self._errors = errors
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors)
        self._consumed = 0

    @property
    def pending(self) -> bytes:
        """Bytes of an incomplete character held back until more arrive."""
        return self._decoder.getstate()[0]

    def decode(self, data: bytes) -> str:
        return self._run(data, final=False)

    def flush(self) -> str:
        """End of input: an incomplete character left over becomes U+FFFD (or raises)."""
        return self._run(b"", final=True)

    def _run(self, data: bytes, *, final: bool) -> str:
        start = self._consumed - len(self.pending)
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            position = start + exc.start
            raise AuraDecodeError(
                f"invalid UTF-8 at byte {position} of the reply: {exc.reason}", position=position
            ) from None
        self._consumed += len(data)
        return text
