"""The SDK against every OpenAI-compatible server the local server plays, on real
loopback sockets: both clients, async under asyncio and trio.

Each flavor's quirks (``aura_sdk/server/_flavors.py``, from the project's notes
on the servers people run OpenChat on): how it frames a reply, answers a bad key
and a prompt over its context, sends usage, reasoning and request ids, and keeps
a stalled stream alive with pings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from aura_sdk import (
    AsyncAuraClient,
    AuraClient,
    AuthenticationError,
    ContextLengthError,
    RateLimitError,
    RetryPolicy,
    StreamInterruptedError,
    StreamTimeoutError,
    Timeout,
    user,
)
from aura_sdk.server import FLAVORS, AuraServer, Fault, FlavorName

ALL: list[FlavorName] = sorted(FLAVORS)  # type: ignore[arg-type]
HELLO = Fault(chunks=(b"Hello", b", world"))
CONTEXT = 64  # tokens (about four characters each): an overflow costs little
LONG = "word " * 200  # about 250 tokens
GUARD = 10.0  # a hang guard, never a measure

Factory = Callable[..., AuraServer]


def _server(factory: Factory, flavor: FlavorName, **kwargs: Any) -> AuraServer:
    kwargs.setdefault("fault", HELLO)
    if flavor != "openchat":
        kwargs.setdefault("context", CONTEXT)
    return factory(dialect="openai", flavor=flavor, **kwargs)


def _sync(server: AuraServer, **kwargs: Any) -> AuraClient:
    kwargs.setdefault("max_retries", 0)
    return AuraClient(base_url=server.base_url, dialect="openai", **kwargs)


def _async(server: AuraServer, **kwargs: Any) -> AsyncAuraClient:
    kwargs.setdefault("max_retries", 0)
    return AsyncAuraClient(base_url=server.base_url, dialect="openai", **kwargs)


# --- a normal reply, however it is framed ----------------------------------------


def _check_reply(flavor: FlavorName, stream: Any, text: str) -> None:
    assert text == stream.text == "Hello, world"
    assert stream.finish_reason == "stop"
    # Usage only where the server sends it unasked (llama-server); no id without one.
    assert (stream.usage is not None) == (flavor == "llama-server")
    assert (stream.request_id is not None) == FLAVORS[flavor].request_id
    assert stream.reasoning == ""


@pytest.mark.parametrize("flavor", ALL)
def test_sync_reply(aura_server_factory: Factory, flavor: FlavorName) -> None:
    server = _server(aura_server_factory, flavor)
    with _sync(server) as client:
        stream = client.stream([user("hi")])
        with stream:
            text = "".join(stream)
        _check_reply(flavor, stream, text)


@pytest.mark.anyio
@pytest.mark.parametrize("flavor", ALL)
async def test_async_reply(aura_server_factory: Factory, flavor: FlavorName) -> None:
    server = _server(aura_server_factory, flavor)
    async with _async(server) as client:
        stream = client.stream([user("hi")])
        with anyio.fail_after(GUARD):
            async with stream:
                text = "".join([chunk async for chunk in stream])
        _check_reply(flavor, stream, text)


def test_each_flavor_frames_its_chunks_as_its_server_does(aura_server_factory: Factory) -> None:
    # What the SDK above tolerated, seen raw: the quirks are really on the wire.
    seen: dict[str, list[Any]] = {}
    for flavor in ALL:
        server = _server(aura_server_factory, flavor)
        body: dict[str, Any] = {"model": "openchat_3.6", "stream": True}
        body["messages"] = [{"role": "user", "content": "hi"}]
        response = httpx.post(server.base_url + "/chat/completions", json=body, timeout=GUARD)
        events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
        seen[flavor] = [json.loads(e) for e in events if e != "[DONE]"]
        assert events[-1] == "[DONE]"
        if flavor == "llama-cpp-python":
            assert "\\u" not in response.text or response.text.isascii()
    choices = {f: [c["choices"][0] for c in chunks if c["choices"]] for f, chunks in seen.items()}
    assert {c.get("finish_reason") for c in choices["ollama"][:-1]} == {""}
    assert all(c["delta"].get("role") == "assistant" for c in choices["ollama"])
    assert choices["vllm"][-1]["delta"] == {"content": ", world"}  # the reason on content
    assert choices["vllm"][-1]["finish_reason"] == "stop"
    assert choices["llama-cpp-python"][-1]["delta"] == {}
    assert all("logprobs" in c for c in choices["llama-cpp-python"])
    assert seen["llama-server"][-1]["choices"] == []  # usage after the finish chunk
    assert "usage" in seen["llama-server"][-1]
    assert "object" not in seen["openchat"][0]  # OpenChat's chunks have none


# --- a prompt over the context -----------------------------------------------------

OVERFLOW: dict[str, type[Exception] | None] = {
    "openchat": ContextLengthError,  # with max_tokens: its 200 holding a 400
    "vllm": ContextLengthError,  # a real 400
    "ollama": None,  # truncated silently: a reply, no error
    "llama-cpp-python": ContextLengthError,  # an empty 200; the probe's 400
    "llama-server": ContextLengthError,  # an error event, with its numbers
    "lmstudio": StreamInterruptedError,  # [DONE] with nothing
    "sglang": ContextLengthError,  # an error event, code 400
}


def _overflow_params(flavor: FlavorName) -> dict[str, Any]:
    return {"max_tokens": 8192} if flavor == "openchat" else {}


def _check_overflow(flavor: FlavorName, caught: BaseException | None, text: str | None) -> None:
    expected = OVERFLOW[flavor]
    if expected is None:
        assert caught is None
        assert text == "Hello, world"
        return
    assert type(caught) is expected
    assert isinstance(caught, (ContextLengthError, StreamInterruptedError))
    assert caught.text == ""
    if isinstance(caught, ContextLengthError):
        if flavor == "llama-server":
            assert caught.n_ctx == CONTEXT
            assert caught.n_prompt_tokens is not None
            assert caught.n_prompt_tokens > CONTEXT
        else:
            assert (caught.n_ctx, caught.n_prompt_tokens) == (None, None)
    if flavor == "llama-cpp-python":
        assert "the stream was empty" in str(caught)


@pytest.mark.parametrize("flavor", ALL)
def test_sync_overflow_then_the_next_call_at_once(
    aura_server_factory: Factory, flavor: FlavorName
) -> None:
    server = _server(aura_server_factory, flavor)
    with _sync(server) as client:
        caught: BaseException | None = None
        text = None
        try:
            text = client.chat([user(LONG)], **_overflow_params(flavor))
        except Exception as exc:  # checked below, whatever it is
            caught = exc
        _check_overflow(flavor, caught, text)
        # max_retries=0, at once: llama-cpp-python's connection is dead by now.
        assert client.chat([user("hi")]) == "Hello, world"


@pytest.mark.anyio
@pytest.mark.parametrize("flavor", ALL)
async def test_async_overflow_then_the_next_call_at_once(
    aura_server_factory: Factory, flavor: FlavorName
) -> None:
    server = _server(aura_server_factory, flavor)
    async with _async(server) as client:
        caught: BaseException | None = None
        text = None
        with anyio.fail_after(GUARD):
            try:
                text = await client.chat([user(LONG)], **_overflow_params(flavor))
            except Exception as exc:  # checked below, whatever it is
                caught = exc
            _check_overflow(flavor, caught, text)
            assert await client.chat([user("hi")]) == "Hello, world"


# --- a bad key -------------------------------------------------------------------

KEY = "sk-flavor-secret-1234"


@pytest.mark.parametrize("flavor", ALL)
def test_sync_bad_key(aura_server_factory: Factory, flavor: FlavorName) -> None:
    server = _server(aura_server_factory, flavor, api_keys={KEY})
    with _sync(server, api_key="sk-wrong-5678") as client:
        with pytest.raises(AuthenticationError) as caught:
            client.chat([user("hi")])
        assert caught.value.status_code == 401
        assert "sk-wrong-5678" not in str(caught.value)
        assert "sk-wrong-5678" not in repr(caught.value)
    with _sync(server, api_key=KEY) as client:
        assert client.chat([user("hi")]) == "Hello, world"


@pytest.mark.anyio
@pytest.mark.parametrize("flavor", ["vllm", "llama-cpp-python", "lmstudio"])
async def test_async_bad_key(aura_server_factory: Factory, flavor: FlavorName) -> None:
    server = _server(aura_server_factory, flavor, api_keys={KEY})
    async with _async(server, api_key="sk-wrong-5678") as client:
        with anyio.fail_after(GUARD), pytest.raises(AuthenticationError):
            await client.chat([user("hi")])


# --- reasoning, keep-alives, error events, connections -------------------------------


@pytest.mark.parametrize("flavor", ["vllm", "ollama", "llama-server"])
def test_sync_reasoning_is_kept_apart(aura_server_factory: Factory, flavor: FlavorName) -> None:
    server = _server(aura_server_factory, flavor, reasoning="The user greets me. Greet back.")
    with _sync(server) as client:
        stream = client.stream([user("hi")])
        with stream:
            assert "".join(stream) == "Hello, world"
        assert stream.reasoning == "The user greets me. Greet back."


@pytest.mark.anyio
@pytest.mark.parametrize("flavor", ["vllm", "llama-server"])
async def test_async_reasoning_is_kept_apart(
    aura_server_factory: Factory, flavor: FlavorName
) -> None:
    server = _server(aura_server_factory, flavor, reasoning="Think first.")
    async with _async(server) as client:
        stream = client.stream([user("hi")])
        with anyio.fail_after(GUARD):
            async with stream:
                assert "".join([c async for c in stream]) == "Hello, world"
        assert stream.reasoning == "Think first."


STALLED = Fault(chunks=(b"Hello", b", world"), stall_after=1)
PINGED = Timeout(read=5, text=0.3)  # pings every 0.05 s keep read from ever firing


@pytest.mark.parametrize("flavor", ["llama-cpp-python", "llama-server"])
def test_sync_pings_on_a_stalled_stream_end_by_the_text_limit(
    aura_server_factory: Factory, flavor: FlavorName
) -> None:
    server = _server(aura_server_factory, flavor, fault=STALLED, keepalive=0.05)
    with _sync(server, timeout=PINGED) as client, pytest.raises(StreamTimeoutError) as caught:
        client.chat([user("hi")])
    assert caught.value.limit == "text"
    assert caught.value.text == "Hello"


@pytest.mark.anyio
@pytest.mark.parametrize("flavor", ["llama-cpp-python"])
async def test_async_pings_on_a_stalled_stream_end_by_the_text_limit(
    aura_server_factory: Factory, flavor: FlavorName
) -> None:
    server = _server(aura_server_factory, flavor, fault=STALLED, keepalive=0.05)
    async with _async(server, timeout=PINGED) as client:
        with anyio.fail_after(GUARD), pytest.raises(StreamTimeoutError) as caught:
            await client.chat([user("hi")])
    assert caught.value.limit == "text"
    assert caught.value.text == "Hello"


RATE_LIMITED = '{"message": "Rate limit reached", "type": "rate_limit_error", "code": 429}'


@pytest.mark.parametrize("flavor", ["vllm", "sglang"])
def test_sync_error_event_before_text_is_retried_after_text_raised(
    aura_server_factory: Factory, flavor: FlavorName
) -> None:
    server = _server(aura_server_factory, flavor, fault=HELLO)
    server.script(Fault(error_event=RATE_LIMITED, error_after=0), HELLO)
    policy = RetryPolicy(max_retries=1, backoff_base=0.01)
    retried = AuraClient(base_url=server.base_url, dialect="openai", max_retries=policy)
    with retried:
        assert retried.chat([user("hi")]) == "Hello, world"
        assert len(server.requests) == 2
        server.script(Fault(chunks=(b"Hello", b", world"), error_event=RATE_LIMITED, error_after=1))
        with pytest.raises(RateLimitError) as caught:
            retried.chat([user("hi")])
    assert caught.value.text == "Hello"
    assert len(server.requests) == 3  # never retried after text


async def _streams(client: AsyncAuraClient, count: int) -> None:
    for _ in range(count):
        assert await client.chat([user("hi")]) == "Hello, world"


@pytest.mark.parametrize("flavor", ALL)
def test_sync_sequential_streams_take_one_connection(
    aura_server_factory: Factory, flavor: FlavorName
) -> None:
    server = _server(aura_server_factory, flavor)
    with _sync(server) as client:
        for _ in range(5):
            assert client.chat([user("hi")]) == "Hello, world"
    assert server.connections == 1


@pytest.mark.anyio
@pytest.mark.parametrize("flavor", ["vllm", "llama-cpp-python"])
async def test_async_sequential_streams_take_one_connection(
    aura_server_factory: Factory, flavor: FlavorName
) -> None:
    server = _server(aura_server_factory, flavor)
    async with _async(server) as client:
        with anyio.fail_after(GUARD):
            await _streams(client, 5)
    assert server.connections == 1


def test_a_flavor_is_for_the_openai_dialect_only(aura_server_factory: Factory) -> None:
    with pytest.raises(ValueError, match="flavor is for dialect='openai'"):
        AuraServer(flavor="vllm")
    with pytest.raises(ValueError, match="flavor must be one of"):
        AuraServer(dialect="openai", flavor="tgi")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="context"):
        AuraServer(dialect="openai", flavor="vllm", context=0)
    assert "flavor=vllm" in repr(AuraServer(dialect="openai", flavor="vllm"))
