"""The OpenAI-compatible servers' worst quirks, played by a raw socket server, for
both clients (async under asyncio and trio), with ``max_retries=0``.

- llama-cpp-python's streamed overflow: ``200``, an SSE head, an empty body; the
  pooled connection is then dead (the server closes it about 10 ms later, here
  as the next request arrives, so the race is lost every time);
- a dead pooled connection on its own (uvicorn's idle close racing a request);
- LM Studio's overflow: ``data: [DONE]`` with no text and no ``finish_reason``;
- TCP keepalive on the SDK's own connections.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from aura_sdk import (
    APIConnectionError,
    AsyncAuraClient,
    AuraClient,
    ContextLengthError,
    StreamInterruptedError,
    user,
)
from tests._hostile import HostileServer, Peer, _read_request, chunked, head, hostile

SSE = {"Content-Type": "text/event-stream"}
OVERFLOW = {
    "error": {
        "message": "This model's maximum context length is 256 tokens. However, you "
        "requested 555 tokens (555 in the messages, 0 in the completion). Please reduce "
        "the length of the messages or completion.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }
}
HELLO = (
    b'data: {"choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}\n\n'
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
)
COMPLETION = {
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "H"}}],
}


def _json(status: str, body: object) -> bytes:
    data = json.dumps(body).encode()
    return (
        head(status, {"Content-Type": "application/json"}, chunked=False).replace(
            b"\r\n\r\n", f"\r\nContent-Length: {len(data)}\r\n\r\n".encode(), 1
        )
        + data
    )


def _stream(peer: Peer) -> bool:
    return json.loads(peer.request.body or b"{}").get("stream") is True


def _then_dead(answer: Callable[[Peer], bytes]) -> Callable[[Peer], None]:
    """Answer the first request of a connection; take the next one and close unanswered."""

    def script(peer: Peer) -> None:
        peer.send(answer(peer))
        _read_request(peer.sock)  # kept alive until the next request comes: then dead

    return script


def _llama(unstreamed: bytes) -> Callable[[Peer], None]:
    """llama-cpp-python with a prompt over its context: an empty 200 when streamed."""

    def answer(peer: Peer) -> bytes:
        if _stream(peer):
            return head(headers=SSE) + chunked()  # the head, and an empty body
        return unstreamed

    return _then_dead(answer)


def _sync(server: HostileServer) -> AuraClient:
    return AuraClient(base_url=server.base_url + "/v1", dialect="openai", max_retries=0)


def _async(server: HostileServer) -> AsyncAuraClient:
    return AsyncAuraClient(base_url=server.base_url + "/v1", dialect="openai", max_retries=0)


def _bodies(server: HostileServer) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in server.requests]


def _check_probe(server: HostileServer) -> None:
    # The stream, then the probe: sent on the dead pooled connection first (taken
    # unanswered, not recorded), then again on a new one.
    bodies = _bodies(server)
    assert [b["stream"] for b in bodies] == [True, False]
    assert [b.get("max_tokens") for b in bodies] == [None, 1]
    assert bodies[1]["messages"] == bodies[0]["messages"]
    assert server.connections == 2


OVERFLOW_400 = _json("400 Bad Request", OVERFLOW)


def test_sync_empty_stream_raises_what_the_unstreamed_request_answers() -> None:
    with hostile(_llama(OVERFLOW_400)) as server, _sync(server) as client:
        with pytest.raises(ContextLengthError) as caught:
            client.chat([user("a very long prompt")])
        _check_probe(server)
    error = caught.value
    assert "maximum context length is 256 tokens" in str(error)
    assert "the stream was empty" in str(error)
    assert error.text == ""


@pytest.mark.anyio
async def test_async_empty_stream_raises_what_the_unstreamed_request_answers() -> None:
    with hostile(_llama(OVERFLOW_400)) as server:
        async with _async(server) as client:
            with anyio.fail_after(10), pytest.raises(ContextLengthError) as caught:
                await client.chat([user("a very long prompt")])
        _check_probe(server)
    assert "maximum context length is 256 tokens" in str(caught.value)


OK_200 = _json("200 OK", COMPLETION)


def test_sync_empty_stream_whose_probe_succeeds_is_an_interruption() -> None:
    with hostile(_llama(OK_200)) as server, _sync(server) as client:
        with pytest.raises(StreamInterruptedError) as caught:
            client.chat([user("hi")])
        _check_probe(server)
    message = str(caught.value)
    assert "empty stream" in message
    assert "asked again without streaming (max_tokens 1), the server answered 200" in message
    assert caught.value.text == ""


@pytest.mark.anyio
async def test_async_empty_stream_whose_probe_succeeds_is_an_interruption() -> None:
    with hostile(_llama(OK_200)) as server:
        async with _async(server) as client:
            with anyio.fail_after(10), pytest.raises(StreamInterruptedError, match="empty"):
                await client.chat([user("hi")])
        _check_probe(server)


def _ok(peer: Peer) -> bytes:
    return head(headers=SSE) + chunked(HELLO)


def test_sync_a_dead_pooled_connection_is_sent_again_with_no_retries() -> None:
    with hostile(_then_dead(_ok)) as server, _sync(server) as client:
        assert client.chat([user("one")]) == "Hello"
        assert client.chat([user("two")]) == "Hello"  # its connection died under it
        assert server.connections == 2
        # "two" went out on the first connection too, taken unanswered (not recorded).
        assert [b["messages"][-1]["content"] for b in _bodies(server)] == ["one", "two"]


@pytest.mark.anyio
async def test_async_a_dead_pooled_connection_is_sent_again_with_no_retries() -> None:
    with hostile(_then_dead(_ok)) as server:
        async with _async(server) as client:
            with anyio.fail_after(10):
                assert await client.chat([user("one")]) == "Hello"
                assert await client.chat([user("two")]) == "Hello"
        assert server.connections == 2


def test_sync_a_new_connection_closed_unanswered_is_not_sent_again() -> None:
    # Only a connection kept from before is suspect: a new one that closes is the news.
    def script(peer: Peer) -> None:
        return  # read the request, close

    with hostile(script) as server, _sync(server) as client:
        with pytest.raises(APIConnectionError, match="without sending a response"):
            client.chat([user("one")])
        assert server.connections == 1


def test_sync_the_replay_is_once_only() -> None:
    # Every connection dies at its second request: the call after a replayed one
    # replays again (once per call), and a call whose replay dies too fails.
    def script(peer: Peer) -> None:
        peer.send(_ok(peer))
        _read_request(peer.sock)

    with hostile(script) as server, _sync(server) as client:
        for n in range(3):
            assert client.chat([user(str(n))]) == "Hello"
        assert server.connections == 3


LM_STUDIO = (
    b'data: {"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}\n\n'
    b"data: [DONE]\n\n"
)


def _lm_studio(peer: Peer) -> None:
    peer.send(head(headers=SSE) + chunked(LM_STUDIO))


def test_sync_done_with_no_text_and_no_finish_reason_is_an_interruption() -> None:
    with hostile(_lm_studio) as server, _sync(server) as client:
        with pytest.raises(StreamInterruptedError, match=r"no text and no finish_reason"):
            client.chat([user("hi")])


@pytest.mark.anyio
async def test_async_done_with_no_text_and_no_finish_reason_is_an_interruption() -> None:
    with hostile(_lm_studio) as server:
        async with _async(server) as client:
            with anyio.fail_after(10), pytest.raises(StreamInterruptedError, match="no text"):
                await client.chat([user("hi")])


def _sockopts(response: httpx.Response | None) -> tuple[int, int]:
    assert response is not None
    # A socket.socket, asyncio's TransportSocket or trio's socket: each has getsockopt.
    sock: Any = response.extensions["network_stream"].get_extra_info("socket")
    idle = getattr(socket, "TCP_KEEPIDLE", None)
    keepidle = sock.getsockopt(socket.IPPROTO_TCP, idle) if idle is not None else 60
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), keepidle


def _hang(peer: Peer) -> None:
    peer.send(head(headers=SSE) + chunked(HELLO[:80], end=False))
    peer.hang(10)


def test_sync_own_connections_have_tcp_keepalive_a_callers_do_not() -> None:
    with hostile(_hang) as server:
        with _sync(server) as client, client.stream([user("hi")]) as stream:
            assert _sockopts(stream.response) == (1, 60)
        with httpx.Client() as http:
            mine = AuraClient(base_url=server.base_url + "/v1", dialect="openai", http_client=http)
            with mine.stream([user("hi")]) as stream:
                assert _sockopts(stream.response)[0] == 0  # left as the caller made it


@pytest.mark.anyio
async def test_async_own_connections_have_tcp_keepalive() -> None:
    with hostile(_hang) as server:
        async with _async(server) as client, client.stream([user("hi")]) as stream:
            assert _sockopts(stream.response) == (1, 60)
