"""Both facades against respx-mocked transports: payloads, errors, retries, models."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from aura_sdk import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncAuraClient,
    AuraClient,
    AuthenticationError,
    InternalServerError,
    Model,
    RateLimitError,
    system,
    user,
)

BASE = "http://aura.test"


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body sent in these chunks, for the sync and the async transport alike."""

    def __init__(self, chunks: tuple[bytes, ...]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


def reply(
    *chunks: bytes,
    status: int = 200,
    reason: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    extensions = {} if reason is None else {"reason_phrase": reason.encode()}
    return httpx.Response(status, stream=Chunks(chunks), headers=headers, extensions=extensions)


def rate_limited() -> httpx.Response:
    return reply(
        b"Error", status=500, reason="Rate limit reached for requests", headers={"Retry-After": "0"}
    )


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


# --- sync --------------------------------------------------------------------


def test_sync_stream_sends_the_seed_body_and_yields_chunks(mock: respx.MockRouter) -> None:
    route = mock.post("/api/chat").mock(return_value=reply(b"Hel", b"lo \xe2\x9c", b"\x93"))
    with AuraClient(base_url=BASE, api_key="sk-1") as client:
        stream = client.stream([system("S"), user("Hi")], temperature=0.7, max_tokens=100)
        assert not route.called  # nothing is sent before iteration
        chunks = list(stream)
    assert chunks == ["Hel", "lo ", "✓"]
    assert stream.text == "Hello ✓"
    assert stream.status_code == 200
    assert stream.retries == 0
    request = route.calls.last.request
    assert json.loads(request.content) == {
        "model": {
            "id": "openchat_3.6",
            "name": "OpenChat 3.6 (latest)",
            "maxLength": 24576,
            "tokenLimit": 100,
        },
        "messages": [{"role": "user", "content": "Hi"}],
        "key": "sk-1",
        "prompt": "S",
        "temperature": 0.7,
    }
    assert request.headers["user-agent"].startswith("aura-sdk/")
    assert "sk-1" not in str(request.headers)


def test_sync_chat_and_context_manager(mock: respx.MockRouter) -> None:
    mock.post("/api/chat").mock(return_value=reply(b"a", b"b"))
    with AuraClient(base_url=BASE) as client:
        assert client.chat([user("Hi")]) == "ab"
        with client.stream([user("Hi")]) as stream:
            assert stream.status_code == 200  # entering sends the request
            assert stream.headers is not None
            assert "".join(stream) == "ab"


def test_sync_status_error_shows_reason_phrase(mock: respx.MockRouter) -> None:
    mock.post("/api/chat").mock(
        return_value=reply(b"Error", status=500, reason="Incorrect API key provided: sk-***.")
    )
    with AuraClient(base_url=BASE) as client, pytest.raises(AuthenticationError) as info:
        client.chat([user("Hi")])
    assert str(info.value) == (
        "500 Incorrect API key provided: sk-***. (POST http://aura.test/api/chat, not retried)"
    )
    assert info.value.body == "Error"
    assert info.value.response is not None


def test_sync_plain_500_is_not_retried(mock: respx.MockRouter) -> None:
    route = mock.post("/api/chat").mock(
        return_value=reply(b"Error", status=500, reason="Internal Server Error")
    )
    with AuraClient(base_url=BASE) as client, pytest.raises(InternalServerError) as info:
        client.chat([user("Hi")])
    assert route.call_count == 1
    assert info.value.retries == 0


def test_sync_rate_limit_is_retried_then_succeeds(mock: respx.MockRouter) -> None:
    route = mock.post("/api/chat").mock(side_effect=[rate_limited(), rate_limited(), reply(b"ok")])
    with AuraClient(base_url=BASE, max_retries=2) as client:
        stream = client.stream([user("Hi")])
        assert "".join(stream) == "ok"
    assert route.call_count == 3
    assert stream.retries == 2


def test_sync_retries_run_out(mock: respx.MockRouter) -> None:
    route = mock.post("/api/chat").mock(side_effect=[rate_limited(), rate_limited()])
    with AuraClient(base_url=BASE, max_retries=1) as client, pytest.raises(RateLimitError) as info:
        client.chat([user("Hi")])
    assert route.call_count == 2
    assert info.value.retries == 1


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.ConnectTimeout("slow"), APITimeoutError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.RemoteProtocolError("bad"), APIConnectionError),
        (httpx.UnsupportedProtocol("nope"), APIConnectionError),
    ],
)
def test_sync_transport_errors_are_wrapped(
    mock: respx.MockRouter, raised: Exception, expected: type[Exception]
) -> None:
    route = mock.post("/api/chat").mock(side_effect=raised)
    with AuraClient(base_url=BASE, max_retries=0) as client, pytest.raises(expected) as info:
        client.chat([user("Hi")])
    assert isinstance(info.value.__cause__, httpx.HTTPError)
    assert route.call_count == 1


def test_sync_connection_errors_are_retried(
    mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("aura_sdk._client.time.sleep", lambda seconds: None)
    route = mock.post("/api/chat").mock(side_effect=[httpx.ConnectError("x"), reply(b"ok")])
    with AuraClient(base_url=BASE) as client:
        assert client.chat([user("Hi")]) == "ok"
    assert route.call_count == 2


def test_sync_models(mock: respx.MockRouter) -> None:
    route = mock.post("/api/models").mock(
        return_value=reply(b'[{"id":"openchat_3.6","name":"OpenChat 3.6 (latest)"},{"id":"other"}]')
    )
    with AuraClient(base_url=BASE, api_key="k") as client:
        models = client.models()
    assert models == [Model("openchat_3.6", "OpenChat 3.6 (latest)"), Model("other")]
    assert json.loads(route.calls.last.request.content) == {"key": "k"}


@pytest.mark.parametrize("body", [b"not json", b'{"id": "x"}', b'[{"name": "no id"}]', b"\xff"])
def test_sync_models_bad_body(mock: respx.MockRouter, body: bytes) -> None:
    mock.post("/api/models").mock(return_value=reply(body))
    with AuraClient(base_url=BASE) as client, pytest.raises(APIResponseValidationError):
        client.models()


def test_sync_models_upstream_401(mock: respx.MockRouter) -> None:
    body = b'{"error":{"message":"Incorrect API key provided: sk-abc","code":"invalid_api_key"}}'
    mock.post("/api/models").mock(
        return_value=reply(body, status=500, reason="Internal Server Error")
    )
    with (
        AuraClient(base_url=BASE, api_key="sk-abc") as client,
        pytest.raises(AuthenticationError) as info,
    ):
        client.models()
    assert "Incorrect API key provided" in str(info.value)
    assert "sk-abc" not in str(info.value)


def test_sync_strict_decoding(mock: respx.MockRouter) -> None:
    from aura_sdk import AuraDecodeError

    mock.post("/api/chat").mock(return_value=reply(b"ok ", b"\xff"))
    with AuraClient(base_url=BASE) as client:
        assert client.chat([user("Hi")]) == "ok \ufffd"
        with pytest.raises(AuraDecodeError) as info:
            client.chat([user("Hi")], errors="strict")
    assert info.value.text == "ok "


# --- async -------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_stream_sends_the_seed_body_and_yields_chunks(mock: respx.MockRouter) -> None:
    route = mock.post("/api/chat").mock(return_value=reply(b"Hel", b"lo \xe2\x9c", b"\x93"))
    async with AsyncAuraClient(base_url=BASE, api_key="sk-1") as client:
        stream = client.stream([system("S"), user("Hi")], temperature=0.7, max_tokens=100)
        assert not route.called
        chunks = [chunk async for chunk in stream]
    assert chunks == ["Hel", "lo ", "✓"]
    assert stream.text == "Hello ✓"
    assert stream.status_code == 200
    body = json.loads(route.calls.last.request.content)
    assert (body["prompt"], body["key"], body["model"]["tokenLimit"]) == ("S", "sk-1", 100)


@pytest.mark.anyio
async def test_async_chat_and_context_manager(mock: respx.MockRouter) -> None:
    mock.post("/api/chat").mock(return_value=reply(b"a", b"b"))
    async with AsyncAuraClient(base_url=BASE) as client:
        assert await client.chat([user("Hi")]) == "ab"
        async with client.stream([user("Hi")]) as stream:
            assert stream.status_code == 200
            assert [c async for c in stream] == ["a", "b"]


@pytest.mark.anyio
async def test_async_status_error_shows_reason_phrase(mock: respx.MockRouter) -> None:
    mock.post("/api/chat").mock(
        return_value=reply(b"Error", status=500, reason="Rate limit reached for requests")
    )
    async with AsyncAuraClient(base_url=BASE, max_retries=0) as client:
        with pytest.raises(RateLimitError) as info:
            await client.chat([user("Hi")])
    assert str(info.value) == (
        "500 Rate limit reached for requests (POST http://aura.test/api/chat, not retried)"
    )


@pytest.mark.anyio
async def test_async_rate_limit_is_retried_then_succeeds(mock: respx.MockRouter) -> None:
    route = mock.post("/api/chat").mock(side_effect=[rate_limited(), reply(b"ok")])
    async with AsyncAuraClient(base_url=BASE) as client:
        stream = client.stream([user("Hi")])
        assert [c async for c in stream] == ["ok"]
    assert route.call_count == 2
    assert stream.retries == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.RemoteProtocolError("bad"), APIConnectionError),
    ],
)
async def test_async_transport_errors_are_wrapped(
    mock: respx.MockRouter, raised: Exception, expected: type[Exception]
) -> None:
    mock.post("/api/chat").mock(side_effect=raised)
    async with AsyncAuraClient(base_url=BASE, max_retries=0) as client:
        with pytest.raises(expected) as info:
            await client.chat([user("Hi")])
    assert isinstance(info.value.__cause__, httpx.HTTPError)


@pytest.mark.anyio
async def test_async_models(mock: respx.MockRouter) -> None:
    mock.post("/api/models").mock(
        return_value=reply(b'[{"id":"openchat_3.6","name":"OpenChat 3.6 (latest)"}]')
    )
    async with AsyncAuraClient(base_url=BASE) as client:
        assert await client.models() == [Model("openchat_3.6", "OpenChat 3.6 (latest)")]


@pytest.mark.anyio
async def test_async_models_bad_body(mock: respx.MockRouter) -> None:
    mock.post("/api/models").mock(return_value=reply(b"<html>"))
    async with AsyncAuraClient(base_url=BASE) as client:
        with pytest.raises(APIResponseValidationError):
            await client.models()
