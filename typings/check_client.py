"""Static type tests for the public API: type-checked by mypy --strict, never run.

Each ``# type: ignore[code]`` marks a line that must be rejected; with
``warn_unused_ignores`` on, a line that starts to type-check fails the check.
"""

from __future__ import annotations

from collections.abc import Awaitable

import httpx
from typing_extensions import assert_type

import aura_sdk
from aura_sdk import (
    APIStatusError,
    APITimeoutError,
    AsyncAuraClient,
    AsyncStream,
    AuraClient,
    AuraUsageError,
    Message,
    Model,
    ResponseTooLargeError,
    RetryPolicy,
    Stream,
    StreamInterruptedError,
    Timeout,
    TimeoutLimit,
    assistant,
    system,
    user,
)


def sync_usage() -> None:
    client = AuraClient(base_url="http://127.0.0.1:8000", timeout=Timeout(read=30))
    assert_type(client, AuraClient)
    messages: list[Message] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    stream = client.stream(messages)
    assert_type(stream, Stream)
    for chunk in stream:
        assert_type(chunk, str)
    with client.stream([user("Hi")], temperature=0.2, max_tokens=64, system="S") as s:
        assert_type(s.text, str)
        assert_type(s.status_code, "int | None")
    assert_type(client.chat([system("S"), user("Hi"), assistant("Hello"), user("Again")]), str)
    assert_type(client.models(), list[Model])
    with AuraClient(timeout=30.0) as other:
        assert_type(other, AuraClient)


async def async_usage() -> None:
    async with AsyncAuraClient() as client:
        assert_type(client, AsyncAuraClient)
        stream = client.stream([user("Hi")])
        assert_type(stream, AsyncStream)
        async for chunk in stream:
            assert_type(chunk, str)
        awaitable: Awaitable[str] = client.chat([user("Hi")])
        assert_type(await awaitable, str)
        assert_type(await client.chat([user("Hi")], system="S"), str)
        assert_type(await client.models(), list[Model])
        async with client.stream([user("Hi")]) as s:
            assert_type(s.text, str)


def reliability() -> None:
    policy = RetryPolicy(max_retries=5, backoff_base=0.2, retry_after_cap=30.0)
    client = AuraClient(
        timeout=Timeout(connect=5, response=30, read=20, total=120),
        max_retries=policy,
        max_response_bytes=None,
    )
    assert_type(client.chat([user("Hi")], timeout=10), str)
    assert_type(client.chat([user("Hi")], timeout=Timeout(total=5)), str)
    assert_type(client.models(timeout=3.0), list[Model])
    try:
        client.chat([user("Hi")])
    except ResponseTooLargeError as exc:
        assert_type(exc.text, str)
    except APITimeoutError as exc:
        assert_type(exc.limit, TimeoutLimit)
        assert_type(exc.seconds, "float | None")
    except AuraUsageError:
        pass
    AuraClient(max_retries="2")  # type: ignore[arg-type]
    Timeout(total="1")  # type: ignore[arg-type]


def errors() -> None:
    try:
        AuraClient().chat([user("Hi")])
    except StreamInterruptedError as exc:
        assert_type(exc.text, str)
        assert_type(exc.truncated, bytes)
    except APIStatusError as exc:
        assert_type(exc.status_code, int)
        assert_type(exc.reason, str)
    except aura_sdk.AuraError:
        pass


def rejected() -> None:
    client = AuraClient()
    # A wrong role is a type error, in a literal and in an annotated list.
    client.chat([{"role": "bot", "content": "Hi"}])  # type: ignore[typeddict-item]
    bad: list[Message] = [{"role": "robot", "content": "x"}]  # type: ignore[typeddict-item]
    # Content must be a str.
    client.chat([{"role": "user", "content": 1}])  # type: ignore[typeddict-item]
    user(1)  # type: ignore[arg-type]
    # An unannotated list is inferred as list[dict[str, str]]: annotate it, or use user(...).
    untyped = [{"role": "user", "content": "Hi"}]
    client.chat(untyped)  # type: ignore[arg-type]
    client.chat("Hi")  # type: ignore[arg-type]
    client.chat([user("Hi")], temperature="hot")  # type: ignore[arg-type]
    client.chat([user("Hi")], max_tokens=1.5)  # type: ignore[arg-type]
    client.chat([user("Hi")], errors="ignore")  # type: ignore[arg-type]
    AuraClient("http://localhost")  # type: ignore[call-arg]
    AuraClient(timeout=None)  # type: ignore[arg-type]
    AsyncAuraClient(http_client=httpx.Client())  # type: ignore[arg-type]
    for _chunk in AsyncAuraClient().stream([user("Hi")]):  # type: ignore[attr-defined]
        pass
    del bad


def options() -> None:
    client = AuraClient()
    patient = client.with_options(timeout=300, max_retries=5, headers={"X-A": "1"})
    assert_type(patient, AuraClient)
    assert_type(client.with_options(max_retries=RetryPolicy(1), api_key="sk-1"), AuraClient)
    assert_type(client.with_options(), AuraClient)
    assert_type(AsyncAuraClient().with_options(timeout=Timeout(read=5)), AsyncAuraClient)
    assert_type(client.chat([user("Hi")], max_retries=0), str)
    assert_type(client.stream([user("Hi")], max_retries=None), Stream)
    assert_type(client.models(max_retries=3), list[Model])
    try:
        client.chat([user("Hi")])
    except aura_sdk.APIError as exc:
        assert_type(exc.method, "str | None")
        assert_type(exc.url, "str | None")
    client.with_options(max_retries="2")  # type: ignore[arg-type]
    client.with_options(timeout="30")  # type: ignore[arg-type]
    client.with_options(model="x")  # type: ignore[call-arg]
    client.with_options(30)  # type: ignore[call-arg]
    client.chat([user("Hi")], max_retries=1.5)  # type: ignore[arg-type]
    client.models(max_retries="1")  # type: ignore[arg-type]
