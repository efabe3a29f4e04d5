"""openai-python, the client people compare against, on the local server's openai dialect.

It must read the emulator's streams as it reads OpenChat's: the same text, the
finish reason, the model list. And it shows the overflow trap as users meet it:
OpenChat answers ``200 application/json`` (a JSON array), and openai-python
streams nothing and raises nothing.

Written against the API that openai 1.x, 2.x (httpx) and 3.x (httpx2) share.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from aura_sdk.server import AuraServer, Fault

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hi there\u2028and é"}]
MODEL = "openchat_3.6"
TIMEOUT = 10.0
LONG: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "x" * 40_000}
]  # 10001 tokens: over the 8192 context


def sent_text(server: AuraServer) -> str:
    """The reply the server sends, read over plain httpx (non-streaming)."""
    response = httpx.post(
        server.base_url + "/chat/completions",
        json={"model": MODEL, "messages": MESSAGES},
        timeout=TIMEOUT,
    )
    content = response.json()["choices"][0]["message"]["content"]
    assert isinstance(content, str)
    return content


def sync_client(server: AuraServer, api_key: str = "sk-local") -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=api_key, max_retries=0, timeout=TIMEOUT)


def async_client(server: AuraServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=server.base_url, api_key="sk-local", max_retries=0, timeout=TIMEOUT
    )


def test_sync_openai_streams_the_text_the_server_sent(openai_server: AuraServer) -> None:
    expected = sent_text(openai_server)
    with sync_client(openai_server) as client:
        stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        pieces, finish = [], []
        for chunk in stream:
            assert chunk.id.startswith("cmpl-")
            assert chunk.model == MODEL
            choice = chunk.choices[0]
            pieces.append(choice.delta.content or "")
            finish.append(choice.finish_reason)
    assert "".join(pieces) == expected
    assert "You said: “Hi there\u2028and é”" in expected  # U+2028 survived the stream
    assert finish[-1] == "stop"
    assert finish[:-1] == [None] * (len(finish) - 1)


def test_sync_openai_reads_a_scripted_reply(openai_server: AuraServer) -> None:
    openai_server.script(Fault(chunks=(b"Hello", b", world")))
    with sync_client(openai_server) as client:
        stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == "Hello, world"


def test_sync_openai_reads_a_non_streaming_completion(openai_server: AuraServer) -> None:
    with sync_client(openai_server) as client:
        completion = client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert completion.choices[0].message.content == sent_text(openai_server)
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )


# asyncio only: at ``[DONE]`` openai-python breaks out of its SSE generators without
# closing them, and trio warns (ResourceWarning) when they are collected. The
# overflow test below runs on trio too: its empty stream exhausts them.
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_async_openai_streams_the_text_the_server_sent(openai_server: AuraServer) -> None:
    expected = sent_text(openai_server)
    async with async_client(openai_server) as client:
        stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        pieces = [chunk.choices[0].delta.content or "" async for chunk in stream]
        models = await client.models.list()
    assert "".join(pieces) == expected
    assert [m.id for m in models.data] == list(openai_server.models)


def test_models_list(openai_server: AuraServer) -> None:
    with sync_client(openai_server) as client:
        models = client.models.list()
    assert [m.id for m in models.data] == list(openai_server.models)
    assert {m.owned_by for m in models.data} == {"openchat"}


def test_a_wrong_key_is_an_authentication_error(
    aura_server_factory: Callable[..., AuraServer],
) -> None:
    server = aura_server_factory(dialect="openai", api_keys={"sk-good"})
    with sync_client(server, api_key="sk-wrong") as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    assert caught.value.status_code == 401
    with sync_client(server, api_key="sk-good") as client:
        assert [m.id for m in client.models.list().data] == list(server.models)


def test_a_mid_stream_error_event_raises_api_error(openai_server: AuraServer) -> None:
    error = json.dumps({"message": "engine died", "type": "internal_error"})
    openai_server.script(Fault(chunks=(b"Hello", b", world"), error_event=error, error_after=1))
    seen: list[str] = []
    with sync_client(openai_server) as client:
        stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        with pytest.raises(openai.APIError, match="engine died"):
            for chunk in stream:
                seen.append(chunk.choices[0].delta.content or "")
    assert "".join(seen) == "Hello"


# --- the overflow trap, as openai-python sees it --------------------------------------


def test_the_overflow_trap_is_an_empty_stream_and_no_error(openai_server: AuraServer) -> None:
    """OpenChat's overflow answer is ``200 application/json`` holding a JSON array.

    openai-python parses that body as SSE: no line starts with ``data:``, so no
    event, so an empty stream; it raises nothing. This is why the SDK must check
    the content type of a streamed answer.
    """
    raw = httpx.post(
        openai_server.base_url + "/chat/completions",
        json={"model": MODEL, "messages": LONG, "max_tokens": 100, "stream": True},
        timeout=TIMEOUT,
    )
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/json"
    assert "maximum context length" in json.loads(raw.json()[1]["body"])["message"]
    with sync_client(openai_server) as client:
        stream = client.chat.completions.create(
            model=MODEL, messages=LONG, max_tokens=100, stream=True
        )
        assert list(stream) == []


@pytest.mark.anyio
async def test_the_overflow_trap_is_empty_for_async_openai_too(
    openai_server: AuraServer,
) -> None:
    async with async_client(openai_server) as client:
        stream = await client.chat.completions.create(
            model=MODEL, messages=LONG, max_tokens=100, stream=True
        )
        assert [chunk async for chunk in stream] == []
