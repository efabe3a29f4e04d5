"""A minimal HTTP/1.1 server for benchmarks: pre-built answers, written at once.

It runs in its own process, so that it never competes with the client being
measured for the interpreter, and it is measured on its own (its ceiling) to
show it is not the bottleneck. One port per scenario:

- ``long``: a long reply of small chunks with multibyte characters;
- ``short``: a short reply (time to first chunk);
- ``hold``: the first chunk at once, the rest once ``hold`` requests are waiting
  (so that that many streams are open at the same time);
- ``sse-long`` and ``sse-short``: the OpenAI dialect as OpenChat's own server
  streams it (``openchat-protocol.md``): one ``data: {json}`` event per HTTP
  chunk, a role-only first chunk, content deltas of about 6 tokens, a finish
  chunk with empty content, then ``data: [DONE]``; JSON not ASCII-escaped;
- ``sse-seq``: the short stream, its id naming the TCP connection it came on
  (``cmpl-conn-N``), so a client can count the connections it opened.
"""

from __future__ import annotations

import asyncio
import json
import sys
from functools import partial

PIECE = "Aura ✓ café 🙂 ".encode()  # 20 bytes, 14 characters: 1-, 2-, 3- and 4-byte UTF-8
HEAD = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)
# One content delta: 28 characters, 39 bytes, about 6 tokens (OpenChat's --stream-period).
DELTA = "Aura café ✓ 🙂 naïve 日本 and "


def chunked(chunks: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


def long_chunks(count: int) -> list[bytes]:
    return [PIECE] * count


def sse_event(
    delta: dict[str, str],
    finish: str | None = None,
    ident: str = "cmpl-3f6b0c0e2a2b4d59a1c8d1f0e4b7a9c2",
) -> bytes:
    """One chunk as OpenChat's server writes it (pydantic's ``.json(ensure_ascii=False)``)."""
    chunk = {
        "id": ident,
        "model": "openchat_3.6",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n"


def sse_events(count: int, ident: str = "cmpl-3f6b0c0e2a2b4d59a1c8d1f0e4b7a9c2") -> list[bytes]:
    """A whole streamed reply: role, ``count`` content deltas, finish, ``[DONE]``."""
    return [
        sse_event({"role": "assistant"}, ident=ident),
        *[sse_event({"content": DELTA}, ident=ident)] * count,
        sse_event({"content": ""}, "stop", ident=ident),
        b"data: [DONE]\n\n",
    ]


class Answer(asyncio.Protocol):
    """Answers each request on a connection with ``body`` (keep-alive)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections += 1
        self.number = self.server.connections

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
        self.connections = 0
        self.waiting: list[Answer] = []
        if mode.startswith("sse"):
            self.whole = SSE_HEAD + chunked(sse_events(chunks))
        elif mode == "long":
            self.whole = HEAD + chunked(long_chunks(chunks))
        elif mode == "short":
            self.whole = HEAD + chunked([PIECE, PIECE, PIECE])
        else:
            self.first = HEAD + b"%x\r\n%s\r\n" % (len(PIECE), PIECE)
            self.rest = chunked([PIECE] * (chunks - 1))

    def answer(self, conn: Answer) -> None:
        assert conn.transport is not None
        if self.mode == "sse-seq":
            events = sse_events(3, f"cmpl-conn-{conn.number}")
            conn.transport.write(SSE_HEAD + chunked(events))
            return
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


async def main(chunks: int, hold: int, events: int) -> None:
    loop = asyncio.get_running_loop()
    ports = {}
    servers = []
    sizes = {
        "long": chunks,
        "short": 8,
        "hold": 8,
        "sse-long": events,
        "sse-short": 3,
        "sse-seq": 3,
    }
    for mode, size in sizes.items():
        state = Server(mode, size, hold)
        server = await loop.create_server(partial(Answer, state), "127.0.0.1", 0, backlog=4096)
        servers.append(server)
        ports[mode] = server.sockets[0].getsockname()[1]
    print(json.dumps(ports), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
