"""A minimal HTTP/1.1 server for benchmarks: pre-built answers, written at once.

It runs in its own process, so that it never competes with the client being
measured for the interpreter, and it is measured on its own (its ceiling) to
show it is not the bottleneck. Three ports, one per scenario:

- ``long``: a long reply of small chunks with multibyte characters;
- ``short``: a short reply (time to first chunk);
- ``hold``: the first chunk at once, the rest once ``hold`` requests are waiting
  (so that that many streams are open at the same time).
"""

from __future__ import annotations

import asyncio
import json
import sys
from functools import partial

PIECE = "Aura ✓ café 🙂 ".encode()  # 20 bytes, 14 characters: 1-, 2-, 3- and 4-byte UTF-8
HEAD = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"


def chunked(chunks: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


def long_chunks(count: int) -> list[bytes]:
    return [PIECE] * count


class Answer(asyncio.Protocol):
    """Answers each request on a connection with ``body`` (keep-alive)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            length = 0
            for line in head.split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.server.answer(self)


class Server:
    def __init__(self, mode: str, chunks: int, hold: int) -> None:
        self.mode = mode
        self.hold = hold
        self.waiting: list[Answer] = []
        if mode == "long":
            self.whole = HEAD + chunked(long_chunks(chunks))
        elif mode == "short":
            self.whole = HEAD + chunked([PIECE, PIECE, PIECE])
        else:
            self.first = HEAD + b"%x\r\n%s\r\n" % (len(PIECE), PIECE)
            self.rest = chunked([PIECE] * (chunks - 1))

    def answer(self, conn: Answer) -> None:
        assert conn.transport is not None
        if self.mode != "hold":
            conn.transport.write(self.whole)
            return
        conn.transport.write(self.first)
        self.waiting.append(conn)
        if len(self.waiting) >= self.hold:
            waiting, self.waiting = self.waiting, []
            for other in waiting:
                assert other.transport is not None
                other.transport.write(self.rest)


async def main(chunks: int, hold: int) -> None:
    loop = asyncio.get_running_loop()
    ports = {}
    servers = []
    for mode in ("long", "short", "hold"):
        state = Server(mode, chunks if mode == "long" else 8, hold)
        server = await loop.create_server(partial(Answer, state), "127.0.0.1", 0, backlog=4096)
        servers.append(server)
        ports[mode] = server.sockets[0].getsockname()[1]
    print(json.dumps(ports), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
