"""What users of the big SDKs reach for: ``with_options()``, a call's own
``max_retries``, errors that name the request, the default ``base_url`` and
endpoint suffixes pasted into it, and ``AURA_LOG=debug``.

Everything that sends goes to a real server on 127.0.0.1.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

from aura_sdk import (
    APIConnectionError,
    APIError,
    AsyncAuraClient,
    AuraClient,
    AuraUsageError,
    AuraValidationError,
    AuthenticationError,
    DialectName,
    InternalServerError,
    RetryPolicy,
    StreamInterruptedError,
    Timeout,
    user,
)
from aura_sdk._dialects import DIALECTS as DIALECT_OBJECTS
from aura_sdk.server import AuraServer, Fault
from tests._harness import DIALECTS

HI = [user("Hi")]
KEY = "sk-options-0123456789abcdef"
QUICK = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_cap=0.01, jitter=0.0)
"""Retries that cost no time: the tests count them, never wait for them."""
CHAT_PATH = {"aura": "/api/chat", "openai": "/chat/completions"}
both = pytest.mark.parametrize("dialect", DIALECTS)
CLIENTS = [AuraClient, AsyncAuraClient]


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A 127.0.0.1 URL where nothing listens: a connection there is refused.

    The port stays bound (never listening) for the whole test: a port closed at
    once could be taken by another test's server meanwhile (a CI run's other Python
    sessions got one, and answered this test's retries with a 404).
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def _sent_key(server: AuraServer, index: int = -1) -> str:
    """The key of a request as the server received it: the body's (aura) or the Bearer token."""
    request = server.requests[index]
    if server.dialect == "aura":
        return str(request.json()["key"])
    return request.headers.get("authorization", "").removeprefix("Bearer ")


# --- with_options ------------------------------------------------------------


@both
def test_with_options_shares_the_pool_and_leaves_the_original_alone(server: AuraServer) -> None:
    client = AuraClient(
        base_url=server.base_url, dialect=server.dialect, timeout=30, headers={"X-A": "1"}
    )
    copy = client.with_options(timeout=Timeout(read=5), max_retries=0, headers={"X-B": "2"})
    assert type(copy) is AuraClient
    assert copy._http is client._http  # the same httpx client: one pool
    assert copy._config.timeout == Timeout(read=5)
    assert copy._retry.max_retries == 0
    assert client._config.timeout == Timeout.of(30)  # the original's, unchanged
    assert client._retry.max_retries == 2
    assert copy.chat(HI) == client.chat(HI) == "Hello, world"
    by_copy, by_original = server.requests[-2:]
    assert (by_copy.headers.get("x-a"), by_copy.headers.get("x-b")) == ("1", "2")
    assert (by_original.headers.get("x-a"), by_original.headers.get("x-b")) == ("1", None)
    assert server.connections == 1  # the copy's connection served the original too
    copy.close()  # not the pool: the original owns it
    assert not client._http.is_closed
    assert client.chat(HI) == "Hello, world"
    with pytest.raises(AuraUsageError, match="it was closed"):
        copy.chat(HI)
    client.close()
    assert client._http.is_closed


@pytest.mark.anyio
@both
async def test_async_with_options_shares_the_pool(server: AuraServer) -> None:
    async with AsyncAuraClient(base_url=server.base_url, dialect=server.dialect) as client:
        copy = client.with_options(headers={"X-B": "2"})
        other = client.with_options(timeout=5)
        assert type(copy) is AsyncAuraClient
        assert copy._http is client._http
        assert await copy.chat(HI) == await client.chat(HI) == "Hello, world"
        assert server.requests[-2].headers.get("x-b") == "2"
        assert "x-b" not in server.requests[-1].headers
        await copy.aclose()
        assert await client.chat(HI) == "Hello, world"
        assert server.connections == 1
    with pytest.raises(AuraUsageError, match="its http_client was closed"):
        await other.chat(HI)  # the original closed the pool


@both
def test_closing_the_original_closes_the_copy(server: AuraServer) -> None:
    client = AuraClient(base_url=server.base_url, dialect=server.dialect)
    copy = client.with_options(max_retries=1)
    client.close()
    with pytest.raises(AuraUsageError, match="its http_client was closed"):
        copy.chat(HI)


@both
def test_with_options_api_key(
    aura_server_factory: Callable[..., AuraServer], dialect: DialectName
) -> None:
    server = aura_server_factory(api_keys={KEY}, dialect=dialect)
    with AuraClient(base_url=server.base_url, dialect=dialect, api_key="sk-wrong") as client:
        keyed = client.with_options(api_key=KEY)
        assert keyed.chat(HI)
        assert _sent_key(server) == KEY
        assert KEY not in repr(keyed)
        assert KEY not in repr(keyed._config)
        with pytest.raises(AuthenticationError) as info:
            client.chat(HI)  # the original keeps its own key
        assert _sent_key(server) == "sk-wrong"
        assert KEY not in str(info.value)


def test_with_options_keeps_a_callers_http_client_open(server: AuraServer) -> None:
    with httpx.Client() as http:
        client = AuraClient(base_url=server.base_url, http_client=http)
        copy = client.with_options(timeout=5)
        assert copy.chat(HI) == "Hello, world"
        copy.close()
        client.close()
        assert not http.is_closed  # neither closes what the caller passed


@pytest.mark.anyio
async def test_a_copy_shares_the_event_loop_and_its_dropped_streams(server: AuraServer) -> None:
    """A stream of the copy dropped unclosed holds the only connection: the original's
    next call closes it (the two share the dropped streams), and both belong to one loop."""
    server.script(Fault(chunks=(b"one ", b"two ", b"three")))
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(limits=limits) as http:
        client = AsyncAuraClient(
            base_url=server.base_url, http_client=http, timeout=Timeout(pool=5), max_retries=0
        )
        copy = client.with_options(max_retries=0)
        async for _ in copy.stream(HI):
            break
        gc.collect()
        assert len(client._orphans) == 1  # the copy's dropped stream, seen by the original
        with anyio.fail_after(10):
            assert await client.chat(HI) == "Hello, world"
        assert client._orphans == []
        assert copy._shared is client._shared


def test_a_copy_belongs_to_its_originals_event_loop(server: AuraServer) -> None:
    # No keep-alive, so that the first loop leaves no socket behind for this test.
    http = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))
    client = AsyncAuraClient(base_url=server.base_url, http_client=http)
    copy = client.with_options(timeout=5)

    async def chat(which: AsyncAuraClient) -> str:
        return await which.chat(HI)

    assert anyio.run(chat, client) == "Hello, world"
    with pytest.raises(AuraUsageError, match="another event loop"):
        anyio.run(chat, copy)  # the pool's connections belong to the first loop


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize(
    ("options", "where"),
    [
        ({"timeout": -1}, "timeout"),
        ({"timeout": "30"}, "timeout"),
        ({"max_retries": True}, "max_retries"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"headers": {"Content-Length": "1"}}, "Content-Length"),
        ({"headers": {"X-A": "a\nb"}}, "X-A"),
        ({"api_key": "sk-\ud800"}, "api_key"),
        ({"api_key": 1}, "api_key"),
    ],
)
def test_with_options_checks_like_the_constructor(
    cls: type[AuraClient] | type[AsyncAuraClient], options: dict[str, Any], where: str
) -> None:
    client = cls(base_url="http://127.0.0.1:9")
    before = (client._config, client._retry)
    with pytest.raises(AuraValidationError, match=where):
        client.with_options(**options)
    with pytest.raises(AuraValidationError, match=where):
        cls(base_url="http://127.0.0.1:9", **options)  # the same as the constructor
    assert (client._config, client._retry) == before


def test_with_options_refuses_a_key_it_cannot_send_as_a_bearer_token() -> None:
    client = AuraClient(base_url="http://127.0.0.1:9/v1", dialect="openai")
    with pytest.raises(AuraValidationError, match="ASCII"):
        client.with_options(api_key="sk-\u201cquoted\u201d")


def test_with_options_of_a_closed_client_is_refused() -> None:
    client = AuraClient(base_url="http://127.0.0.1:9")
    client.close()
    with pytest.raises(AuraUsageError):
        client.with_options(timeout=5)


def test_with_options_accepts_a_retry_policy(server: AuraServer) -> None:
    server.script(Fault(status=503, repeat=2))
    with AuraClient(base_url=server.base_url, max_retries=0) as client:
        stream = client.with_options(max_retries=QUICK).stream(HI)
        assert "".join(stream) == "Hello, world"
        assert stream.retries == 2


# --- max_retries per call ----------------------------------------------------


@both
def test_a_calls_max_retries_replaces_the_clients(server: AuraServer) -> None:
    with AuraClient(base_url=server.base_url, dialect=server.dialect, max_retries=QUICK) as client:
        server.script(Fault(status=503, repeat=2))
        with pytest.raises(APIError) as info:
            client.chat(HI, max_retries=0)
        assert (info.value.retries, len(server.requests)) == (0, 1)
        server.reset()
        server.script(Fault(status=503, repeat=3))
        with pytest.raises(APIError) as info:
            client.chat(HI, max_retries=1)
        assert (info.value.retries, len(server.requests)) == (1, 2)
        server.reset()
        server.script(Fault(status=503, repeat=2))
        stream = client.stream(HI)  # the client's own: two
        assert "".join(stream) == "Hello, world"
        assert stream.retries == 2


@pytest.mark.anyio
@both
async def test_async_max_retries_per_call(server: AuraServer, refused_url: str) -> None:
    refused = refused_url
    policy = RetryPolicy(max_retries=0, backoff_base=0.01, backoff_cap=0.01, jitter=0.0)
    async with AsyncAuraClient(
        base_url=server.base_url, dialect=server.dialect, max_retries=policy
    ) as client:
        server.script(Fault(status=503, repeat=2))
        assert await client.chat(HI, max_retries=2) == "Hello, world"  # the policy's backoff
        assert len(server.requests) == 3
        with pytest.raises(AuraValidationError, match="max_retries"):
            client.stream(HI, max_retries=-1)
    async with AsyncAuraClient(base_url=refused, max_retries=policy) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.models(max_retries=2)
        assert info.value.retries == 2
        with pytest.raises(APIConnectionError) as info:
            await client.models()
        assert info.value.retries == 0


def test_models_max_retries(refused_url: str) -> None:
    # (The local server's faults apply to chat only: a refused connection fails models().)
    with AuraClient(base_url=refused_url, max_retries=QUICK) as client:
        with pytest.raises(APIConnectionError) as info:
            client.models(max_retries=1)
        assert info.value.retries == 1
        with pytest.raises(APIConnectionError) as info:
            client.models()
        assert info.value.retries == 2


@pytest.mark.parametrize("value", [True, False, -1, 1001, 1.0, "1", [1]])
def test_a_bad_max_retries_is_refused_before_anything_is_sent(
    server: AuraServer, value: object
) -> None:
    with AuraClient(base_url=server.base_url) as client:
        with pytest.raises(AuraValidationError, match="max_retries"):
            client.stream(HI, max_retries=value)  # type: ignore[arg-type]
        with pytest.raises(AuraValidationError, match="max_retries"):
            client.models(max_retries=value)  # type: ignore[arg-type]
    assert server.requests == []


# --- errors name the request -------------------------------------------------


@both
def test_a_status_error_names_the_method_url_and_retries(
    aura_server_factory: Callable[..., AuraServer], dialect: DialectName
) -> None:
    server = aura_server_factory(dialect=dialect)
    host = server.base_url.removeprefix("http://")
    url = f"http://me:hunter2@{host}"
    server.script(Fault(status=503, repeat=3))
    with AuraClient(base_url=url, dialect=dialect, max_retries=QUICK) as client:
        with pytest.raises(APIError) as info:
            client.chat(HI)
    error = info.value
    shown = f"http://me:***@{host}{CHAT_PATH[dialect]}"
    assert str(error).endswith(f"(POST {shown}, after 2 retries)")
    assert (error.method, error.url, error.retries) == ("POST", shown, 2)
    assert "hunter2" not in str(error) + repr(error)


def test_a_connection_error_names_the_host_and_one_retry(refused_url: str) -> None:
    policy = RetryPolicy(max_retries=1, backoff_base=0.01, jitter=0.0)
    with AuraClient(base_url=refused_url, max_retries=policy) as client:
        with pytest.raises(APIConnectionError) as info:
            client.chat(HI)
    assert str(info.value).startswith("connection error: ")
    assert str(info.value).endswith(f"(POST {refused_url}/api/chat, after 1 retry)")
    assert "aura serve" not in str(info.value)  # no hint: the caller chose this URL


@pytest.mark.anyio
async def test_async_errors_name_the_request(refused_url: str, server: AuraServer) -> None:
    async with AsyncAuraClient(base_url=refused_url, max_retries=0) as client:
        with pytest.raises(APIConnectionError, match=rf"\(POST {refused_url}/api/chat, not"):
            await client.chat(HI)
        with pytest.raises(APIConnectionError, match=rf"\(POST {refused_url}/api/models, not"):
            await client.models()
    server.script(Fault(status=500))
    async with AsyncAuraClient(base_url=server.base_url, max_retries=0) as client:
        with pytest.raises(InternalServerError) as info:
            await client.chat(HI)
    assert str(info.value) == (
        f"500 Internal Server Error (POST {server.base_url}/api/chat, not retried)"
    )


@pytest.mark.anyio
@both
async def test_an_interrupted_reply_names_the_request_once(server: AuraServer) -> None:
    """Mid-body errors are never retried: only the retries before the head are named."""
    server.script(Fault(status=503), Fault(chunks=(b"one ", b"two"), drop_after=1))
    async with AsyncAuraClient(
        base_url=server.base_url, dialect=server.dialect, max_retries=QUICK
    ) as client:
        with pytest.raises(StreamInterruptedError) as info:
            await client.chat(HI)
    message = str(info.value)
    assert message.endswith(f"(POST {server.base_url}{CHAT_PATH[server.dialect]}, after 1 retry)")
    assert message.count("(POST ") == 1
    assert info.value.text.startswith("one")


def test_a_sync_interrupted_reply_names_the_request(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"one ", b"two"), drop_after=1))
    with AuraClient(base_url=server.base_url, max_retries=0) as client:
        with pytest.raises(StreamInterruptedError) as info:
            client.chat(HI)
    assert str(info.value).endswith(f"(POST {server.base_url}/api/chat)")
    assert info.value.url == f"{server.base_url}/api/chat"


# --- the default base_url ----------------------------------------------------


@both
def test_the_default_base_url_serves_a_local_server(dialect: DialectName) -> None:
    expected = {"aura": "http://127.0.0.1:8000", "openai": "http://127.0.0.1:11434/v1"}
    assert AuraClient(dialect=dialect).base_url == expected[dialect]
    assert AsyncAuraClient(dialect=dialect).base_url == expected[dialect]


@both
def test_a_connection_error_on_the_default_says_what_to_set(
    dialect: DialectName, refused_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The dialect's default, moved to a port where nothing listens (8000 or
    # 11434 may be in use on the machine running the tests).
    default = DIALECT_OBJECTS[dialect].default_base_url
    moved = refused_url + ("/v1" if default.endswith("/v1") else "")
    monkeypatch.setattr(DIALECT_OBJECTS[dialect], "default_base_url", moved)
    with AuraClient(dialect=dialect, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            client.chat(HI)
    message = str(info.value)
    assert f"(POST {moved}{CHAT_PATH[dialect]}, not retried)" in message  # the host
    assert "$AURA_BASE_URL or base_url=" in message
    assert ("aura serve" if dialect == "aura" else "ollama") in message
    monkeypatch.setenv("AURA_BASE_URL", moved)  # set by the user: no hint
    with AuraClient(dialect=dialect, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            client.chat(HI)
    assert "$AURA_BASE_URL" not in str(info.value)


# --- base_url suffixes -------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "given", "expected"),
    [
        ("aura", "http://127.0.0.1:3000/api/chat", "http://127.0.0.1:3000"),
        ("aura", "http://127.0.0.1:3000/api/chat/", "http://127.0.0.1:3000"),
        ("aura", "http://127.0.0.1:3000/api", "http://127.0.0.1:3000"),
        ("aura", "http://127.0.0.1:3000/api/models", "http://127.0.0.1:3000"),
        ("aura", "https://h.example/chat/api/chat", "https://h.example/chat"),
        ("aura", "http://u:p@h:1/api/chat", "http://u:p@h:1"),
        ("aura", "http://api", "http://api"),  # a host, not a path
        ("aura", "http://h/myapi", "http://h/myapi"),
        ("aura", "http://h/v1", "http://h/v1"),
        ("openai", "http://127.0.0.1:18888/v1/chat/completions", "http://127.0.0.1:18888/v1"),
        ("openai", "http://h:3000/api/chat/completions", "http://h:3000/api"),  # Open WebUI
        ("openai", "http://h:3000/api", "http://h:3000/api"),
        ("openai", "http://h:8080/v1", "http://h:8080/v1"),
        ("openai", "http://h/chat/completions", "http://h"),
    ],
)
def test_an_endpoint_suffix_is_cut_back_to_the_server(
    dialect: DialectName, given: str, expected: str
) -> None:
    assert AuraClient(base_url=given, dialect=dialect).base_url == expected
    assert AsyncAuraClient(base_url=given, dialect=dialect).base_url == expected


@pytest.mark.parametrize(
    ("dialect", "given", "says"),
    [
        (
            "aura",
            "http://h:18888/v1/chat/completions",
            "pass dialect='openai' and base_url='http://h:18888/v1'",
        ),
        (
            "openai",
            "http://h:11434/api/chat",
            "pass dialect='aura' and base_url='http://h:11434'; for ollama pass "
            "base_url='http://h:11434/v1'",
        ),
        ("openai", "http://h:8080/v1/completions", "base_url='http://h:8080/v1'"),
        ("aura", "http://me:hunter2@h/v1/chat/completions", "base_url='http://me:***@h/v1'"),
    ],
)
def test_an_ambiguous_suffix_is_refused_saying_what_to_pass(
    dialect: DialectName, given: str, says: str
) -> None:
    for cls in CLIENTS:
        with pytest.raises(AuraValidationError) as info:
            cls(base_url=given, dialect=dialect)
        assert str(info.value).startswith("base_url: ")
        assert says in str(info.value)
        assert "hunter2" not in str(info.value)


def test_a_suffix_from_the_environment_is_named_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AURA_BASE_URL", "http://h/v1/chat/completions")
    with pytest.raises(AuraValidationError, match=r"^\$AURA_BASE_URL \(base_url\): "):
        AuraClient()
    monkeypatch.setenv("AURA_BASE_URL", "http://h/api/chat")
    assert AuraClient().base_url == "http://h"


def test_a_normalised_base_url_is_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="aura_sdk")
    AuraClient(base_url="http://me:hunter2@h/api/chat")
    (record,) = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert record.levelno == logging.DEBUG
    assert "/api/chat dropped from the end of http://me:***@h/api/chat" in record.getMessage()
    assert "hunter2" not in caplog.text


@both
def test_a_pasted_endpoint_reaches_the_server(server: AuraServer) -> None:
    url = server.base_url + CHAT_PATH[server.dialect]
    with AuraClient(base_url=url, dialect=server.dialect) as client:
        assert client.chat(HI) == "Hello, world"
    assert server.requests[-1].path.endswith(CHAT_PATH[server.dialect])
    assert server.requests[-1].path.count("/chat") == 1


# --- AURA_LOG=debug ----------------------------------------------------------


def _run_logged(level: str, base_url: str, dialect: DialectName, key: str) -> str:
    """A chat in a fresh interpreter with ``AURA_LOG=level``; its stderr."""
    code = (
        "import sys\n"
        "from aura_sdk import AuraClient, RetryPolicy, user\n"
        "policy = RetryPolicy(max_retries=2, backoff_base=0.01, jitter=0.0)\n"
        f"client = AuraClient(base_url={base_url!r}, dialect={dialect!r}, max_retries=policy)\n"
        "print(client.chat([user('Hi')]))\n"
    )
    env = {**os.environ, "AURA_LOG": level, "AURA_API_KEY": key}
    env.pop("AURA_BASE_URL", None)
    env.pop("AURA_DIALECT", None)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


@both
def test_aura_log_debug_shows_retry_reasons_and_headers_never_a_secret(
    aura_server_factory: Callable[..., AuraServer], dialect: DialectName
) -> None:
    server = aura_server_factory(api_keys={KEY}, dialect=dialect)
    echo = {"Set-Cookie": f"session={KEY}", "X-Echo": f"you sent {KEY}", "X-Plain": "visible"}
    server.script(Fault(status=503, reason="Overloaded", headers=echo))
    debug = _run_logged("debug", server.base_url, dialect, KEY)
    path = CHAT_PATH[dialect]
    assert f"POST {server.base_url}{path} <- 503, headers: {{" in debug
    assert f"POST {server.base_url}{path} <- 200, headers: {{" in debug
    assert "'x-plain': 'visible'" in debug
    assert "'set-cookie': '***'" in debug
    assert "'x-echo': 'you sent ***'" in debug
    assert "retry 1 of 2 in 0.01s, because of status 503 'Overloaded'" in debug
    assert KEY not in debug
    server.script(Fault(status=503, reason="Overloaded", headers=echo))
    info = _run_logged("info", server.base_url, dialect, KEY)
    assert "retry 1 of 2" in info
    assert "headers:" not in info  # DEBUG only
    assert "because of" not in info
    assert KEY not in info


@both
def test_debug_records_of_every_logger_carry_no_key(
    aura_server_factory: Callable[..., AuraServer],
    dialect: DialectName,
    caplog: pytest.LogCaptureFixture,
    refused_url: str,
) -> None:
    caplog.set_level(logging.DEBUG)  # the root: aura_sdk, httpx, httpcore, h11
    server = aura_server_factory(api_keys={KEY}, dialect=dialect)
    server.script(Fault(status=503, headers={"Authorization": f"Bearer {KEY}"}))
    with AuraClient(
        base_url=server.base_url, dialect=dialect, api_key=KEY, max_retries=QUICK
    ) as client:
        assert client.chat(HI)
        assert client.with_options(api_key=KEY, timeout=5).models()
    with AuraClient(base_url=refused_url, api_key=KEY, max_retries=QUICK) as client:
        with pytest.raises(APIConnectionError):
            client.chat(HI)
    ours = [r.getMessage() for r in caplog.records if r.name == "aura_sdk"]
    assert any("because of status 503" in m for m in ours)
    assert any("because of APIConnectionError from httpx.ConnectError" in m for m in ours)
    assert any("'authorization': '***'" in m for m in ours)
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # DEBUG was on
    for record in caplog.records:
        assert KEY not in record.getMessage(), record.name
    assert KEY not in caplog.text


@both
def test_a_copys_own_key_is_masked_while_it_lives(
    aura_server_factory: Callable[..., AuraServer],
    dialect: DialectName,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The copy's key is not the original's: the copy registers it for masking."""
    caplog.set_level(logging.DEBUG)
    server = aura_server_factory(api_keys={KEY}, dialect=dialect)
    server.script(Fault(status=503, reason=f"echo {KEY}", headers={"X-Echo": KEY}))
    with AuraClient(
        base_url=server.base_url, dialect=dialect, api_key="sk-other", max_retries=QUICK
    ) as client:
        copy = client.with_options(api_key=KEY)
        assert copy.chat(HI)
    assert any("'x-echo': '***'" in r.getMessage() for r in caplog.records)
    assert KEY not in caplog.text


def test_an_error_event_of_a_sync_stream_names_the_request(
    aura_server_factory: Callable[..., AuraServer],
) -> None:
    """An error the reply itself raises (vLLM's error event), not the transport."""
    server = aura_server_factory(dialect="openai")
    error = '{"message": "engine died", "code": 500}'
    server.script(Fault(chunks=(b"one ",), error_event=error, error_after=1))
    with AuraClient(base_url=server.base_url, dialect="openai", max_retries=0) as client:
        with pytest.raises(APIError) as info:
            client.chat(HI)
    assert str(info.value).endswith(f"(POST {server.base_url}/chat/completions)")
    assert info.value.text == "one "
