"""Readable reprs: streams, errors, the local server, faults and recorded requests.

Each says what a debugger or a failing test needs (where, in which state, how
much arrived) and never a secret: not the API key, not a URL's userinfo, not the
reply text (a reply may quote anything).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import anyio
import pytest

from aura_sdk import (
    APIStatusError,
    APITimeoutError,
    AsyncAuraClient,
    AuraClient,
    AuraDecodeError,
    AuthenticationError,
    DialectName,
    Model,
    RateLimitError,
    StreamInterruptedError,
    StreamTimeoutError,
    Timeout,
    user,
)
from aura_sdk.server import AuraServer, Fault, RecordedRequest

KEY = "sk-repr-secret-0123456789"
PASSWORD = "hunter2-repr"


def _with_userinfo(url: str) -> str:
    return url.replace("http://", f"http://me:{PASSWORD}@")


def _clean(text: str) -> str:
    assert KEY not in text
    assert PASSWORD not in text
    return text


def test_sync_stream_repr_through_its_life(server: AuraServer) -> None:
    with AuraClient(base_url=_with_userinfo(server.base_url), api_key=KEY) as client:
        stream = client.stream([user("hi")])
        url = f"http://me:***@127.0.0.1:{server.port}/api/chat"
        assert _clean(repr(stream)) == f"<Stream dialect=aura POST {url} not sent text=0 chars>"
        with stream:
            assert next(stream) == "Hello"
            assert _clean(repr(stream)) == (
                f"<Stream dialect=aura POST {url} streaming status=200 text=5 chars>"
            )
            assert list(stream) == [", world"]
            assert _clean(repr(stream)) == (
                f"<Stream dialect=aura POST {url} finished status=200 text=12 chars>"
            )


def test_a_stream_closed_midway_says_closed(server: AuraServer) -> None:
    with AuraClient(base_url=server.base_url) as client:
        stream = client.stream([user("hi")])
        with stream:
            next(stream)
        assert repr(stream).endswith(" closed status=200 text=5 chars>")
        unsent = client.stream([user("hi")])
        unsent.close()
        assert " not sent " not in repr(unsent)
        assert repr(unsent).endswith(" closed text=0 chars>")


@pytest.mark.parametrize("dialect", ["openai"])
def test_openai_stream_repr_has_finish_reason_and_retries(
    server: AuraServer, dialect: DialectName
) -> None:
    server.script(Fault(status=503))
    with AuraClient(base_url=server.base_url, api_key=KEY, dialect=dialect) as client:
        with client.stream([user("hi")]) as stream:
            text = "".join(stream)
    assert text == "Hello, world"
    url = f"http://127.0.0.1:{server.port}/v1/chat/completions"
    assert _clean(repr(stream)) == (
        f"<Stream dialect=openai POST {url} finished status=200 text=12 chars "
        "finish_reason='stop' retries=1>"
    )


@pytest.mark.anyio
async def test_async_stream_repr(server: AuraServer) -> None:
    async with AsyncAuraClient(base_url=_with_userinfo(server.base_url), api_key=KEY) as client:
        url = f"http://me:***@127.0.0.1:{server.port}/api/chat"
        with anyio.fail_after(10):
            async with client.stream([user("hi")]) as stream:
                assert _clean(repr(stream)) == (
                    f"<AsyncStream dialect=aura POST {url} streaming status=200 text=0 chars>"
                )
                chunks = [chunk async for chunk in stream]
    assert chunks == ["Hello", ", world"]
    assert _clean(repr(stream)) == (
        f"<AsyncStream dialect=aura POST {url} finished status=200 text=12 chars>"
    )


def test_an_interrupted_stream_error_repr(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"Hello", b", world"), drop_after=1))
    with AuraClient(base_url=_with_userinfo(server.base_url), api_key=KEY) as client:
        with pytest.raises(StreamInterruptedError) as caught:
            client.chat([user("hi")])
        error = caught.value
        assert error.text == "Hello"
        assert (
            _clean(repr(error)) == f"StreamInterruptedError(message={str(error)!r}, text=<5 chars>)"
        )
        assert "Hello" not in repr(error)  # its length only


@pytest.mark.parametrize("dialect", ["openai"])
def test_a_status_error_repr_from_a_server(
    aura_server_factory: Callable[..., AuraServer], dialect: DialectName
) -> None:
    server = aura_server_factory(dialect=dialect, api_keys={"sk-right-key-000000"})
    with AuraClient(base_url=server.base_url, api_key=KEY, dialect=dialect) as client:
        with pytest.raises(AuthenticationError) as caught:
            client.chat([user("hi")])
    error = caught.value
    text = _clean(repr(error))
    assert text.startswith(f"AuthenticationError(message={str(error)!r}, status_code=401, ")
    assert f"reason={error.reason!r}" in text


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            RateLimitError(
                "429 Too Many Requests", status_code=429, reason="Too Many Requests", body="{}"
            ),
            "RateLimitError(message='429 Too Many Requests', status_code=429, "
            "reason='Too Many Requests')",
        ),
        (
            APITimeoutError("read timeout after 5s", limit="read", seconds=5.0),
            "APITimeoutError(message='read timeout after 5s', limit='read', seconds=5.0)",
        ),
        (
            StreamTimeoutError("cut", limit="total", seconds=1.0, text="abc", truncated=b"\xe2"),
            "StreamTimeoutError(message='cut', limit='total', seconds=1.0, text=<3 chars>, "
            "truncated=<1 bytes>)",
        ),
        (
            AuraDecodeError("invalid UTF-8 at byte 3", text="abc", position=3),
            "AuraDecodeError(message='invalid UTF-8 at byte 3', position=3, text=<3 chars>)",
        ),
    ],
)
def test_error_reprs(error: Exception, expected: str) -> None:
    assert repr(error) == expected


def test_error_repr_counts_retries_and_keeps_str() -> None:
    error = APIStatusError("503 Service Unavailable", status_code=503, reason="x", body="")
    error.retries = 2
    assert repr(error).endswith(", retries=2)")
    assert str(error) == "503 Service Unavailable"


def test_error_repr_scrubs_a_live_secret() -> None:
    """A message built outside the SDK's scrubbing still shows no live client's key."""
    with AuraClient(base_url="http://127.0.0.1:9", api_key=KEY):
        error = StreamInterruptedError(f"the server said {KEY}")
        assert _clean(repr(error)) == "StreamInterruptedError(message='the server said ***')"


@pytest.mark.parametrize("dialect", ["aura", "openai"])
def test_server_repr(dialect: DialectName) -> None:
    server = AuraServer(dialect=dialect, api_keys={KEY} if dialect == "openai" else None)
    assert _clean(repr(server)) == f"<AuraServer dialect={dialect} {server.base_url} stopped>"
    with server:
        assert _clean(repr(server)) == f"<AuraServer dialect={dialect} {server.base_url} running>"
    assert repr(server) == f"<AuraServer dialect={dialect} {server.base_url} stopped>"


def test_fault_repr_shows_what_is_set() -> None:
    assert repr(Fault()) == "Fault()"
    fault = Fault(status=503, reason="Busy", headers={"Retry-After": "2"}, repeat=2)
    assert repr(fault) == (
        "Fault(status=503, reason='Busy', headers={'Retry-After': '2'}, repeat=2)"
    )
    assert eval(repr(fault), {"Fault": Fault}) == fault
    assert repr(Fault(delay=math.inf, raw=b"x" * 200, chunks=(b"a",) * 50)) == (
        "Fault(delay=inf, chunks=<50 items>, raw=<200 bytes>)"
    )


def test_fault_repr_masks_credential_headers() -> None:
    fault = Fault(headers={"Set-Cookie": f"session={KEY}", "X-API-Key": KEY, "X-Other": "1"})
    assert _clean(repr(fault)) == (
        "Fault(headers={'Set-Cookie': '***', 'X-API-Key': '***', 'X-Other': '1'})"
    )


def test_recorded_request_repr_hides_the_key(server: AuraServer) -> None:
    with AuraClient(base_url=server.base_url, api_key=KEY) as client:
        client.chat([user("hi")])
    recorded = server.requests[-1]
    assert KEY in recorded.body.decode()  # the aura dialect sends the key in the body
    text = _clean(repr(recorded))
    assert text.startswith("RecordedRequest(method='POST', path='/api/chat', headers={")
    assert text.endswith(f"body=<{len(recorded.body)} bytes>)")
    bearer = RecordedRequest("GET", "/v1/models", {"authorization": f"Bearer {KEY}"}, b"")
    assert _clean(repr(bearer)) == (
        "RecordedRequest(method='GET', path='/v1/models', headers={'authorization': '***'}, "
        "body=<0 bytes>)"
    )


def test_model_and_timeout_reprs() -> None:
    assert repr(Model("m")) == "Model(id='m', name='m', max_length=24576, token_limit=8192)"
    assert repr(Timeout(5)) == (
        "Timeout(connect=5.0, response=60.0, read=60.0, write=30.0, pool=30.0, total=None, "
        "text=300.0)"
    )
