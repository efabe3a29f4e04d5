"""Undoing a body's ``Content-Encoding`` with bounded memory: no compression bomb.

httpx decodes each raw chunk in one call, so a few KB of gzip can become GBs at
once. Here every decoder hands its output out in pieces of at most ``PIECE``
bytes (zlib's ``decompress(data, max_length)``, brotli's
``process(data, output_buffer_limit=)``), so whoever stops reading at a byte cap
never holds much more than that cap. ``BodyDecoder`` also caps the *raw* bytes
received, since a body can be long on the wire and decode to little.

Shape as in httpx's ``_decoders.py``: ``decode(chunk)`` then ``flush()``, here
each an iterator of bounded pieces. Encodings that cannot be decoded within
bounds (zstd; br without brotli >= 1.2) are refused with ``UnsupportedEncoding``,
never decoded unbounded and never passed on still encoded. I/O-free: the
facades read the raw stream and feed it in.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = [
    "PIECE",
    "BodyDecoder",
    "BodyError",
    "BodyTooLarge",
    "CorruptBody",
    "UnsupportedEncoding",
    "accept_encoding",
    "content_codings",
]

PIECE = 64 * 1024
"""The most any decoder hands out at once."""


class BodyError(Exception):
    """A body that cannot be read as its headers say. Never escapes a public call:
    the facades catch it with the transport errors and raise the SDK's own."""


class UnsupportedEncoding(BodyError):
    """A ``Content-Encoding`` the SDK cannot undo within bounds."""


class CorruptBody(BodyError):
    """The body is not valid data of its ``Content-Encoding``."""


class BodyTooLarge(BodyError):
    """More raw bytes arrived than the cap allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body passed {limit} bytes as received")
        self.limit = limit


class _Zlib:
    """gzip (``wbits=31``, several members allowed) or deflate (zlib, else raw, as httpx)."""

    __slots__ = ("_d", "_fed", "_name", "_seen", "_wbits")

    def __init__(self, name: str, wbits: int) -> None:
        self._name = name
        self._wbits = wbits
        # deflate: the input so far, while it may still turn out to be raw deflate
        self._seen: bytes | None = b"" if wbits == zlib.MAX_WBITS else None
        self._d = zlib.decompressobj(wbits)
        self._fed = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        self._fed = self._fed or bool(data)
        if self._seen is not None:
            self._seen += data
        while True:
            try:
                out = self._d.decompress(data, PIECE)
            except zlib.error as exc:
                if self._seen is not None:
                    # Some servers send raw deflate as "deflate": try that, as httpx does.
                    data, self._seen = self._seen, None
                    self._wbits = -zlib.MAX_WBITS
                    self._d = zlib.decompressobj(self._wbits)
                    continue
                raise CorruptBody(f"{self._name}: {exc}") from None
            if self._seen is not None and (out or len(self._seen) > 1024):
                self._seen = None  # a zlib stream after all
            if out:
                yield out
            if self._d.eof:
                data = self._d.unused_data
                if data and self._wbits == 31:
                    self._d = zlib.decompressobj(31)  # the next gzip member
                    continue
                return  # bytes past the end of the stream are ignored, as httpx does
            data = self._d.unconsumed_tail
            if not data and len(out) < PIECE:
                return  # all input used, and no output held back

    def flush(self) -> Iterator[bytes]:
        # ``decode`` leaves no input behind (zlib's own ``flush`` would decode any, unbounded).
        if self._fed and not self._d.eof:
            raise CorruptBody(f"{self._name}: the body ended before the compressed data did")
        return iter(())


class _Brotli:
    """br, through brotli's bounded ``process`` (brotli >= 1.2)."""

    __slots__ = ("_d", "_fed")

    def __init__(self, module: Any) -> None:
        self._d = module.Decompressor()
        self._fed = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        self._fed = self._fed or bool(data)
        try:
            out: bytes = self._d.process(data, output_buffer_limit=PIECE)
            if out:
                yield out
            # Output held back is handed out by further calls with no input (brotli
            # may pass the limit by one buffer step, so a piece stays under ~2 PIECE).
            while out and not self._d.is_finished():
                out = self._d.process(b"", output_buffer_limit=PIECE)
                if out:
                    yield out
        except Exception as exc:  # brotli.error: its class is not exported the same by all builds
            raise CorruptBody(f"br: {exc}") from None

    def flush(self) -> Iterator[bytes]:
        if self._fed and not self._d.is_finished():
            raise CorruptBody("br: the body ended before the compressed data did")
        return iter(())


def _bounded_brotli() -> Any:
    """The brotli module, if it has the bounded ``process``; else None."""
    try:
        import brotli  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    try:
        brotli.Decompressor().process(b"", output_buffer_limit=1)
    except Exception:
        return None
    return brotli


_BROTLI = _bounded_brotli()


def accept_encoding() -> str:
    """The ``Accept-Encoding`` the SDK sends: only what it can decode within bounds."""
    return "gzip, deflate, br" if _BROTLI is not None else "gzip, deflate"


def content_codings(header: str) -> list[str]:
    """The codings of a ``Content-Encoding`` value, in the order they were applied.

    Lowercased; a coding the SDK does not know keeps its spelling, since the
    error names it: a secret echoed there must reach the masking as it was sent.
    """
    codings = []
    for c in header.split(","):
        c = c.strip()
        name = c.lower()
        if name not in ("", "identity"):
            codings.append(name if name in _KNOWN else c)
    return codings


_KNOWN = frozenset(("gzip", "x-gzip", "deflate", "br"))


def _layer(coding: str) -> _Zlib | _Brotli:
    if coding in ("gzip", "x-gzip"):
        return _Zlib(coding, 31)
    if coding == "deflate":
        return _Zlib(coding, zlib.MAX_WBITS)
    if coding == "br" and _BROTLI is not None:
        return _Brotli(_BROTLI)
    hint = " (install brotli>=1.2 to accept it)" if coding == "br" else ""
    raise UnsupportedEncoding(
        f"the server sent Content-Encoding {coding!r}, which the SDK cannot decode "
        f"within bounded memory{hint}"
    )


class BodyDecoder:
    """Raw body bytes in, decoded bytes out in pieces of at most ``PIECE`` bytes.

    ``codings`` as ``content_codings`` gives them (applied first to last, undone
    last to first). More than ``max_raw`` raw bytes raise ``BodyTooLarge``;
    the decoded size is for the caller to cap as it reads.

    >>> import gzip
    >>> d = BodyDecoder(["gzip"], max_raw=None)
    >>> b"".join(d.decode(gzip.compress(b"hi" * 3))) + b"".join(d.flush())
    b'hihihi'
    """

    __slots__ = ("_layers", "_max_raw", "_raw")

    def __init__(self, codings: list[str], max_raw: int | None) -> None:
        if len(codings) > 8:
            raise UnsupportedEncoding(f"the server sent {len(codings)} Content-Encodings")
        self._layers = [_layer(c) for c in reversed(codings)]
        self._max_raw = max_raw
        self._raw = 0

    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of the next raw chunk (lazily: stop reading at any point).

        A chunk that passes ``max_raw`` is decoded up to it, then ``BodyTooLarge``.
        """
        self._raw += len(data)
        if self._max_raw is not None and self._raw > self._max_raw:
            yield from self._through(0, data[: len(data) - (self._raw - self._max_raw)])
            raise BodyTooLarge(self._max_raw)
        yield from self._through(0, data)

    def flush(self) -> Iterator[bytes]:
        """The body ended: what the layers still hold (an error if one was cut short)."""
        for index, layer in enumerate(self._layers):
            for piece in layer.flush():
                yield from self._through(index + 1, piece)

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self._layers):
            if data:
                yield data
            return
        for piece in self._layers[index].decode(data):
            yield from self._through(index + 1, piece)

    def chunks(self, raw: Iterable[bytes]) -> Iterator[bytes]:
        """Every decoded piece of a whole raw body, then the flush."""
        for data in raw:
            yield from self.decode(data)
        yield from self.flush()
