"""aura_sdk.compat.Aura: the seed provider's call, and the real g4f package's entry points."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import math
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from aura_sdk import (
    APITimeoutError,
    AuraValidationError,
    StreamInterruptedError,
    StreamTimeoutError,
)
from aura_sdk.compat import Aura
from aura_sdk.server import AuraServer, Fault

MESSAGES = [{"role": "system", "content": "S"}, {"role": "user", "content": "Hi"}]


def test_class_attributes() -> None:
    assert Aura.url == "https://openchat.team"
    assert Aura.working is True
    assert Aura.supports_stream is True
    assert Aura.needs_auth is False
    assert Aura.get_dict()["name"] == "Aura"


def test_seed_signature() -> None:
    params = inspect.signature(Aura.create_async_generator).parameters
    assert list(params)[:6] == [
        "model",
        "messages",
        "proxy",
        "temperature",
        "max_tokens",
        "webdriver",
    ]
    assert [params[n].default for n in ("proxy", "temperature", "max_tokens", "webdriver")] == [
        None,
        0.5,
        8192,
        None,
    ]


TOTAL_TIMEOUT = r"^total timeout after 0\.5s \(POST http://\S+/api/chat, not retried\)$"
"""The message, which names the request."""


@pytest.mark.anyio
async def test_streams_str_chunks_with_the_seed_body(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"Hel", b"lo \xc3", b"\xa9")))
    chunks = [
        c
        async for c in Aura.create_async_generator(
            "ignored-model",
            MESSAGES,
            webdriver=object(),
            base_url=server.base_url,
            stream=True,
            provider="x",
        )
    ]
    assert chunks == ["Hel", "lo ", "é"]
    assert json.loads(server.requests[0].body) == {
        "model": {
            "id": "openchat_3.6",
            "name": "OpenChat 3.6 (latest)",
            "maxLength": 24576,
            "tokenLimit": 8192,
        },
        "messages": [{"role": "user", "content": "Hi"}],
        "key": "",
        "prompt": "S",
        "temperature": 0.5,
    }


@pytest.mark.anyio
async def test_base_url_from_environment(
    server: AuraServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AURA_BASE_URL", server.base_url)
    assert [c async for c in Aura.create_async_generator("m", MESSAGES)] == ["Hello", ", world"]


@pytest.mark.anyio
async def test_the_seed_protocol_whatever_aura_dialect_says(
    server: AuraServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AURA_DIALECT", "openai")  # for the user's other clients
    monkeypatch.setenv("AURA_BASE_URL", server.base_url)
    assert [c async for c in Aura.create_async_generator("m", MESSAGES)] == ["Hello", ", world"]
    assert server.requests[-1].path == "/api/chat"


@pytest.mark.anyio
async def test_extra_message_keys_are_dropped_and_errors_typed(server: AuraServer) -> None:
    messages = [{"role": "user", "content": "Hi", "name": "me"}]
    server.script(Fault(chunks=(b"cut",), drop_after=1))
    with pytest.raises(StreamInterruptedError):
        async for _ in Aura.create_async_generator("m", messages, base_url=server.base_url):
            pass
    assert json.loads(server.requests[0].body)["messages"] == [{"role": "user", "content": "Hi"}]


def test_bad_input_raises_before_anything_is_sent(server: AuraServer) -> None:
    with pytest.raises(AuraValidationError):
        Aura.create_async_generator(
            "m", [{"role": "bot", "content": "x"}], base_url=server.base_url
        )
    with pytest.raises(AuraValidationError):
        Aura.create_async_generator("m", MESSAGES, temperature=9, base_url=server.base_url)
    assert server.requests == []


@pytest.mark.anyio
async def test_timeout_bounds_a_hung_server(server: AuraServer) -> None:
    server.script(Fault(delay=math.inf))  # openchat-ui's hang before the status line
    with pytest.raises(APITimeoutError) as info:
        async for _ in Aura.create_async_generator(
            "m", MESSAGES, base_url=server.base_url, timeout=0.5
        ):
            pass
    assert (info.value.limit, str(info.value)) == (
        "total",
        f"total timeout after 0.5s (POST {server.base_url}/api/chat, not retried)",
    )


@pytest.mark.anyio
async def test_stream_timeout_bounds_the_silence_between_chunks(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"one ", b"two"), stall_after=1))
    chunks: list[str] = []
    with pytest.raises(StreamTimeoutError) as info:
        async for chunk in Aura.create_async_generator(
            "m", MESSAGES, base_url=server.base_url, timeout=30, stream_timeout=0.3
        ):
            chunks.append(chunk)
    assert chunks == ["one "]
    assert info.value.limit == "read"
    assert str(info.value).endswith(f"read timeout after 0.3s (POST {server.base_url}/api/chat)")


@pytest.mark.parametrize("kwargs", [{"timeout": "abc"}, {"timeout": -1}, {"stream_timeout": 0}])
def test_bad_timeout_raises_before_anything_is_sent(
    server: AuraServer, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(AuraValidationError, match="timeout"):
        Aura.create_async_generator("m", MESSAGES, base_url=server.base_url, **kwargs)
    assert server.requests == []


# --- the real g4f package ----------------------------------------------------


@pytest.fixture
def g4f(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, server: AuraServer) -> ModuleType:
    monkeypatch.setenv("G4F_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("AURA_BASE_URL", server.base_url)
    module = _import_g4f()
    debug: Any = importlib.import_module("g4f.debug")
    debug.version_check = False
    return module


def _import_g4f() -> ModuleType:
    """Import g4f as a script would: g4f 8.8 makes an ``asyncio.Lock`` at import, which on
    Python 3.9 needs a current event loop, and earlier async tests left none."""
    if sys.version_info >= (3, 10) or "g4f" in sys.modules:
        return importlib.import_module("g4f")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return importlib.import_module("g4f")
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_g4f_client(g4f: ModuleType, server: AuraServer) -> None:
    client = g4f.client.Client(provider=Aura)
    response = client.chat.completions.create(model="openchat_3.6", messages=MESSAGES)
    assert response.choices[0].message.content == "Hello, world"
    chunks = client.chat.completions.create(model="openchat_3.6", messages=MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello, world"
    assert json.loads(server.requests[0].body)["prompt"] == "S"


def test_g4f_chat_completion(g4f: ModuleType) -> None:
    assert (
        g4f.ChatCompletion.create(model="openchat_3.6", provider=Aura, messages=MESSAGES)
        == "Hello, world"
    )
    streamed = g4f.ChatCompletion.create(
        model="openchat_3.6", provider=Aura, messages=MESSAGES, stream=True
    )
    assert list(streamed) == ["Hello", ", world"]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # g4f itself runs on asyncio (aiohttp) only
async def test_g4f_async_client(g4f: ModuleType) -> None:
    client = g4f.client.AsyncClient(provider=Aura)
    response = await client.chat.completions.create(model="openchat_3.6", messages=MESSAGES)
    assert response.choices[0].message.content == "Hello, world"
    text = ""
    async for chunk in client.chat.completions.stream(model="openchat_3.6", messages=MESSAGES):
        text += chunk.choices[0].delta.content or ""
    assert text == "Hello, world"


def test_g4f_api_key_reaches_the_server(g4f: ModuleType, server: AuraServer) -> None:
    client = g4f.client.Client(provider=Aura, api_key="sk-from-g4f")
    client.chat.completions.create(model="openchat_3.6", messages=MESSAGES)
    assert json.loads(server.requests[0].body)["key"] == "sk-from-g4f"


def test_g4f_timeout_bounds_a_hung_server(g4f: ModuleType, server: AuraServer) -> None:
    server.script(Fault(delay=math.inf, repeat=4))
    client = g4f.client.Client(provider=Aura)
    calls: list[Callable[[], object]] = [
        lambda: client.chat.completions.create(model="m", messages=MESSAGES, timeout=0.5),
        lambda: list(
            client.chat.completions.create(model="m", messages=MESSAGES, timeout=0.5, stream=True)
        ),
        lambda: g4f.ChatCompletion.create(model="m", provider=Aura, messages=MESSAGES, timeout=0.5),
        lambda: list(
            g4f.ChatCompletion.create(
                model="m", provider=Aura, messages=MESSAGES, timeout=0.5, stream=True
            )
        ),
    ]
    for call in calls:
        with pytest.raises(APITimeoutError, match=TOTAL_TIMEOUT):
            call()
    assert len(server.requests) == 4


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # g4f itself runs on asyncio (aiohttp) only
async def test_g4f_async_client_timeout_bounds_a_hung_server(
    g4f: ModuleType, server: AuraServer
) -> None:
    server.script(Fault(delay=math.inf, repeat=2))
    client = g4f.client.AsyncClient(provider=Aura)
    with pytest.raises(APITimeoutError, match=TOTAL_TIMEOUT):
        await client.chat.completions.create(model="m", messages=MESSAGES, timeout=0.5)
    with pytest.raises(APITimeoutError, match=TOTAL_TIMEOUT):
        async for _ in client.chat.completions.stream(model="m", messages=MESSAGES, timeout=0.5):
            pass
