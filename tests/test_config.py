"""Client configuration: environment fallbacks, defaults, and no secret in repr."""

from __future__ import annotations

import logging
import sys
from typing import Any

import httpx
import pytest

from aura_sdk import (
    DEFAULT_TIMEOUT,
    APIStatusError,
    AsyncAuraClient,
    AuraClient,
    AuraValidationError,
    Model,
    RetryPolicy,
    Timeout,
    user,
)
from aura_sdk._request import chat_request
from aura_sdk._validation import redact_url
from aura_sdk.server import AuraServer, Fault
from tests._hostile import HostileServer, Peer, RawRequest, chunked, head, hostile

CLIENTS = [AuraClient, AsyncAuraClient]


@pytest.mark.parametrize("cls", CLIENTS)
def test_defaults(cls: type[AuraClient] | type[AsyncAuraClient]) -> None:
    client = cls()
    assert client.base_url == "http://127.0.0.1:8000"  # aura serve's; openchat.team is gone
    assert cls(dialect="openai").base_url == "http://127.0.0.1:11434/v1"  # ollama's
    assert client.model == Model("openchat_3.6", "OpenChat 3.6 (latest)")
    assert client._config.api_key == ""
    assert client._config.timeout == DEFAULT_TIMEOUT
    assert None not in (
        DEFAULT_TIMEOUT.connect,
        DEFAULT_TIMEOUT.read,
        DEFAULT_TIMEOUT.write,
        DEFAULT_TIMEOUT.pool,
    )


@pytest.mark.parametrize("cls", CLIENTS)
def test_environment(
    cls: type[AuraClient] | type[AsyncAuraClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AURA_BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("AURA_API_KEY", "sk-env")
    client = cls()
    assert client.base_url == "http://127.0.0.1:9"
    assert client._config.api_key == "sk-env"
    explicit = cls(base_url="http://other", api_key="sk-arg")
    assert (explicit.base_url, explicit._config.api_key) == ("http://other", "sk-arg")


@pytest.mark.parametrize("cls", CLIENTS)
def test_repr_never_shows_the_key(cls: type[AuraClient] | type[AsyncAuraClient]) -> None:
    client = cls(api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(client)
    assert "sk-very-secret" not in repr(client._config)
    assert "sk-very-secret" not in str(client.__dict__.get("_http"))


def test_bare_number_timeout_sets_every_limit() -> None:
    assert AuraClient(timeout=3)._config.timeout == Timeout(3, 3, 3, 3, 3, total=None, text=3)


def test_timeout_object_is_kept() -> None:
    timeout = Timeout(connect=1, read=None)
    assert AuraClient(timeout=timeout)._config.timeout is timeout


def test_custom_model_by_id() -> None:
    assert AuraClient(model="mine").model == Model("mine", "mine", 24576, 8192)


def test_passed_in_client_is_used_and_not_closed() -> None:
    http = httpx.Client()
    with AuraClient(http_client=http) as client:
        assert client._http is http
    assert not http.is_closed
    http.close()


def test_own_client_is_closed() -> None:
    client = AuraClient()
    client.close()
    assert client._http.is_closed


@pytest.mark.anyio
async def test_async_passed_in_client_is_used_and_not_closed() -> None:
    http = httpx.AsyncClient()
    async with AsyncAuraClient(http_client=http) as client:
        assert client._http is http
    assert not http.is_closed
    await http.aclose()


@pytest.mark.parametrize("cls", CLIENTS)
def test_own_pool_has_room_for_a_thousand_streams(
    cls: type[AuraClient] | type[AsyncAuraClient],
) -> None:
    pool = cls()._http._transport._pool  # type: ignore[union-attr]
    assert pool._max_connections == 1000
    assert pool._max_keepalive_connections == 100


def test_own_client_sends_the_sdk_headers_without_per_request_merging() -> None:
    client = AuraClient(headers={"X-Team": "a"})
    assert client._http.headers["user-agent"].startswith("aura-sdk/")
    assert client._http.headers["x-team"] == "a"
    assert client._http.headers["content-type"] == "application/json"


# (case id, base_url, text the message must contain): refused when the client is made,
# before any request, with a message that says what to pass.
BAD_BASE_URLS: list[tuple[str, Any, str]] = [
    ("query", "http://127.0.0.1:8000?a=1", "must not have a query (?...); pass the server's URL"),
    ("query-empty", "http://127.0.0.1:8000/?", "must not have a query"),
    ("fragment", "http://127.0.0.1:8000#top", "must not have a fragment (#...)"),
    ("ipv6-unclosed", "http://[::1", "an IPv6 address opened with '[' is not closed with ']'"),
    ("ipv6-invalid", "http://[zz]:80", "invalid IPv6 address [zz]"),
    ("ipv6-junk-after", "http://[::1]x:80", "expected ':port' after the IPv6 address"),
    ("ipv6-unbracketed", "http://::1:8000", "an IPv6 address must be in brackets"),
    ("port-too-big", "http://127.0.0.1:99999", "invalid port '99999' (expected 1 to 65535)"),
    ("port-zero", "http://127.0.0.1:0", "invalid port '0'"),
    ("port-letters", "http://127.0.0.1:abc", "invalid port 'abc'"),
    ("port-twice", "http://host:80:81", "invalid port '80:81'"),
    ("port-unicode-digits", "http://h:\uff18\uff10", "invalid port"),
    ("ipv6-port-too-big", "http://[::1]:65536", "invalid port '65536'"),
    ("no-scheme", "127.0.0.1:8000", "expected an http:// or https:// URL such as"),
    ("no-scheme-slashes", "//127.0.0.1:8000", "expected an http:// or https:// URL"),
    ("ftp", "ftp://host", "expected an http:// or https:// URL"),
    ("file", "file:///etc/passwd", "expected an http:// or https:// URL"),
    ("ws", "ws://host", "expected an http:// or https:// URL"),
    ("no-host", "http://", "no host"),
    ("no-host-path", "http:///api", "no host"),
    ("no-host-port", "http://:8000", "no host"),
    ("space-inside", "http://a b", "must not contain white space"),
    ("tab-inside", "http://h\t/x", "must not contain white space"),
    ("nul", "http://127.0.0.1\0", "control characters"),
    ("lf", "http://h/\nX-Evil: 1", "control characters"),
    ("del", "http://h\x7f", "control characters"),
    ("nbsp", "http://h\xa0x", "white space"),
    ("surrogate", "http://h/\udcff", "lone surrogates, got a URL with a lone surrogate"),
    ("host-char", "http://h<x>", "invalid character in host 'h<x>'"),
    ("host-backslash", "http://h\\x", "invalid character in host"),
    ("idna-bad", "http://" + "\xe9" * 64 + ".com", "invalid international host name"),
    # The socket layer encodes every host with the idna codec: these failed there,
    # as a raw UnicodeError out of the first request.
    ("empty-label", "http://a..b", "invalid host name 'a..b' (an empty label"),
    ("leading-dot", "http://.a:80", "invalid host name '.a'"),
    ("label-too-long", "http://" + "a" * 64 + ".com", "one over 63 characters"),
    ("ipv4-out-of-range", "http://1.2.3.999", "not a URL httpx can send to (Invalid IPv4"),
    ("a-label-bad", "http://xn--zz", "not a URL httpx can send to"),
    ("int", 8000, "expected str, got int"),
    ("bytes", b"http://h", "expected str, got bytes"),
    ("false", False, "expected str, got bool"),
]


@pytest.mark.parametrize(
    ("case", "url", "needle"), BAD_BASE_URLS, ids=[c[0] for c in BAD_BASE_URLS]
)
def test_bad_base_url_is_refused_when_the_client_is_made(case: str, url: Any, needle: str) -> None:
    for cls in CLIENTS:
        with pytest.raises(AuraValidationError) as info:
            cls(base_url=url)
        assert str(info.value).startswith("base_url: ")
        assert needle in str(info.value)


ENV_BAD_BASE_URLS = [c for c in BAD_BASE_URLS if isinstance(c[1], str) and "\0" not in c[1]]


@pytest.mark.parametrize(
    ("case", "url", "needle"), ENV_BAD_BASE_URLS, ids=[c[0] for c in ENV_BAD_BASE_URLS]
)
def test_bad_base_url_from_the_environment_is_named_as_such(
    case: str, url: str, needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AURA_BASE_URL", url)
    for cls in CLIENTS:
        with pytest.raises(AuraValidationError) as info:
            cls()
        message = str(info.value)
        assert message.startswith("$AURA_BASE_URL (base_url): ")
        assert needle in message


# (given, kept): what is safe to normalise is normalised.
GOOD_BASE_URLS = [
    ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
    ("http://127.0.0.1:8000///", "http://127.0.0.1:8000"),
    ("  https://openchat.team/ \n", "https://openchat.team"),
    ("HTTP://Host", "http://Host"),
    ("http://[::1]:8000/", "http://[::1]:8000"),
    ("http://[fe80::1%25eth0]:8000", "http://[fe80::1%25eth0]:8000"),
    ("https://proxy.example/aura/", "https://proxy.example/aura"),
    ("http://u:pw@host:1/", "http://u:pw@host:1"),
    ("http://b\xfccher.example", "http://b\xfccher.example"),
    ("http://h:65535", "http://h:65535"),
]


@pytest.mark.parametrize(("url", "kept"), GOOD_BASE_URLS)
def test_good_base_url_is_normalised(url: str, kept: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for cls in CLIENTS:
        assert cls(base_url=url).base_url == kept
    monkeypatch.setenv("AURA_BASE_URL", url)
    assert AuraClient().base_url == kept


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("sk-\udcff", "$AURA_API_KEY (api_key): contains a lone surrogate, which"),
        ("sk-abc\n", "$AURA_API_KEY (api_key): must not contain CR, LF"),
    ],
)
def test_bad_api_key_from_the_environment_is_named_as_such(
    value: str, needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AURA_API_KEY", value)
    for cls in CLIENTS:
        with pytest.raises(AuraValidationError) as info:
            cls()
        assert needle in str(info.value)
        assert "sk-" not in str(info.value)


# (case id, proxy=, text the message must contain)
BAD_PROXIES: list[tuple[str, Any, str]] = [
    ("empty", "", "proxy: empty; pass None for no proxy"),
    ("blank", "  ", "proxy: empty; pass None for no proxy"),
    ("false", False, "proxy: expected a URL string or None, got bool"),
    ("zero", 0, "proxy: expected a URL string or None, got int"),
    ("bytes", b"http://p:3128", "proxy: expected a URL string or None, got bytes"),
    ("dict", {"http://": "http://p"}, "proxy: expected a URL string or None, got dict"),
    ("ftp", "ftp://p:21", "proxy: expected an http:// or https:// or socks5:// or socks5h://"),
    ("no-scheme", "p:3128", "proxy: expected an http://"),
    ("ipv6-unclosed", "http://[::1", "proxy: an IPv6 address opened with '['"),
    ("port", "http://p:99999", "proxy: invalid port '99999'"),
    ("query", "http://p:3128?x=1", "proxy: must not have a query"),
    ("lf", "http://p:3128\nX: 1", "proxy: must not contain white space, control"),
    ("ipv4-out-of-range", "http://1.2.3.999:3128", "proxy: not a URL httpx can send to"),
]


@pytest.mark.parametrize(("case", "proxy", "needle"), BAD_PROXIES, ids=[c[0] for c in BAD_PROXIES])
def test_bad_proxy_is_refused_when_the_client_is_made(case: str, proxy: Any, needle: str) -> None:
    for cls in CLIENTS:
        with pytest.raises(AuraValidationError) as info:
            cls(proxy=proxy)
        assert needle in str(info.value)


@pytest.mark.parametrize("cls", CLIENTS)
def test_socks_proxy_without_its_extra_says_what_to_install(
    cls: type[AuraClient] | type[AsyncAuraClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "socksio", None)  # as if not installed
    with pytest.raises(AuraValidationError, match=r"pip install 'httpx\[socks\]'"):
        cls(proxy="socks5://127.0.0.1:1080")


@pytest.mark.parametrize("proxy", ["ftp://p:21", "http://[::1", "socks5://127.0.0.1:1080"])
@pytest.mark.parametrize("cls", CLIENTS)
def test_bad_proxy_from_the_environment_is_refused(
    cls: type[AuraClient] | type[AsyncAuraClient], proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "socksio", None)
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    with pytest.raises(AuraValidationError, match=r"proxy from the environment \(\$HTTPS_PROXY"):
        cls()


@pytest.mark.parametrize("cls", CLIENTS)
def test_good_proxy_is_kept(cls: type[AuraClient] | type[AsyncAuraClient]) -> None:
    client = cls(proxy="http://u:pw@127.0.0.1:3128")
    assert client._owns_http


SECRET_URL = "http://alice:hunter2@127.0.0.1:{port}/"


def _port(server: AuraServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


@pytest.mark.parametrize("cls", CLIENTS)
def test_url_password_is_masked_in_reprs_and_messages(
    cls: type[AuraClient] | type[AsyncAuraClient],
) -> None:
    client = cls(base_url=SECRET_URL.format(port=8000))
    assert "hunter2" not in repr(client)
    assert "alice:***@127.0.0.1:8000" in repr(client)
    assert "hunter2" not in repr(client._config)
    spec = chat_request(client._config, [user("Hi")], temperature=0.5, max_tokens=5, system=None)
    assert "hunter2" not in repr(spec)
    for bad in (
        SECRET_URL.format(port=99999),
        "http://alice:hunter2@[zz]/",
        "http://alice:hunter2@h?x",
        "ftp://alice:hunter2@h",
        "http://alice:hunter2@1.2.3.999",
        "http://hunter2@h:99999",  # a user name alone is often a token
        "http://hunter2@1.2.3.999",
    ):
        with pytest.raises(AuraValidationError) as info:
            cls(base_url=bad)
        assert "hunter2" not in str(info.value), bad
        with pytest.raises(AuraValidationError) as info:
            cls(proxy=bad)
        assert "hunter2" not in str(info.value), bad


def test_url_password_is_masked_in_the_log(
    server: AuraServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(Fault(status=503), Fault(status=503))
    policy = RetryPolicy(max_retries=1, backoff_base=0.01, backoff_cap=0.01)
    url = SECRET_URL.format(port=_port(server))
    with (
        caplog.at_level(logging.INFO, logger="aura_sdk"),
        AuraClient(base_url=url, max_retries=policy) as client,
    ):
        with pytest.raises(APIStatusError) as info:
            client.chat([user("Hi")])
    assert "retry 1 of 1" in caplog.text
    assert "alice:***@" in caplog.text
    assert "hunter2" not in caplog.text
    assert "hunter2" not in str(info.value)


@pytest.mark.anyio
async def test_url_password_is_masked_in_the_async_log(
    server: AuraServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(Fault(status=503), Fault(status=503))
    policy = RetryPolicy(max_retries=1, backoff_base=0.01, backoff_cap=0.01)
    url = SECRET_URL.format(port=_port(server))
    with caplog.at_level(logging.INFO, logger="aura_sdk"):
        async with AsyncAuraClient(base_url=url, max_retries=policy) as client:
            with pytest.raises(APIStatusError):
                await client.chat([user("Hi")])
    assert "alice:***@" in caplog.text
    assert "hunter2" not in caplog.text


def _header_lines(request: RawRequest, name: str) -> list[str]:
    return [
        line.decode("latin-1")
        for line in request.head.split(b"\r\n")[1:]
        if line.split(b":", 1)[0].strip().lower() == name.encode()
    ]


def _reply(peer: Peer) -> None:
    peer.send(head() + chunked(b"Hello"))


USER_HEADERS = {"user-agent": "my-app/1", "accept": "text/plain", "X-Pad": " \t v \t "}


def _check_user_headers(server: HostileServer) -> None:
    request = server.requests[0]
    assert _header_lines(request, "user-agent") == ["user-agent: my-app/1"]
    assert _header_lines(request, "accept") == ["accept: text/plain"]
    assert _header_lines(request, "x-pad") == ["X-Pad: v"]
    assert _header_lines(request, "content-type") == ["Content-Type: application/json"]


def test_user_headers_replace_the_sdk_ones_whatever_their_case() -> None:
    with (
        hostile(_reply) as server,
        AuraClient(
            base_url=server.base_url, headers=USER_HEADERS, max_retries=0, timeout=2
        ) as client,
    ):
        assert client.chat([user("Hi")]) == "Hello"
        _check_user_headers(server)


@pytest.mark.anyio
async def test_async_user_headers_replace_the_sdk_ones_whatever_their_case() -> None:
    with hostile(_reply) as server:
        async with AsyncAuraClient(
            base_url=server.base_url, headers=USER_HEADERS, max_retries=0, timeout=2
        ) as client:
            assert await client.chat([user("Hi")]) == "Hello"
        _check_user_headers(server)


# A password with a raw '/', '?' or '#' ends the authority early: the message quoted
# it in full ('must not have a fragment', got 'http://u:pa#ss@h') or in part
# ("invalid port 'pa'").
STRAY_AT_URLS = [
    "http://user:pa#ss@127.0.0.1:8000",
    "http://user:pa?ss@127.0.0.1:8000/x",
    "http://user:pa/ss@127.0.0.1:8000",
    "https://pa#ss@h",
]


@pytest.mark.parametrize("url", STRAY_AT_URLS)
@pytest.mark.parametrize("where", ["base_url", "proxy"])
def test_a_secret_with_a_raw_delimiter_is_never_quoted(url: str, where: str) -> None:
    for cls in CLIENTS:
        with pytest.raises(AuraValidationError) as info:
            cls(**{where: url})
        message = str(info.value)
        assert message.startswith(f"{where}: the part before '@' looks like a user name")
        assert "pa" not in message.partition("got ")[2], message
        assert "ss@" not in message
        assert "***@" in message


def test_a_proxy_with_a_query_is_told_to_pass_the_proxy_url() -> None:
    with pytest.raises(AuraValidationError, match=r"pass the proxy's URL, such as 'http://"):
        AuraClient(proxy="http://127.0.0.1:3128?x=1")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://alice:hunter2@h:1/x", "http://alice:***@h:1/x"),
        ("http://alice:hunter2:more@h", "http://alice:***@h"),
        ("http://:hunter2@h", "http://:***@h"),
        ("https://ghp_token@h", "https://***@h"),
        ("http://a@b:c@h", "http://a@b:***@h"),
        ("http://h/path@not-userinfo", "http://h/path@not-userinfo"),
        ("http://h?q=a:b@c", "http://h?q=a:b@c"),
        ("http://h", "http://h"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_proxy_host_the_resolver_cannot_encode_is_a_connection_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No check of the SDK sees a proxy from the environment: getaddrinfo's
    # UnicodeError for 'a..b' escaped chat() raw.
    import anyio

    from aura_sdk import APIConnectionError

    monkeypatch.setenv("HTTP_PROXY", "http://a..b:1")
    with AuraClient(base_url="http://127.0.0.1:9", max_retries=0) as client:
        # The wording is Python's own and differs by version ("label empty or too long").
        with pytest.raises(APIConnectionError, match=r"idna|label empty"):
            client.chat([user("hi")])
        with pytest.raises(APIConnectionError, match=r"idna|label empty"):
            client.models()

    async def main() -> None:
        async with AsyncAuraClient(base_url="http://127.0.0.1:9", max_retries=0) as client:
            with pytest.raises(APIConnectionError):
                await client.chat([user("hi")])
            with pytest.raises(APIConnectionError):
                await client.models()

    for backend in ("asyncio", "trio"):
        anyio.run(main, backend=backend)


@pytest.mark.parametrize("cls", CLIENTS)
def test_a_bad_proxy_from_the_environment_never_quotes_its_password(
    cls: type[AuraClient] | type[AsyncAuraClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    # httpx's own message for 'http://u:s3#cr3t@h' was "Invalid port: 's3'".
    monkeypatch.setenv("HTTPS_PROXY", "http://u:s3#cr3t@h")
    with pytest.raises(AuraValidationError) as info:
        cls(base_url="https://example.invalid")
    message = str(info.value)
    assert message.startswith("proxy from the environment")
    assert "s3" not in message
    assert "cr3t" not in message
    assert "percent-encoded" in message
