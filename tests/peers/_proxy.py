"""A TCP proxy on 127.0.0.1 that counts the connections it accepts.

``CountingProxy(port)`` forwards every connection to ``127.0.0.1:port`` byte for
byte, in both directions, and counts them: put it between a client and a real
server to see how many TCP connections the client opened. A side's end of
stream is passed on as a half-close; ``close()`` shuts every connection, and
every wait is bounded, so a test that forgets it still ends.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

__all__ = ["CountingProxy"]


class CountingProxy:
    """A counting TCP proxy in front of ``127.0.0.1:upstream``."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.connections = 0
        self._stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def close(self) -> None:
        self._stopped.set()
        self._acceptor.join(5)
        with self._lock:
            for sock in self._open:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5)
        with self._lock:
            for sock in self._open:
                sock.close()
        self._listener.close()

    def __enter__(self) -> CountingProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream), timeout=10)
            for sock in (client, server):
                sock.settimeout(None)
                # Each event is its own small write: no Nagle wait for the peer's ACK.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._open += [client, server]
            for source, sink in ((client, server), (server, client)):
                thread = threading.Thread(target=_pipe, args=(source, sink), daemon=True)
                self._threads.append(thread)
                thread.start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy ``source`` to ``sink`` until ``source`` ends, then half-close ``sink``."""
    with suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)
