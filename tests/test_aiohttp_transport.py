"""The optional aiohttp transport (``aura-sdk[aiohttp]``: httpx-aiohttp) under AsyncAuraClient.

aiohttp runs on asyncio only, so these tests do too.
"""

from __future__ import annotations

import pytest
from httpx_aiohttp import HttpxAiohttpClient

from aura_sdk import (
    DEFAULT_TIMEOUT,
    APIConnectionError,
    APITimeoutError,
    AsyncAuraClient,
    RateLimitError,
    StreamInterruptedError,
    Timeout,
    user,
)
from aura_sdk.server import AuraServer, Fault

HI = [user("Hi")]
pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio"])]


def client(server: AuraServer, timeout: Timeout = DEFAULT_TIMEOUT) -> AsyncAuraClient:
    return AsyncAuraClient(
        base_url=server.base_url, http_client=HttpxAiohttpClient(), max_retries=0, timeout=timeout
    )


async def test_streams_and_chats(server: AuraServer) -> None:
    aura = client(server)
    try:
        assert "".join([c async for c in aura.stream(HI)]) == "Hello, world"
        assert await aura.chat(HI) == "Hello, world"
        body = server.requests[-1].json()
        assert body["messages"] == HI
    finally:
        await aura._http.aclose()


async def test_errors_are_the_sdks(server: AuraServer) -> None:
    aura = client(server, Timeout(response=0.3))
    try:
        server.script(Fault(status=500, reason="Rate limit reached for requests"))
        with pytest.raises(RateLimitError, match="500 Rate limit reached for requests"):
            await aura.chat(HI)
        server.script(Fault(chunks=(b"Hel", b"lo"), drop_after=1))
        with pytest.raises(StreamInterruptedError) as info:
            await aura.chat(HI)
        assert info.value.text == "Hel"
        server.script(Fault(delay=5))
        with pytest.raises(APITimeoutError):
            await aura.chat(HI)
        server.script(Fault(close_before_status=True))
        with pytest.raises(APIConnectionError):
            await aura.chat(HI)
        assert await aura.chat(HI) == "Hello, world"
    finally:
        await aura._http.aclose()


async def test_a_dropped_connection_is_no_timeout(server: AuraServer) -> None:
    # httpx-aiohttp labels every aiohttp connection error ConnectTimeout.
    aura = client(server)
    try:
        server.script(Fault(close_before_status=True))
        with pytest.raises(APIConnectionError) as info:
            await aura.chat(HI)
        assert not isinstance(info.value, APITimeoutError), repr(info.value)
        assert "timeout" not in str(info.value)
        assert await aura.chat(HI) == "Hello, world"
    finally:
        await aura._http.aclose()
