"""The API key never shows: not in repr, errors, log records or the CLI; TLS stays verified.

Nor does a ``base_url`` password, even when a hostile server on 127.0.0.1 echoes
both in its reason phrase, headers, body, or a malformed status or header line
that ends up quoted in httpx's exception: checked in ``str``, ``repr``, ``args``,
the rendered traceback (the ``__cause__`` chain included), and every log record
of every logger at DEBUG.
"""

from __future__ import annotations

import base64
import gc
import json
import logging
import os
import ssl
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from aura_sdk import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    AsyncAuraClient,
    AuraClient,
    AuraValidationError,
    AuthenticationError,
    BadRequestError,
    DialectName,
    InternalServerError,
    user,
)
from aura_sdk._secrets import scrub
from aura_sdk.server import AuraServer, Fault
from tests._harness import DIALECTS, ROLE
from tests._hostile import HostileServer, Peer, chunked, head, hostile
from tests._stacks import HTTP_CLIENTS, async_client, sync_client

KEY = "sk-live-0123456789abcdef"
HI = [user("Hi")]
# The key travels in the JSON body (aura) or as "Authorization: Bearer" (openai):
# most tests here run in both dialects.
both = pytest.mark.parametrize("dialect", DIALECTS)
CHAT_PATH = {"aura": "/api/chat", "openai": "/chat/completions"}


@pytest.fixture
def keyed_server(
    aura_server_factory: Callable[..., AuraServer], dialect: DialectName
) -> AuraServer:
    return aura_server_factory(api_keys={KEY}, dialect=dialect)


@both
def test_repr_and_vars(keyed_server: AuraServer, dialect: DialectName) -> None:
    for client in (
        AuraClient(api_key=KEY, dialect=dialect),
        AsyncAuraClient(api_key=KEY, dialect=dialect),
    ):
        assert KEY not in repr(client)
        assert KEY not in repr(client._config)
    with AuraClient(base_url=keyed_server.base_url, api_key=KEY, dialect=dialect) as client:
        stream = client.stream(HI)
        spec = stream._spec
        sent = spec.content if dialect == "aura" else spec.headers["Authorization"].encode()
        assert KEY.encode() in sent  # the key travels in the body or a header...
        assert KEY not in repr(stream._spec)  # ...which no repr shows
        assert KEY not in repr(stream)
        assert "".join(stream)  # and the server took it


@both
def test_key_echoed_by_a_server_is_redacted_from_errors(
    server: AuraServer, dialect: DialectName
) -> None:
    server.script(Fault(status=502, reason=f"upstream refused {KEY}", body=f"bad key {KEY}"))
    with AuraClient(
        base_url=server.base_url, dialect=dialect, api_key=KEY, max_retries=0
    ) as client:
        with pytest.raises(InternalServerError) as info:
            client.chat(HI)
    error = info.value
    assert KEY not in str(error)
    assert KEY not in error.reason
    assert KEY not in error.body
    assert "***" in str(error)


@both
def test_log_records_carry_no_key(
    keyed_server: AuraServer, caplog: pytest.LogCaptureFixture, dialect: DialectName
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: aura_sdk, httpx, httpcore
    url = keyed_server.base_url
    with AuraClient(base_url=url, api_key=KEY, dialect=dialect) as client:
        client.chat(HI)
    with AuraClient(base_url=url, api_key=KEY + "x", dialect=dialect, max_retries=0) as client:
        with pytest.raises(AuthenticationError) as info:
            client.chat(HI)
    assert KEY not in str(info.value) + repr(info.value)
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # DEBUG was on
    ours = [r for r in caplog.records if r.name == "aura_sdk"]
    assert any(f"POST {url}{CHAT_PATH[dialect]} -> 200" in r.getMessage() for r in ours)
    assert any("failed after 0 retries" in r.getMessage() for r in ours)
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in repr(record.args)


def chat_in_a_subprocess(base_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """One chat from a fresh interpreter, with ``AURA_LOG`` (and ``AURA_DIALECT``) as ``env`` says."""
    code = (
        "import sys; from aura_sdk import AuraClient, user\n"
        "AuraClient(base_url=sys.argv[1]).chat([user('hi')])\n"
    )
    environ = {k: v for k, v in os.environ.items() if k not in ("AURA_LOG", "AURA_DIALECT")}
    return subprocess.run(
        [sys.executable, "-c", code, base_url],
        capture_output=True,
        text=True,
        env={**environ, **env},
        timeout=30,
        check=False,
    )


@both
def test_aura_log_env_enables_the_logger(keyed_server: AuraServer, dialect: DialectName) -> None:
    url = keyed_server.base_url
    result = chat_in_a_subprocess(url, AURA_LOG="debug", AURA_API_KEY=KEY, AURA_DIALECT=dialect)
    assert result.returncode == 0, result.stderr
    assert f"aura_sdk INFO POST {url}{CHAT_PATH[dialect]} -> 200" in result.stderr
    assert "(retries: 0)" in result.stderr
    assert KEY not in result.stderr + result.stdout


def test_no_logging_without_aura_log(keyed_server: AuraServer) -> None:
    result = chat_in_a_subprocess(keyed_server.base_url, AURA_API_KEY=KEY)
    assert result.returncode == 0
    assert result.stderr == ""


@pytest.mark.parametrize("cls", [AuraClient, AsyncAuraClient])
def test_tls_verification_stays_on(cls: type[AuraClient] | type[AsyncAuraClient]) -> None:
    client = cls(base_url="https://aura.example")
    http: httpx.Client | httpx.AsyncClient = client._http
    context: ssl.SSLContext = http._transport._pool._ssl_context  # type: ignore[union-attr]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


# A hostile server echoes every secret it was sent: the key (from the JSON body,
# or the Bearer token in the openai dialect), the base_url password and the Basic
# token httpx made of it (from Authorization; aura only: in the openai dialect
# Authorization carries the key).
PASSWORD = "pw-hunter2-0123"
USER = "me"


def _secrets(dialect: DialectName = "aura") -> tuple[str, ...]:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return (KEY, PASSWORD, token) if dialect == "aura" else (KEY,)


def _echoed(peer: Peer) -> str:
    """Everything secret the request carried, as the server saw it."""
    body = json.loads(peer.request.body) if peer.request.body else {}
    auth = peer.request.header("authorization") or ""
    return f"{body.get('key', '')} {auth}".strip()


def _reason_and_headers(peer: Peer) -> None:
    echo = _echoed(peer)
    peer.send(head(f"500 {echo}", {"X-Echo": echo, "Set-Cookie": echo}) + chunked(echo.encode()))


def _malformed_status_line(peer: Peer) -> None:
    peer.send(f"HTTP/1.1 500 {_echoed(peer)}\x00\r\nContent-Length: 0\r\n\r\n".encode())


def _garbage_status_line(peer: Peer) -> None:
    peer.send(f"{_echoed(peer)} garbage\r\n\r\n".encode())


def _malformed_header(peer: Peer) -> None:
    peer.send(f"HTTP/1.1 200 OK\r\nX-Echo {_echoed(peer)}\r\n\r\n".encode())


def _redirect_echo(peer: Peer) -> None:
    # The Location's query (not its userinfo) echoes every secret: the password too.
    echo = _echoed(peer).replace(" ", "&a=")
    peer.send(head("302 Found", {"Location": f"http://elsewhere.example/?k={echo}"}) + chunked())


def _escaped(peer: Peer) -> bytes:
    # Every character \u-escaped: valid JSON, and no secret appears in it verbatim.
    return "".join(f"\\u{ord(c):04x}" for c in _echoed(peer)).encode()


def _json_escaped_echo(peer: Peer) -> None:
    body = b'{"error": {"message": "bad key: ' + _escaped(peer) + b'"}}'
    peer.send(head("401 Unauthorized") + chunked(body))


def _models_echo(peer: Peer) -> None:
    echo = _echoed(peer).encode()
    peer.send(head("200 OK", {"X-Echo": echo.decode()}) + chunked(b'{"echo": "' + echo + b'"}'))


SSE = {"Content-Type": "text/event-stream"}


def _error_event_echo(peer: Peer) -> None:
    # vLLM's mid-stream error, quoting the key, raw and \u-escaped.
    message = _echoed(peer).encode() + b" " + _escaped(peer)
    error = b'data: {"error": {"message": "bad key ' + message + b'", "code": 401}}\n\n'
    peer.send(head("200 OK", SSE) + chunked(ROLE, error))


def _invalid_event_echo(peer: Peer) -> None:
    peer.send(
        head("200 OK", SSE) + chunked(ROLE, b"data: {not json " + _echoed(peer).encode() + b"\n\n")
    )


def _json_200_echo(peer: Peer) -> None:
    # An error inside a 200 (the overflow array's shape, and a plain error object).
    body = b'{"error": {"message": "' + _echoed(peer).encode() + b'"}}'
    peer.send(head("200 OK", {"Content-Type": "application/json"}) + chunked(body))


def _overflow_echo(peer: Peer) -> None:
    inner = json.dumps({"object": "error", "message": f"no {_echoed(peer)}"})
    body = json.dumps([[1, 2], {"status_code": 400, "body": inner}]).encode()
    peer.send(head("200 OK", {"Content-Type": "application/json"}) + chunked(body))


@dataclass(frozen=True)
class Echo:
    id: str
    script: Callable[[Peer], None]
    error: type[APIError]
    call: str = "chat"
    dialects: tuple[DialectName, ...] = DIALECTS


OPENAI: tuple[DialectName, ...] = ("openai",)
ECHOES = [
    Echo("reason-phrase-headers-and-body", _reason_and_headers, InternalServerError),
    Echo("malformed-status-line", _malformed_status_line, APIConnectionError),
    Echo("garbage-status-line", _garbage_status_line, APIConnectionError),
    Echo("malformed-header-line", _malformed_header, APIConnectionError),
    Echo("redirect-location", _redirect_echo, APIStatusError),
    Echo("models-redirect-location", _redirect_echo, APIStatusError, "models"),
    Echo("json-escaped-error-body", _json_escaped_echo, AuthenticationError),
    Echo("models-json-escaped-error-body", _json_escaped_echo, AuthenticationError, "models"),
    Echo("models-body", _models_echo, APIResponseValidationError, "models"),
    Echo("models-reason-phrase", _reason_and_headers, InternalServerError, "models"),
    # Only the openai dialect reads errors inside a 200.
    Echo("error-event", _error_event_echo, AuthenticationError, dialects=OPENAI),
    Echo("invalid-event", _invalid_event_echo, APIResponseValidationError, dialects=OPENAI),
    Echo("json-error-in-a-200", _json_200_echo, InternalServerError, dialects=OPENAI),
    Echo("overflow-array", _overflow_echo, BadRequestError, dialects=OPENAI),
]
echoes = pytest.mark.parametrize(
    ("dialect", "echo"),
    [pytest.param(d, e, id=f"{d}-{e.id}") for e in ECHOES for d in e.dialects],
)


def _url(server: HostileServer, dialect: DialectName = "aura") -> str:
    if dialect == "openai":  # the key is the Authorization: no password in the URL
        return server.base_url + "/v1"
    return server.base_url.replace("http://", f"http://{USER}:{PASSWORD}@")


def _assert_sent(server: HostileServer, dialect: DialectName = "aura") -> None:
    """The server really saw (and so could echo) every secret."""
    request = server.requests[0]
    if dialect == "openai":
        assert request.header("authorization") == f"Bearer {KEY}"
        return
    assert json.loads(request.body)["key"] == KEY
    assert request.header("authorization") == f"Basic {_secrets()[2]}"


def _assert_nothing_shows(
    error: BaseException | None, echo: Echo, caplog: pytest.LogCaptureFixture, dialect: DialectName
) -> None:
    assert isinstance(error, echo.error), repr(error)
    shown = [
        str(error),
        repr(error),
        repr(error.args),
        "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        caplog.text,  # every record, formatted by a handler
        *(r.getMessage() for r in caplog.records),
        *(repr(r.args) for r in caplog.records),
    ]
    for name in ("reason", "body", "text", "response"):
        shown.append(repr(getattr(error, name, "")))
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # DEBUG was on
    for secret in _secrets(dialect):
        for text in shown:
            assert secret not in text
    assert "***" in str(error) + caplog.text


@echoes
@pytest.mark.parametrize("caller", HTTP_CLIENTS)
def test_echoed_secrets_show_nowhere_sync(
    dialect: DialectName, echo: Echo, caplog: pytest.LogCaptureFixture, caller: str | None
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: aura_sdk, httpx, httpcore, h11...
    error: BaseException | None = None
    http = None if caller is None else sync_client(caller)
    with hostile(echo.script) as server:
        url = _url(server, dialect)
        with AuraClient(
            base_url=url, dialect=dialect, api_key=KEY, max_retries=0, http_client=http
        ) as client:
            assert PASSWORD not in repr(client)
            try:
                client.models() if echo.call == "models" else client.chat(HI)
            except Exception as exc:  # the case says which
                error = exc
    if http is not None:
        http.close()
    _assert_sent(server, dialect)
    _assert_nothing_shows(error, echo, caplog, dialect)


@pytest.mark.anyio
@echoes
@pytest.mark.parametrize("caller", HTTP_CLIENTS)
async def test_echoed_secrets_show_nowhere_async(
    dialect: DialectName, echo: Echo, caplog: pytest.LogCaptureFixture, caller: str | None
) -> None:
    caplog.set_level(logging.DEBUG)
    error: BaseException | None = None
    http = None if caller is None else async_client(caller)
    with hostile(echo.script) as server:
        async with AsyncAuraClient(
            base_url=_url(server, dialect),
            dialect=dialect,
            api_key=KEY,
            max_retries=0,
            http_client=http,
        ) as client:
            assert PASSWORD not in repr(client)
            try:
                await (client.models() if echo.call == "models" else client.chat(HI))
            except Exception as exc:  # the case says which
                error = exc
    if http is not None:
        await http.aclose()
    _assert_sent(server, dialect)
    _assert_nothing_shows(error, echo, caplog, dialect)


@pytest.mark.parametrize("cls", [AuraClient, AsyncAuraClient])
def test_url_password_is_masked_in_reprs_and_messages(
    cls: type[AuraClient] | type[AsyncAuraClient],
) -> None:
    client = cls(base_url=f"http://{USER}:{PASSWORD}@127.0.0.1:9", api_key=KEY)
    assert (
        repr(client)
        == f"{cls.__name__}(base_url='http://{USER}:***@127.0.0.1:9', dialect='aura', model='openchat_3.6')"
    )
    assert PASSWORD not in repr(client._config)
    assert PASSWORD not in repr(client.stream(HI)._spec)
    for bad in (
        f"ftp://{USER}:{PASSWORD}@aura.example",
        f"http://{USER}:{PASSWORD} x@aura.example",
    ):
        with pytest.raises(AuraValidationError) as info:
            cls(base_url=bad)
        assert PASSWORD not in str(info.value)
        assert "***@aura.example" in str(info.value)


def test_a_gone_clients_secrets_stop_being_masked() -> None:
    """Secrets are masked while their client lives (a short key must not garble logs forever)."""
    client = AuraClient(api_key="sk-transient-secret")
    assert scrub("sk-transient-secret") == "***"
    del client
    gc.collect()
    assert scrub("sk-transient-secret") == "sk-transient-secret"


@pytest.mark.parametrize(
    ("dialect", "stdin"),
    [("aura", None), ("aura", "hi\n"), ("openai", None)],
    ids=["one-shot", "piped", "openai-one-shot"],
)
def test_the_cli_prints_no_echoed_secret(dialect: DialectName, stdin: str | None) -> None:
    """``aura chat`` against an echoing server, with ``AURA_LOG=debug``: nothing shows."""
    with hostile(_reason_and_headers) as server:
        url = _url(server, dialect)
        args = [url, "--dialect", dialect] + (["hi"] if stdin is None else [])
        result = subprocess.run(
            [sys.executable, "-m", "aura_sdk", "chat", "--base-url", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, "AURA_API_KEY": KEY, "AURA_LOG": "debug"},
            timeout=60,
            check=False,
        )
    _assert_sent(server, dialect)
    shown = result.stdout + result.stderr
    # The error was printed, masked (the openai echo is the whole "Bearer KEY").
    assert ("500 ***" if dialect == "aura" else "500 Bearer ***") in shown
    # Piped input is one message now, with no banner: the conversation's banner with
    # a URL password is tested on a terminal (test_cli.py, test_url_password_is_never_printed).
    for secret in _secrets(dialect):
        assert secret not in shown


def test_unregister_from_a_finalizer_never_waits_for_the_lock() -> None:
    """A client collected while this thread rebuilds the pattern (the garbage collector
    runs inside ``re.compile``) must not deadlock on the non-reentrant lock."""
    import threading

    from aura_sdk import _secrets

    _secrets.register(["sk-finalized-1234"])
    done = threading.Event()

    def finalizer_under_the_lock() -> None:
        with _secrets._lock:  # as register() holds it when the collector runs
            _secrets.unregister(["sk-finalized-1234"])
            done.set()

    thread = threading.Thread(target=finalizer_under_the_lock, daemon=True)
    thread.start()
    thread.join(5)
    assert done.is_set(), "unregister() waited for a lock its own thread holds"
    _secrets.register([])  # the next change drops what was queued
    assert _secrets.scrub("key sk-finalized-1234") == "key sk-finalized-1234"


def _content_encoding_echo(peer: Peer) -> None:
    peer.send(head("200 OK", {"Content-Encoding": _echoed(peer)}) + chunked(b"Hi"))


@pytest.mark.parametrize("call", ["chat", "models"])
def test_an_echoed_content_encoding_is_masked_in_any_case(call: str) -> None:
    # The refused coding is named in the message: as sent, not lowercased (a
    # lowercased key or Basic token would slip past the masking).
    error: BaseException | None = None
    with hostile(_content_encoding_echo) as server:
        with AuraClient(base_url=_url(server), api_key=KEY, max_retries=0) as client:
            try:
                client.models() if call == "models" else client.chat(HI)
            except APIConnectionError as exc:
                error = exc
    assert error is not None
    shown = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    assert "Content-Encoding" in shown
    assert "***" in str(error)
    for secret in _secrets():
        assert secret.lower() not in shown.lower()
