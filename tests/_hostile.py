"""Hostile peers the emulator cannot play, in one place: a raw-socket server.

``HostileServer(script)`` listens on 127.0.0.1; for each connection it reads one
request (head and ``Content-Length`` body), records it, and hands the socket to
``script(peer)``, which may send anything at any pace: a head trickled one byte
at a time, a compression bomb, a malformed status line that echoes the key, a
redirect. Every wait is bounded (``peer.sleep`` stops when the server closes), so
a test that forgets to close it still ends.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = [
    "HostileServer",
    "Peer",
    "RawRequest",
    "chunked",
    "empty_blocks",
    "gzip_bomb",
    "head",
    "hostile",
    "wait_for",
]

_MAX_HEAD = 64 * 1024


@dataclass
class RawRequest:
    """One request as it came off the wire."""

    head: bytes
    body: bytes

    @property
    def request_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode("latin-1")

    def header(self, name: str) -> str | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode("latin-1")
        return None


@dataclass
class Peer:
    """The server's end of one connection, for a script to play on."""

    sock: socket.socket
    request: RawRequest
    stopped: threading.Event = field(repr=False)

    def send(self, data: bytes) -> bool:
        """Send ``data``; False once the client has gone."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def trickle(self, data: bytes, every: float) -> bool:
        """Send ``data`` one byte at a time, ``every`` seconds apart."""
        for i in range(len(data)):
            if not self.send(data[i : i + 1]) or self.sleep(every):
                return False
        return True

    def sleep(self, seconds: float) -> bool:
        """Wait; True if the server was closed meanwhile (the script should stop)."""
        return self.stopped.wait(seconds)

    def hang(self, limit: float = 30.0) -> None:
        """Keep the connection open and silent until the server closes (at most ``limit``)."""
        self.stopped.wait(limit)


Script = Callable[[Peer], None]


class HostileServer:
    """A raw-socket HTTP/1.1 peer on 127.0.0.1 playing ``script`` on each connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[RawRequest] = []
        self.connections = 0
        self._stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stopped.set()
        self._acceptor.join(5)
        with self._lock:
            for sock in self._open:
                _shut(sock)
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.add(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(10)
            request = _read_request(sock)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            self.script(Peer(sock, request, self._stopped))
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(sock)
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _read_request(sock: socket.socket) -> RawRequest | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk or len(data) > _MAX_HEAD:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    request = RawRequest(head, b"")
    length = int(request.header("content-length") or 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    request.body = body
    return request


@contextmanager
def hostile(script: Script) -> Iterator[HostileServer]:
    """``with hostile(script) as server:``, closed at the end."""
    server = HostileServer(script)
    try:
        yield server
    finally:
        server.close()


def head(
    status: str = "200 OK", headers: dict[str, str] | None = None, *, chunked: bool = True
) -> bytes:
    """A response head; chunked transfer encoding unless told otherwise."""
    lines = [f"HTTP/1.1 {status}"]
    all_headers = {"Transfer-Encoding": "chunked"} if chunked else {}
    all_headers.update(headers or {})
    lines += [f"{name}: {value}" for name, value in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunked(*parts: bytes, end: bool = True) -> bytes:
    """Body bytes in HTTP/1.1 chunked framing, with the last chunk unless ``end=False``."""
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p)
    return out + (b"0\r\n\r\n" if end else b"")


@lru_cache(maxsize=16)
def gzip_bomb(size: int, *, wbits: int = 31) -> bytes:
    """``size`` zero bytes, compressed (gzip by default; ``wbits=15`` for zlib/deflate,
    ``-15`` for raw deflate), as ONE deflate stream: what httpx decodes in one call.

    Fast even for a GiB: once the window is all zeros, each sync-flushed MiB of
    zeros compresses to the same bytes, so that block is repeated rather than
    recompressed; the trailer's checksum is computed for the whole ``size``.
    """
    block = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    out = [compressor.compress(block[: min(size, len(block))])]
    out.append(compressor.flush(zlib.Z_SYNC_FLUSH))
    whole, tail = divmod(max(size - len(block), 0), len(block))
    if whole:
        steady = compressor.compress(block) + compressor.flush(zlib.Z_SYNC_FLUSH)
        again = compressor.compress(block) + compressor.flush(zlib.Z_SYNC_FLUSH)
        if whole == 1 or again == steady:
            out.append(steady * whole)
        else:  # not a steady state after all: compress it all (slow, still right)
            out += [steady, again]
            out += [compressor.compress(block) for _ in range(whole - 2)]
    out.append(compressor.compress(block[:tail]))
    final = compressor.flush()
    if wbits > 15:  # gzip: CRC-32 and size, little-endian
        crc = 0
        for start in range(0, size, len(block)):
            crc = zlib.crc32(block[: min(len(block), size - start)], crc)
        final = final[:-8] + struct.pack("<II", crc, size & 0xFFFFFFFF)
    elif wbits > 0:  # zlib: Adler-32, big-endian
        adler = 1
        for start in range(0, size, len(block)):
            adler = zlib.adler32(block[: min(len(block), size - start)], adler)
        final = final[:-4] + struct.pack(">I", adler)
    out.append(final)
    return b"".join(out)


def empty_blocks(size: int) -> bytes:
    """A gzip body of about ``size`` bytes on the wire that decodes to ``b"hi"``:
    long as received, small as decoded (empty stored deflate blocks)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    start = compressor.compress(b"hi") + compressor.flush(zlib.Z_SYNC_FLUSH)
    empty = b"\x00\x00\x00\xff\xff"  # a non-final stored block of no bytes
    return start + empty * (size // len(empty)) + compressor.flush()


def wait_for(predicate: Callable[[], bool], limit: float = 5.0) -> bool:
    """Poll ``predicate`` until it holds, at most ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
