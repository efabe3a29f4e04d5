"""Every validation rule: a clear AuraValidationError naming the bad item, nothing sent."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from aura_sdk import (
    APIResponseValidationError,
    AsyncAuraClient,
    AuraClient,
    AuraError,
    AuraValidationError,
    Model,
    RetryPolicy,
    Timeout,
    chat_body,
    user,
)
from aura_sdk.server import AuraServer
from tests._hostile import Peer, head, hostile

OK = [{"role": "user", "content": "Hi"}]

# (case id, keyword arguments for stream()/chat(), text the message must contain)
BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("messages-none", {"messages": None}, "messages: expected a list"),
    ("messages-str", {"messages": "Hi"}, "messages: expected a list"),
    ("messages-bytes", {"messages": b"Hi"}, "messages: expected a list"),
    ("messages-dict", {"messages": {"role": "user", "content": "Hi"}}, "messages: expected a list"),
    ("messages-int", {"messages": 3}, "messages: expected a list"),
    ("messages-empty", {"messages": []}, "messages: must not be empty"),
    ("message-str", {"messages": ["Hi"]}, "messages[0]: expected a mapping"),
    ("message-none", {"messages": [user("a"), None]}, "messages[1]: expected a mapping"),
    ("message-tuple", {"messages": [("user", "Hi")]}, "messages[0]: expected a mapping"),
    ("role-missing", {"messages": [{"content": "Hi"}]}, "messages[0].role: missing"),
    ("role-bot", {"messages": [{"role": "bot", "content": "Hi"}]}, "messages[0].role: expected"),
    ("role-case", {"messages": [{"role": "User", "content": "Hi"}]}, "messages[0].role"),
    ("role-none", {"messages": [{"role": None, "content": "Hi"}]}, "messages[0].role"),
    ("role-tool", {"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
    (
        "role-third",
        {"messages": [user("a"), user("b"), {"role": "function", "content": "c"}]},
        "messages[2].role",
    ),
    ("content-missing", {"messages": [{"role": "user"}]}, "messages[0].content: missing"),
    ("content-none", {"messages": [{"role": "user", "content": None}]}, "messages[0].content"),
    ("content-int", {"messages": [{"role": "user", "content": 1}]}, "expected str, got int"),
    (
        "content-list",
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]},
        "expected str, got list",
    ),
    ("content-bytes", {"messages": [{"role": "user", "content": b"Hi"}]}, "got bytes"),
    ("extra-key", {"messages": [{"role": "user", "content": "Hi", "name": "x"}]}, "'name'"),
    ("only-system", {"messages": [{"role": "system", "content": "S"}]}, "at least one user"),
    ("temperature-nan", {"temperature": math.nan}, "temperature"),
    ("temperature-inf", {"temperature": math.inf}, "temperature"),
    ("temperature-negative", {"temperature": -0.1}, "temperature"),
    ("temperature-too-high", {"temperature": 2.01}, "temperature"),
    ("temperature-str", {"temperature": "0.5"}, "temperature: expected a number"),
    ("temperature-bool", {"temperature": True}, "temperature: expected a number"),
    ("max-tokens-zero", {"max_tokens": 0}, "max_tokens"),
    ("max-tokens-negative", {"max_tokens": -5}, "max_tokens"),
    ("max-tokens-huge", {"max_tokens": 10**9}, "max_tokens: expected 1 to 24576"),
    ("max-tokens-float", {"max_tokens": 100.0}, "max_tokens: expected an int"),
    ("max-tokens-str", {"max_tokens": "100"}, "max_tokens: expected an int"),
    ("max-tokens-bool", {"max_tokens": True}, "max_tokens: expected an int"),
    ("system-int", {"system": 1}, "system: expected str"),
    ("model-empty", {"model": ""}, "model"),
    ("model-int", {"model": 36}, "model"),
    ("errors-ignore", {"errors": "ignore"}, "errors: expected 'replace' or 'strict'"),
    ("call-timeout-negative", {"timeout": -1}, "timeout: expected a positive number"),
    ("call-timeout-str", {"timeout": "1"}, "timeout: expected seconds as a number"),
    # Lone surrogates (text decoded with errors="surrogateescape") are refused by
    # name, not left to blow up as a UnicodeEncodeError in the JSON encoder.
    ("content-surrogate", {"messages": [user("a\ud800b")]}, "messages[0].content: contains a lone"),
    (
        "content-surrogate-third",
        {"messages": [user("a"), user("é"), {"role": "user", "content": "\udcff"}]},
        "messages[2].content: contains a lone surrogate ('\\udcff' at index 0)",
    ),
    ("system-surrogate", {"system": "be \udc80 brief"}, "system: contains a lone surrogate"),
    (
        "system-message-surrogate",
        {"messages": [{"role": "system", "content": "\ud800"}, user("a")]},
        "messages[0].content: contains a lone",
    ),
    ("model-surrogate", {"model": "open\ud800chat"}, "model: contains a lone surrogate"),
    ("model-blank", {"model": "  "}, "model: expected a non-empty model id"),
    ("model-object-bad", {"model": 3.5}, "model: expected a non-empty model id, got 3.5"),
    (
        "temperature-huge-int",
        {"temperature": 10**400},
        "temperature: expected a number from 0 to 2, got an int of 1329 bits",
    ),
    ("temperature-complex", {"temperature": 1j}, "temperature: expected a number"),
    ("max-tokens-huge-int", {"max_tokens": 10**5000}, "got an int of 16610 bits"),
    ("max-tokens-nan", {"max_tokens": math.nan}, "max_tokens: expected an int, got float"),
    ("errors-huge-int", {"errors": 10**5000}, "errors: expected 'replace' or 'strict'"),
    ("errors-none", {"errors": None}, "errors: expected 'replace' or 'strict', got None"),
    ("role-unhashable", {"messages": [{"role": ["user"], "content": "x"}]}, "messages[0].role"),
    ("extra-key-int", {"messages": [{"role": "user", "content": "x", 1: 2}]}, "unexpected key 1"),
    ("messages-set", {"messages": {1, 2}}, "messages: expected a list"),
    ("messages-generator", {"messages": (m for m in OK)}, "messages: expected a list"),
]


def _call(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"messages": OK, **kwargs}


@pytest.mark.parametrize(("case", "kwargs", "needle"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_sync_rejects_before_sending(
    server: AuraServer, case: str, kwargs: dict[str, Any], needle: str
) -> None:
    with AuraClient(base_url=server.base_url) as client:
        with pytest.raises(AuraValidationError, match=None) as info:
            client.stream(**_call(kwargs))
        with pytest.raises(AuraValidationError):
            client.chat(**_call(kwargs))
    assert needle in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, AuraError)
    assert server.connections == 0


@pytest.mark.anyio
@pytest.mark.parametrize(("case", "kwargs", "needle"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
async def test_async_rejects_before_sending(
    server: AuraServer, case: str, kwargs: dict[str, Any], needle: str
) -> None:
    async with AsyncAuraClient(base_url=server.base_url) as client:
        with pytest.raises(AuraValidationError) as info:
            client.stream(**_call(kwargs))
        with pytest.raises(AuraValidationError):
            await client.chat(**_call(kwargs))
    assert needle in str(info.value)
    assert server.connections == 0


BAD_CLIENTS: list[tuple[str, dict[str, Any], str]] = [
    ("key-lf", {"api_key": "sk-a\nX-Evil: 1"}, "api_key: must not contain CR, LF"),
    ("key-cr", {"api_key": "sk-a\r"}, "api_key: must not contain CR, LF"),
    ("key-int", {"api_key": 1234}, "api_key: expected str"),
    ("header-value-lf", {"headers": {"X-A": "1\r\nX-B: 2"}}, "headers['X-A']"),
    ("header-value-int", {"headers": {"X-A": 1}}, "headers['X-A']: expected str"),
    ("header-name-space", {"headers": {"X A": "1"}}, "invalid header name"),
    ("header-name-colon", {"headers": {"X:A": "1"}}, "invalid header name"),
    ("headers-list", {"headers": [("X-A", "1")]}, "headers: expected a mapping"),
    ("base-url-ftp", {"base_url": "ftp://host"}, "base_url"),
    ("base-url-bare", {"base_url": "openchat.team"}, "base_url"),
    ("base-url-space", {"base_url": "http://a b"}, "base_url"),
    ("timeout-none", {"timeout": None}, "timeout: None would wait forever"),
    ("timeout-zero", {"timeout": 0}, "timeout"),
    ("timeout-nan", {"timeout": math.nan}, "timeout"),
    ("timeout-str", {"timeout": "5"}, "timeout"),
    ("max-retries-negative", {"max_retries": -1}, "max_retries"),
    ("max-retries-float", {"max_retries": 1.5}, "max_retries"),
    ("model-none", {"model": None}, "model"),
    ("max-response-bytes-zero", {"max_response_bytes": 0}, "max_response_bytes"),
    ("max-response-bytes-float", {"max_response_bytes": 1.5}, "max_response_bytes"),
    ("max-response-bytes-bool", {"max_response_bytes": True}, "max_response_bytes"),
    ("max-response-bytes-str", {"max_response_bytes": "1"}, "max_response_bytes"),
    ("max-retries-str", {"max_retries": "2"}, "max_retries: expected an int or a RetryPolicy"),
    ("max-retries-bool", {"max_retries": True}, "max_retries: expected an int or a RetryPolicy"),
    ("max-retries-huge", {"max_retries": 10**6}, "max_retries: expected an int from 0 to 1000"),
    ("max-retries-none", {"max_retries": None}, "max_retries: expected an int or a RetryPolicy"),
    # The API key: never repeated, not even the bad character.
    ("key-surrogate", {"api_key": "sk-\ud800"}, "api_key: contains a lone surrogate, which"),
    ("key-tab", {"api_key": "sk-a\tb"}, "api_key: must not contain CR, LF or other control"),
    ("key-del", {"api_key": "sk-a\x7f"}, "api_key: must not contain CR, LF or other control"),
    ("key-bytes", {"api_key": b"sk-a"}, "api_key: expected str, got bytes"),
    # The model: a str id or a Model.
    ("model-surrogate", {"model": "\udc80"}, "model: contains a lone surrogate"),
    ("model-list", {"model": ["openchat_3.6"]}, "model: expected a non-empty model id"),
    ("model-huge-int", {"model": 10**5000}, "model: expected a non-empty model id, got an int"),
    # http_client: the facade's own kind of httpx client, or None.
    ("http-client-str", {"http_client": "http://h"}, "http_client: expected an httpx."),
    ("http-client-transport", {"http_client": httpx.HTTPTransport()}, "got httpx.HTTPTransport"),
]


@pytest.mark.parametrize(("case", "kwargs", "needle"), BAD_CLIENTS, ids=[c[0] for c in BAD_CLIENTS])
def test_bad_client_arguments(case: str, kwargs: dict[str, Any], needle: str) -> None:
    for cls in (AuraClient, AsyncAuraClient):
        with pytest.raises(AuraValidationError) as info:
            cls(**kwargs)
        assert needle in str(info.value)


def test_key_is_never_repeated_in_the_error() -> None:
    with pytest.raises(AuraValidationError) as info:
        AuraClient(api_key="sk-secret\n")
    assert "sk-secret" not in str(info.value)


def test_bad_timeout_field() -> None:
    with pytest.raises(AuraValidationError, match=r"timeout\.read"):
        Timeout(read=-1)


@pytest.mark.parametrize(
    ("api_key", "needle"),
    [(3, "api_key: expected str, got int"), ("sk-\udcff", "api_key: contains a lone surrogate")],
)
def test_chat_body_checks_the_key_too(api_key: Any, needle: str) -> None:
    with pytest.raises(AuraValidationError, match=needle):
        chat_body(OK, model="m", api_key=api_key)  # type: ignore[arg-type]


def test_valid_extremes_pass() -> None:
    body = chat_body(
        [{"role": "assistant", "content": ""}, user("x")],
        model="openchat_3.6",
        temperature=2,
        max_tokens=24576,
    )
    assert body["temperature"] == 2
    assert chat_body(OK, model="m", temperature=0, max_tokens=1)["temperature"] == 0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"max_retries": -1}, "max_retries"),
        ({"backoff_base": -1.0}, "retry.backoff_base"),
        ({"retry_after_cap": math.nan}, "retry.retry_after_cap"),
        ({"jitter": 2.0}, "retry.jitter"),
    ],
)
def test_bad_retry_policy(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(AuraValidationError, match=needle):
        RetryPolicy(**kwargs)


CLIENT_CLASSES = [AuraClient, AsyncAuraClient]

# (case id, headers=, text the message must contain): refused when the client is made.
BAD_HEADERS: list[tuple[str, Any, str]] = [
    ("value-surrogate", {"X-A": "\ud800"}, "headers['X-A']: must be printable ASCII"),
    ("value-latin-1", {"X-A": "caf\xe9"}, "headers['X-A']: must be printable ASCII"),
    ("value-euro", {"X-A": "\u20ac"}, "(a non-ASCII character at index 0)"),
    ("value-cr", {"X-A": "a\rb"}, "control characters (U+000D at index 1)"),
    ("value-lf", {"X-A": "a\nX-B: 1"}, "control characters (U+000A at index 1)"),
    ("value-nul", {"X-A": "a\0"}, "control characters (U+0000 at index 1)"),
    ("value-c0", {"X-A": "a\x01b"}, "control characters (U+0001 at index 1)"),
    ("value-esc", {"X-A": "\x1b[31m"}, "control characters (U+001B at index 0)"),
    ("value-del", {"X-A": "a\x7f"}, "control characters (U+007F at index 1)"),
    ("value-bytes", {"X-A": b"1"}, "headers['X-A']: expected str, got bytes"),
    ("value-none", {"X-A": None}, "headers['X-A']: expected str, got NoneType"),
    ("name-bytes", {b"X-A": "1"}, "headers: invalid header name b'X-A'"),
    ("name-int", {1: "1"}, "headers: invalid header name 1"),
    ("name-empty", {"": "1"}, "headers: invalid header name ''"),
    ("name-latin-1", {"X-\xe9": "1"}, "headers: invalid header name"),
    ("name-surrogate", {"X-\ud800": "1"}, "headers: invalid header name"),
    ("name-lf", {"X-A\n": "1"}, "headers: invalid header name"),
    ("content-length", {"Content-Length": "3"}, "headers['Content-Length']: set by the SDK"),
    ("content-length-lower", {"content-length": "3"}, "headers['content-length']: set by"),
    ("transfer-encoding", {"Transfer-Encoding": "chunked"}, "headers['Transfer-Encoding']"),
    ("host", {"Host": "evil.example"}, "headers['Host']: set by the SDK"),
    ("host-upper", {"HOST": "evil.example"}, "headers['HOST']: set by the SDK"),
    ("connection", {"Connection": "close"}, "headers['Connection']: set by the SDK"),
    ("content-type", {"Content-Type": "text/plain"}, "headers['Content-Type']: set by"),
    ("keep-alive", {"Keep-Alive": "5"}, "headers['Keep-Alive']: set by"),
    ("te", {"TE": "trailers"}, "headers['TE']: set by"),
    ("upgrade", {"Upgrade": "h2c"}, "headers['Upgrade']: set by"),
    ("duplicate", {"X-A": "1", "x-a": "2"}, "headers['x-a']: given twice"),
    ("mapping-str", "X-A: 1", "headers: expected a mapping, got str"),
]


@pytest.mark.parametrize(
    ("case", "headers", "needle"), BAD_HEADERS, ids=[c[0] for c in BAD_HEADERS]
)
def test_bad_headers_are_refused_when_the_client_is_made(
    case: str, headers: Any, needle: str
) -> None:
    for cls in CLIENT_CLASSES:
        with pytest.raises(AuraValidationError) as info:
            cls(headers=headers)
        assert needle in str(info.value)


def test_a_header_value_is_never_repeated_in_the_error() -> None:
    with pytest.raises(AuraValidationError) as info:
        AuraClient(headers={"Authorization": "Bearer sk-secret-\xe9"})
    assert "sk-secret" not in str(info.value)
    with pytest.raises(AuraValidationError) as info:
        AuraClient(headers={"Authorization": "Bearer sk-secret\n"})
    assert "sk-secret" not in str(info.value)


# (case id, RetryPolicy keywords, text the message must contain)
BAD_POLICIES: list[tuple[str, dict[str, Any], str]] = [
    ("max-retries-negative", {"max_retries": -1}, "max_retries: expected an int from 0 to 1000"),
    ("max-retries-bool", {"max_retries": True}, "max_retries: expected an int from 0 to 1000"),
    ("max-retries-float", {"max_retries": 2.0}, "max_retries: expected an int"),
    ("max-retries-str", {"max_retries": "2"}, "max_retries: expected an int"),
    ("max-retries-huge", {"max_retries": 10**100}, "got an int of 333 bits"),
    ("max-retries-none", {"max_retries": None}, "max_retries: expected an int"),
    ("base-negative", {"backoff_base": -1.0}, "retry.backoff_base: expected seconds from 0"),
    ("base-nan", {"backoff_base": math.nan}, "retry.backoff_base: expected seconds from 0"),
    ("base-inf", {"backoff_base": math.inf}, "retry.backoff_base: expected seconds from 0"),
    ("base-huge", {"backoff_base": 1e300}, "retry.backoff_base: expected seconds from 0"),
    ("base-huge-int", {"backoff_base": 10**400}, "retry.backoff_base: expected seconds"),
    ("base-str", {"backoff_base": "1"}, "retry.backoff_base: expected seconds as a number"),
    ("base-bool", {"backoff_base": True}, "retry.backoff_base: expected seconds as a number"),
    ("base-none", {"backoff_base": None}, "retry.backoff_base: expected seconds as a number"),
    ("cap-inf", {"backoff_cap": math.inf}, "retry.backoff_cap: expected seconds from 0"),
    ("cap-str", {"backoff_cap": "8"}, "retry.backoff_cap: expected seconds as a number"),
    ("cap-negative", {"backoff_cap": -0.5}, "retry.backoff_cap"),
    ("retry-after-cap-nan", {"retry_after_cap": math.nan}, "retry.retry_after_cap"),
    ("retry-after-cap-inf", {"retry_after_cap": math.inf}, "retry.retry_after_cap"),
    ("retry-after-cap-list", {"retry_after_cap": [1]}, "retry.retry_after_cap: expected seconds"),
    ("jitter-above-one", {"jitter": 2.0}, "retry.jitter: expected 0 to 1, got 2.0"),
    ("jitter-negative", {"jitter": -0.1}, "retry.jitter: expected 0 to 1"),
    ("jitter-nan", {"jitter": math.nan}, "retry.jitter: expected 0 to 1, got nan"),
    ("jitter-str", {"jitter": "0.1"}, "retry.jitter: expected 0 to 1, got '0.1'"),
    ("jitter-bool", {"jitter": True}, "retry.jitter: expected 0 to 1, got True"),
    ("jitter-none", {"jitter": None}, "retry.jitter: expected 0 to 1, got None"),
    ("statuses-str", {"statuses": "429"}, "retry.statuses: expected a set of ints, got str"),
    ("statuses-int", {"statuses": 429}, "retry.statuses: expected a set of ints, got int"),
    ("statuses-none", {"statuses": None}, "retry.statuses: expected a set of ints"),
    ("statuses-dict", {"statuses": {429: True}}, "retry.statuses: expected a set of ints"),
    ("statuses-str-item", {"statuses": {"429"}}, "retry.statuses item: expected an int"),
    ("statuses-bool-item", {"statuses": [True]}, "retry.statuses item: expected an int"),
    ("statuses-float-item", {"statuses": [429.0]}, "retry.statuses item: expected an int"),
    ("statuses-list-item", {"statuses": [[429]]}, "retry.statuses item: expected an int"),
    ("statuses-too-high", {"statuses": {9999}}, "from 300 to 599, got 9999"),
    ("statuses-success", {"statuses": {200}}, "from 300 to 599, got 200"),
    ("statuses-negative", {"statuses": {-1}}, "from 300 to 599, got -1"),
]


@pytest.mark.parametrize(
    ("case", "kwargs", "needle"), BAD_POLICIES, ids=[c[0] for c in BAD_POLICIES]
)
def test_bad_retry_policy_fields(case: str, kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(AuraValidationError) as info:
        RetryPolicy(**kwargs)
    assert needle in str(info.value)


def test_retry_policy_is_normalised_and_hashable() -> None:
    # Untyped callers pass a list or a set; it is kept as a frozenset.
    statuses: Any = [429, 503]
    policy = RetryPolicy(max_retries=3, backoff_base=1, statuses=statuses, jitter=0)
    assert policy.statuses == frozenset({429, 503})
    assert isinstance(policy.statuses, frozenset)
    assert isinstance(policy.backoff_base, float)
    assert isinstance(policy.jitter, float)
    assert hash(policy) == hash(RetryPolicy(3, 1.0, statuses=frozenset({503, 429}), jitter=0.0))
    a_set: Any = {429}
    assert {RetryPolicy(statuses=a_set)} == {RetryPolicy(statuses=frozenset({429}))}


# (case id, Model arguments, text the message must contain)
BAD_MODELS: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
    ("id-int", (3,), {}, "Model.id: expected a non-empty model id, got 3"),
    ("id-none", (None,), {}, "Model.id: expected a non-empty model id, got None"),
    ("id-empty", ("",), {}, "Model.id: expected a non-empty model id"),
    ("id-blank", (" \t",), {}, "Model.id: expected a non-empty model id"),
    ("id-surrogate", ("a\ud800",), {}, "Model.id: contains a lone surrogate"),
    ("name-int", ("a", 3), {}, "Model.name: expected str, got int"),
    ("name-surrogate", ("a", "\udc80"), {}, "Model.name: contains a lone surrogate"),
    ("max-length-zero", ("a",), {"max_length": 0}, "Model.max_length: expected an int from 1"),
    ("max-length-bool", ("a",), {"max_length": True}, "Model.max_length: expected an int"),
    ("max-length-float", ("a",), {"max_length": 100.0}, "Model.max_length: expected an int"),
    ("max-length-nan", ("a",), {"max_length": math.nan}, "Model.max_length: expected an int"),
    ("max-length-str", ("a",), {"max_length": "100"}, "Model.max_length: expected an int"),
    ("max-length-huge", ("a",), {"max_length": 2**53}, "to 9007199254740991"),
    ("max-length-huge-int", ("a",), {"max_length": 10**5000}, "got an int of 16610 bits"),
    ("token-limit-negative", ("a",), {"token_limit": -1}, "Model.token_limit: expected an int"),
    ("token-limit-inf", ("a",), {"token_limit": math.inf}, "Model.token_limit: expected an int"),
    ("token-limit-none", ("a",), {"token_limit": None}, "Model.token_limit: expected an int"),
]


@pytest.mark.parametrize(
    ("case", "args", "kwargs", "needle"), BAD_MODELS, ids=[c[0] for c in BAD_MODELS]
)
def test_bad_model_fields(
    case: str, args: tuple[Any, ...], kwargs: dict[str, Any], needle: str
) -> None:
    with pytest.raises(AuraValidationError) as info:
        Model(*args, **kwargs)
    assert needle in str(info.value)


def test_model_limits_up_to_the_json_safe_int() -> None:
    model = Model("a", None, 2**53 - 1, 1)
    assert (model.name, model.max_length, model.token_limit) == ("a", 2**53 - 1, 1)


@pytest.mark.parametrize("cls", CLIENT_CLASSES)
def test_a_proxy_cannot_be_combined_with_an_http_client(
    cls: type[AuraClient] | type[AsyncAuraClient],
) -> None:
    http: httpx.Client | httpx.AsyncClient = (
        httpx.Client() if cls is AuraClient else httpx.AsyncClient()
    )
    with pytest.raises(AuraValidationError, match="proxy: not used with http_client"):
        cls(http_client=http, proxy="http://127.0.0.1:3128")  # type: ignore[arg-type]


def test_http_client_of_the_other_facade_is_refused_by_name() -> None:
    sync_http = httpx.Client()
    async_http = httpx.AsyncClient()
    with pytest.raises(AuraValidationError) as info:
        AsyncAuraClient(http_client=sync_http)  # type: ignore[arg-type]
    expected = "http_client: expected an httpx.AsyncClient or an httpx2.AsyncClient, or None"
    assert f"{expected}; got httpx.Client" in str(info.value)
    assert "AuraClient is the one that takes an httpx.Client" in str(info.value)
    with pytest.raises(AuraValidationError) as info:
        AuraClient(http_client=async_http)  # type: ignore[arg-type]
    expected = "http_client: expected an httpx.Client or an httpx2.Client, or None"
    assert f"{expected}; got httpx.AsyncClient" in str(info.value)
    sync_http.close()


# models(): its only argument is the call's timeout.
BAD_MODELS_CALLS: list[tuple[str, Any, str]] = [
    ("str", "1", "timeout: expected seconds as a number"),
    ("bool", True, "timeout: expected seconds as a number"),
    ("negative", -1, "timeout: expected a positive number"),
    ("nan", math.nan, "timeout: expected a positive number"),
]


@pytest.mark.parametrize(
    ("case", "timeout", "needle"), BAD_MODELS_CALLS, ids=[c[0] for c in BAD_MODELS_CALLS]
)
def test_sync_models_rejects_before_sending(
    server: AuraServer, case: str, timeout: Any, needle: str
) -> None:
    with AuraClient(base_url=server.base_url) as client:
        with pytest.raises(AuraValidationError) as info:
            client.models(timeout=timeout)
    assert needle in str(info.value)
    assert server.connections == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("case", "timeout", "needle"), BAD_MODELS_CALLS, ids=[c[0] for c in BAD_MODELS_CALLS]
)
async def test_async_models_rejects_before_sending(
    server: AuraServer, case: str, timeout: Any, needle: str
) -> None:
    async with AsyncAuraClient(base_url=server.base_url) as client:
        with pytest.raises(AuraValidationError) as info:
            await client.models(timeout=timeout)
    assert needle in str(info.value)
    assert server.connections == 0


# A model list the SDK could not use: the server's fault, not the caller's.
BAD_MODEL_LISTS = [
    (b'[{"id": ""}]', "item 0: Model.id: expected a non-empty model id"),
    (b'[{"id": "a\\ud800"}]', "item 0: Model.id: contains a lone surrogate"),
    (b'[{"id": "ok"}, {"id": "ok", "name": "\\udcff"}]', "item 1: Model.name: contains a lone"),
]


def _models_reply(body: bytes) -> Callable[[Peer], None]:
    def script(peer: Peer) -> None:
        peer.send(head(headers={"Content-Length": str(len(body))}, chunked=False) + body)

    return script


@pytest.mark.parametrize(("body", "needle"), BAD_MODEL_LISTS)
def test_sync_unusable_model_list_is_a_response_error(body: bytes, needle: str) -> None:
    with (
        hostile(_models_reply(body)) as server,
        AuraClient(base_url=server.base_url, max_retries=0, timeout=2) as client,
    ):
        with pytest.raises(APIResponseValidationError) as info:
            client.models()
    assert needle in str(info.value)


@pytest.mark.anyio
@pytest.mark.parametrize(("body", "needle"), BAD_MODEL_LISTS)
async def test_async_unusable_model_list_is_a_response_error(body: bytes, needle: str) -> None:
    with hostile(_models_reply(body)) as server:
        async with AsyncAuraClient(base_url=server.base_url, max_retries=0, timeout=2) as client:
            with pytest.raises(APIResponseValidationError) as info:
                await client.models()
    assert needle in str(info.value)
