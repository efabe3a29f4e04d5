"""The openai dialect end to end against a real llama-cpp-python server (``make test-peers``).

The server (conftest.py) runs the tiny model of ``_model.py``, whose greedy reply
is known: ``REPLY``, 14 tokens, then ``</s>``. Every client here has
``max_retries=0``, so that no retry hides what the server did. Each test runs on
both clients, the async one under asyncio and trio.

What the server does, measured (``openai-compatible-servers.md``): an empty
content delta for the invalid byte inside ``world``; ``stop`` matched on the raw
bytes (so ``"world"`` is missed there); a streaming overflow answered ``200`` with
an empty body, after which the server closes the connection; 401
``{"detail":"Invalid API key"}``.
"""

from __future__ import annotations

import re
from contextlib import suppress

import openai
import pytest

from aura_sdk import (
    AsyncAuraClient,
    AuraClient,
    AuraError,
    AuthenticationError,
    ContextLengthError,
    user,
)
from tests.peers._model import N_CTX, REPLY
from tests.peers._proxy import CountingProxy
from tests.peers.conftest import Peer

HI = [user("Hi")]
# One byte token per "x" (no piece holds one): the prompt alone is past the context.
OVERFLOW = [user("x" * N_CTX)]
OVERFLOW_MESSAGE = f"This model's maximum context length is {N_CTX} tokens"
TIMEOUT = 30.0  # a hang guard only
STREAMS = 20  # sequential streams over one connection
REQUEST_ID = re.compile(r"[0-9a-f]{32}")


def sync_client(peer: Peer, *, api_key: str | None = None, port: int | None = None) -> AuraClient:
    """An SDK client for ``peer`` (through a proxy on ``port`` if given), never retrying."""
    return AuraClient(
        base_url=peer.base_url if port is None else f"http://127.0.0.1:{port}/v1",
        api_key=peer.api_key if api_key is None else api_key,
        model=peer.model,
        dialect="openai",
        max_retries=0,
        timeout=TIMEOUT,
    )


def async_client(
    peer: Peer, *, api_key: str | None = None, port: int | None = None
) -> AsyncAuraClient:
    """The async twin of ``sync_client``."""
    return AsyncAuraClient(
        base_url=peer.base_url if port is None else f"http://127.0.0.1:{port}/v1",
        api_key=peer.api_key if api_key is None else api_key,
        model=peer.model,
        dialect="openai",
        max_retries=0,
        timeout=TIMEOUT,
    )


def openai_text(
    peer: Peer,
    *,
    temperature: float = 0.5,
    max_tokens: int | None = None,
    stop: list[str] | None = None,
) -> str:
    """openai-python's streamed text for ``HI``, with the same parameters (``None``: sent
    as ``null``, which the server takes for its default)."""
    with openai.OpenAI(
        base_url=peer.base_url, api_key=peer.api_key, max_retries=0, timeout=TIMEOUT
    ) as client:
        stream = client.chat.completions.create(
            model=peer.model,
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
            temperature=temperature,
            max_tokens=max_tokens,
            stop=stop,
        )
        return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


# -- models, stream, chat -------------------------------------------------------------


def test_sync_models(peer: Peer) -> None:
    with sync_client(peer) as client:
        assert [model.id for model in client.models()] == [peer.model]


@pytest.mark.anyio
async def test_async_models(peer: Peer) -> None:
    async with async_client(peer) as client:
        assert [model.id for model in await client.models()] == [peer.model]


def test_sync_stream(peer: Peer) -> None:
    with sync_client(peer) as client, client.stream(HI) as stream:
        chunks = list(stream)
    assert "".join(chunks) == stream.text == REPLY
    assert all(chunks)  # the server's empty content delta is not a chunk
    assert stream.finish_reason == "stop"
    assert stream.status_code == 200
    assert stream.request_id is not None
    assert REQUEST_ID.fullmatch(stream.request_id)


@pytest.mark.anyio
async def test_async_stream(peer: Peer) -> None:
    async with async_client(peer) as client, client.stream(HI) as stream:
        chunks = [chunk async for chunk in stream]
    assert "".join(chunks) == stream.text == REPLY
    assert all(chunks)
    assert stream.finish_reason == "stop"
    assert stream.status_code == 200
    assert stream.request_id is not None
    assert REQUEST_ID.fullmatch(stream.request_id)


def test_sync_chat(peer: Peer) -> None:
    with sync_client(peer) as client:
        assert client.chat(HI) == REPLY


@pytest.mark.anyio
async def test_async_chat(peer: Peer) -> None:
    async with async_client(peer) as client:
        assert await client.chat(HI) == REPLY


# -- finish_reason and stop -----------------------------------------------------------

# The first three tokens: " caf", then é in two byte tokens.
LENGTH = " café"
# The server sees "Hello" (plain ASCII in its raw bytes too) and stops there itself.
SERVER_STOP = " café 😀 "
# The server misses "world" (an invalid byte sits inside it in the raw bytes); the SDK does not.
CLIENT_STOP = " café 😀 Hello, "


def test_sync_finish_reason_length(peer: Peer) -> None:
    with sync_client(peer) as client, client.stream(HI, max_tokens=3) as stream:
        assert "".join(stream) == LENGTH
    assert stream.finish_reason == "length"


@pytest.mark.anyio
async def test_async_finish_reason_length(peer: Peer) -> None:
    async with async_client(peer) as client, client.stream(HI, max_tokens=3) as stream:
        assert "".join([chunk async for chunk in stream]) == LENGTH
    assert stream.finish_reason == "length"


def test_sync_stop_by_the_server(peer: Peer) -> None:
    assert openai_text(peer, stop=["Hello"]) == SERVER_STOP  # the server stopped
    with sync_client(peer) as client, client.stream(HI, stop="Hello") as stream:
        assert "".join(stream) == SERVER_STOP
    assert stream.finish_reason == "stop"
    assert stream.stop_sequence is None  # the server's finish, not the SDK's


@pytest.mark.anyio
async def test_async_stop_by_the_server(peer: Peer) -> None:
    async with async_client(peer) as client, client.stream(HI, stop="Hello") as stream:
        assert "".join([chunk async for chunk in stream]) == SERVER_STOP
    assert stream.finish_reason == "stop"
    assert stream.stop_sequence is None


def test_sync_stop_on_the_client(peer: Peer) -> None:
    assert openai_text(peer, stop=["world"]) == REPLY  # the server missed it
    with sync_client(peer) as client, client.stream(HI, stop="world") as stream:
        assert "".join(stream) == CLIENT_STOP
    assert stream.finish_reason == "stop"
    assert stream.stop_sequence == "world"


@pytest.mark.anyio
async def test_async_stop_on_the_client(peer: Peer) -> None:
    async with async_client(peer) as client, client.stream(HI, stop="world") as stream:
        assert "".join([chunk async for chunk in stream]) == CLIENT_STOP
    assert stream.finish_reason == "stop"
    assert stream.stop_sequence == "world"


# -- the streaming overflow and the call after it -------------------------------------
# The server answers 200 with an empty body, then closes the connection about 10-50 ms
# later: the SDK asks once more without streaming, with max_tokens 1, and raises what
# that answers (issue 12). The next call is sent at once, on a pool whose connection
# the server is closing, and must work with max_retries=0.


def test_sync_overflow_is_a_context_length_error(peer: Peer) -> None:
    with sync_client(peer) as client, pytest.raises(ContextLengthError) as caught:
        client.chat(OVERFLOW)
    assert OVERFLOW_MESSAGE in str(caught.value)
    assert caught.value.status_code == 400
    assert peer.api_key not in str(caught.value)


@pytest.mark.anyio
async def test_async_overflow_is_a_context_length_error(peer: Peer) -> None:
    async with async_client(peer) as client:
        with pytest.raises(ContextLengthError) as caught:
            await client.chat(OVERFLOW)
    assert OVERFLOW_MESSAGE in str(caught.value)
    assert caught.value.status_code == 400
    assert peer.api_key not in str(caught.value)


def test_sync_call_after_the_overflow(peer: Peer) -> None:
    with sync_client(peer) as client:
        with suppress(AuraError):  # what the overflow raises is the test above's business
            client.chat(OVERFLOW)
        assert client.chat(HI) == REPLY


@pytest.mark.anyio
async def test_async_call_after_the_overflow(peer: Peer) -> None:
    async with async_client(peer) as client:
        with suppress(AuraError):
            await client.chat(OVERFLOW)
        assert await client.chat(HI) == REPLY


# -- a bad key ------------------------------------------------------------------------

BAD_KEY = "sk-peer-wrong-0123456789"


def test_sync_bad_key(peer: Peer) -> None:
    with sync_client(peer, api_key=BAD_KEY) as client, pytest.raises(AuthenticationError) as caught:
        client.chat(HI)
    error = caught.value
    assert error.status_code == 401
    assert "Invalid API key" in str(error)
    assert error.request_id is not None
    assert REQUEST_ID.fullmatch(error.request_id)
    for shown in (str(error), repr(error)):
        assert BAD_KEY not in shown
        assert peer.api_key not in shown


@pytest.mark.anyio
async def test_async_bad_key(peer: Peer) -> None:
    async with async_client(peer, api_key=BAD_KEY) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.chat(HI)
    error = caught.value
    assert error.status_code == 401
    assert "Invalid API key" in str(error)
    assert error.request_id is not None
    assert REQUEST_ID.fullmatch(error.request_id)
    for shown in (str(error), repr(error)):
        assert BAD_KEY not in shown
        assert peer.api_key not in shown


# -- connection reuse -----------------------------------------------------------------


def test_sync_streams_share_one_connection(peer: Peer, proxy: CountingProxy) -> None:
    with sync_client(peer, port=proxy.port) as client:
        for _ in range(STREAMS):
            with client.stream(HI) as stream:
                assert "".join(stream) == REPLY
    assert proxy.connections == 1


@pytest.mark.anyio
async def test_async_streams_share_one_connection(peer: Peer, proxy: CountingProxy) -> None:
    async with async_client(peer, port=proxy.port) as client:
        for _ in range(STREAMS):
            async with client.stream(HI) as stream:
                assert "".join([chunk async for chunk in stream]) == REPLY
    assert proxy.connections == 1


# -- the same text as openai-python ---------------------------------------------------

# 10 greedy tokens: " café 😀 Hello,". Not 12: the 12th is the invalid byte 0xFF, which
# llama-cpp-python takes for the lead of a 4-byte character, and it then skips its
# max_tokens check for 3 more tokens (all 14 come, with finish_reason "length").
GREEDY = 10


def test_sync_text_equals_openai_pythons(peer: Peer) -> None:
    expected = openai_text(peer, temperature=0.0, max_tokens=GREEDY)
    assert expected == " café 😀 Hello,"
    with sync_client(peer) as client:
        assert client.chat(HI, temperature=0.0, max_tokens=GREEDY) == expected
        assert client.chat(HI, temperature=0.0) == openai_text(peer, temperature=0.0)


@pytest.mark.anyio
async def test_async_text_equals_openai_pythons(peer: Peer) -> None:
    expected = openai_text(peer, temperature=0.0, max_tokens=GREEDY)
    async with async_client(peer) as client:
        assert await client.chat(HI, temperature=0.0, max_tokens=GREEDY) == expected
