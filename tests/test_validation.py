"""Every validation rule: a clear AuraValidationError naming the bad item, nothing sent."""

from __future__ import annotations

import math
from typing import Any

import pytest

from aura_sdk import (
    AsyncAuraClient,
    AuraClient,
    AuraError,
    AuraValidationError,
    Timeout,
    chat_body,
    user,
)
from aura_sdk.server import AuraServer

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
    assert server.requests == []


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
    assert server.requests == []


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
    from aura_sdk import RetryPolicy

    with pytest.raises(AuraValidationError, match=needle):
        RetryPolicy(**kwargs)
