"""Retry decisions: what is retried, and how long to wait."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from aura_sdk import (
    APIConnectionError,
    APITimeoutError,
    AuraDecodeError,
    AuraError,
    AuraValidationError,
    StreamInterruptedError,
    StreamTimeoutError,
)
from aura_sdk._retry import RetryPolicy, parse_retry_after
from aura_sdk._status import status_error

NO_JITTER = RetryPolicy(max_retries=3, backoff_base=0.5, backoff_cap=8.0, jitter=0.0)


def status(code: int, reason: str = "", headers: dict[str, str] | None = None) -> AuraError:
    response = httpx.Response(code, headers=headers)
    return status_error(
        code, reason, "Error", response=response, retry_after=response.headers.get("retry-after")
    )


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (APIConnectionError("refused"), True),
        (APITimeoutError("connect timeout", limit="connect"), True),
        (APITimeoutError("read timeout", limit="read"), True),
        (StreamInterruptedError("cut", text="x"), False),
        (StreamTimeoutError("quiet", text="x"), False),
        (AuraValidationError("bad"), False),
        (AuraDecodeError("bad"), False),
        (status(408), True),
        (status(409), True),
        (status(429), True),
        (status(502), True),
        (status(503), True),
        (status(504), True),
        (status(500, "Rate limit reached for requests"), True),
        (status(500, "The server is overloaded"), True),
        (status(500, "Internal Server Error"), False),
        (status(500, "Incorrect API key provided"), False),
        (status(400), False),
        (status(401), False),
        (status(404), False),
        (status(422), False),
    ],
)
def test_what_is_retried(error: AuraError, retried: bool) -> None:
    assert NO_JITTER.is_retryable(error) is retried
    assert (NO_JITTER.delay(0, error) is not None) is retried


def test_backoff_doubles_up_to_the_cap_and_stops_at_max() -> None:
    policy = RetryPolicy(max_retries=6, backoff_base=1.0, backoff_cap=4.0, jitter=0.0)
    error = APIConnectionError()
    assert [policy.delay(n, error) for n in range(7)] == [1.0, 2.0, 4.0, 4.0, 4.0, 4.0, None]


def test_jitter_only_shortens() -> None:
    policy = RetryPolicy(backoff_base=1.0, jitter=0.5)
    assert policy.delay(0, APIConnectionError(), rand=lambda: 1.0) == 0.5
    assert policy.delay(0, APIConnectionError(), rand=lambda: 0.0) == 1.0


def test_zero_retries_never_retries() -> None:
    assert RetryPolicy(max_retries=0).delay(0, APIConnectionError()) is None


def test_retry_after_seconds_and_cap() -> None:
    assert NO_JITTER.delay(0, status(429, headers={"Retry-After": "3"})) == 3.0
    assert NO_JITTER.delay(0, status(503, headers={"Retry-After": "3600"})) is None


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30.0)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds
