"""The openai dialect against a real llama-cpp-python server (``make test-peers``).

Everything the emulator's ``llama-cpp-python`` flavor plays, checked on the real
thing: streaming, ``finish_reason`` ``length`` and ``stop``, client-side ``stop``,
the streamed context overflow (an empty ``200``, then a dead pooled connection)
and the call right after it, a bad key, one connection for many streams, and the
same text as openai-python for the same greedy request.
"""

from __future__ import annotations

import anyio
import openai
import pytest

from aura_sdk import (
    AsyncAuraClient,
    AuraClient,
    AuthenticationError,
    ChatParams,
    ContextLengthError,
    user,
)
from tests.peers.conftest import CONTEXT, KEY, CountingProxy, Peer

GREEDY: ChatParams = {"temperature": 0.0, "max_tokens": 12}
OVER = " ".join(["the people"] * CONTEXT)  # about twice the context, in tokens
GUARD = 60.0  # a hang guard, never a measure


def client(base_url: str, **kwargs: object) -> AuraClient:
    return AuraClient(base_url=base_url, dialect="openai", max_retries=0, **kwargs)  # type: ignore[arg-type]


def aclient(base_url: str, **kwargs: object) -> AsyncAuraClient:
    return AsyncAuraClient(base_url=base_url, dialect="openai", max_retries=0, **kwargs)  # type: ignore[arg-type]


def test_stream_chat_and_models(llama: Peer) -> None:
    with client(llama.base_url) as c:
        stream = c.stream([user("Hi")], **GREEDY)
        with stream:
            chunks = list(stream)
        assert len(chunks) > 1  # one event per token
        assert "".join(chunks) == stream.text == c.chat([user("Hi")], **GREEDY)
        assert stream.text.strip()
        assert stream.finish_reason == "length"  # max_tokens reached
        assert stream.usage is None  # llama-cpp-python sends none in a stream
        assert stream.request_id  # its x-request-id
        assert stream.id is not None
        assert stream.id.startswith("chatcmpl-")
        assert [m.id for m in c.models()] == [llama.model]


@pytest.mark.anyio
async def test_async_stream_and_models(llama: Peer) -> None:
    with anyio.fail_after(GUARD):
        async with aclient(llama.base_url) as c:
            text = await c.chat([user("Hi")], **GREEDY)
            with client(llama.base_url) as sync:
                assert text == sync.chat([user("Hi")], **GREEDY)
            assert [m.id for m in await c.models()] == [llama.model]


def test_finish_reason_length_and_stop(llama: Peer) -> None:
    with client(llama.base_url) as c:
        words = c.chat([user("Hi")], **GREEDY).split(" ")
        assert len(words) > 4
        stop = " " + words[3]  # the server's own stop: it ends before it
        stream = c.stream([user("Hi")], temperature=0.0, max_tokens=12, stop=[stop])
        with stream:
            text = "".join(stream)
        expected = " ".join(words[:3])
        assert text == expected
        assert stream.finish_reason == "stop"
        short = c.stream([user("Hi")], temperature=0.0, max_tokens=2)
        with short:
            list(short)
        assert short.finish_reason == "length"


def test_client_side_stop_inside_a_token(llama: Peer) -> None:
    # A stop string that starts inside a token: the server matches whole-token
    # bytes and may miss what the client must still cut.
    with client(llama.base_url) as c:
        full = c.chat([user("Hi")], **GREEDY)
        cut = len(full) // 2
        stop = full[cut : cut + 3]
        stream = c.stream([user("Hi")], temperature=0.0, max_tokens=12, stop=[stop])
        with stream:
            text = "".join(stream)
        assert text == full[: full.index(stop)]
        assert stop not in text
        assert stream.finish_reason == "stop"


def test_streamed_overflow_then_the_next_call_at_once(llama: Peer, proxy: CountingProxy) -> None:
    with client(proxy.base_url()) as c:
        with pytest.raises(ContextLengthError) as caught:
            c.chat([user(OVER)], temperature=0.0)
        message = str(caught.value)
        assert f"maximum context length is {CONTEXT} tokens" in message
        assert caught.value.text == ""
        # At once, with max_retries=0: the empty 200's connection is dead by now.
        assert c.chat([user("Hi")], **GREEDY).strip()


@pytest.mark.anyio
async def test_async_streamed_overflow_then_the_next_call_at_once(llama: Peer) -> None:
    with anyio.fail_after(GUARD):
        async with aclient(llama.base_url) as c:
            with pytest.raises(ContextLengthError, match="maximum context length"):
                await c.chat([user(OVER)], temperature=0.0)
            assert (await c.chat([user("Hi")], **GREEDY)).strip()


def test_a_bad_key(keyed: Peer) -> None:
    with client(keyed.base_url, api_key="sk-wrong-key-1234") as c:
        with pytest.raises(AuthenticationError) as caught:
            c.chat([user("Hi")], **GREEDY)
    assert caught.value.status_code == 401
    assert "sk-wrong-key-1234" not in str(caught.value)
    assert "Invalid API key" in str(caught.value)
    with client(keyed.base_url, api_key=KEY) as c:
        assert c.chat([user("Hi")], **GREEDY).strip()


def test_sequential_streams_take_one_connection(proxy: CountingProxy) -> None:
    with client(proxy.base_url()) as c:
        for _ in range(20):
            assert c.chat([user("Hi")], temperature=0.0, max_tokens=3)
    assert proxy.connections == 1


@pytest.mark.anyio
async def test_async_sequential_streams_take_one_connection(proxy: CountingProxy) -> None:
    with anyio.fail_after(GUARD):
        async with aclient(proxy.base_url()) as c:
            for _ in range(20):
                assert await c.chat([user("Hi")], temperature=0.0, max_tokens=3)
    assert proxy.connections == 1


def test_the_same_text_as_openai_python(llama: Peer) -> None:
    with client(llama.base_url) as c:
        ours = c.chat([user("Tell me a story")], **GREEDY)
    theirs = openai.OpenAI(base_url=llama.base_url, api_key="none", max_retries=0)
    with theirs:
        stream = theirs.chat.completions.create(
            model=llama.model,
            messages=[{"role": "user", "content": "Tell me a story"}],
            stream=True,
            temperature=0.0,
            max_tokens=12,
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert ours == text
    assert ours.strip()
