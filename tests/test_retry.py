"""Retry decisions: what is retried, and how long to wait."""

from __future__ import annotations

import email.utils
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aura_sdk import (
    APIConnectionError,
    APITimeoutError,
    AsyncAuraClient,
    AuraClient,
    AuraDecodeError,
    AuraError,
    AuraValidationError,
    RateLimitError,
    StreamInterruptedError,
    StreamTimeoutError,
    user,
)
from aura_sdk._dialects import DialectName
from aura_sdk._retry import RetryPolicy, parse_retry_after
from aura_sdk._retry_after import MAX_RETRY_AFTER, parse_retry_after_ms
from aura_sdk._status import status_error
from aura_sdk.server import AuraServer, Fault
from tests._examples import examples

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


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("9" * 400, MAX_RETRY_AFTER),  # huge digits: more than any cap, not an overflow
        ("9" * 100_000, MAX_RETRY_AFTER),
        ("-" + "9" * 400, 0.0),
        ("1E10", None),  # not delay-seconds
        ("1e400", None),  # float() would say inf
        ("inf", None),
        ("-inf", None),
        ("Infinity", None),
        ("0x10", None),
        ("1_0", None),  # float() would say 10
        ("\u0661\u0662", None),  # Arabic-Indic 12: float() would say 12
        ("\uff11", None),  # fullwidth 1
        ("3\x00", None),
        ("  7  ", 7.0),
        ("+5", 5.0),
        ("Sat, 01 Jan 0001 00:00:00 -0000", 0.0),  # far past (and no zone: UTC)
        ("Mon, 01 Jan 0001 00:00:00 +2359", 0.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),  # far future: capped
        ("Fri, 31 Dec 9999 23:59:59 -0000", MAX_RETRY_AFTER),
        ("Fri, 31 Dec 99999 23:59:59 GMT", None),  # no such year
        ("Fri, 31 Dec 9999 23:59:59 +9999", None),  # no such zone
        ("Tue, 14 Nov 2023 22:13:50 GMT", 30.0),
        ("Tue, 14 Nov 2023 22:13:50 " + "x" * 100, None),
        ("Tue, 99 Nov 2023 22:13:50 GMT", None),
        ("\u00e9t\u00e9", None),
        ("garbage", None),
    ],
)
def test_retry_after_any_header(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == (
        None if seconds is None else pytest.approx(seconds)
    )


DATES = st.from_regex(
    r"\A[A-Za-z]{3}, [0-9]{1,2} [A-Za-z]{3} -?[0-9]{1,6} [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?"
    r" ?([+-][0-9]{4}|GMT|UT|EST|-0000|[A-Z])?\Z"
)
NUMBERS = st.one_of(st.floats(), st.integers()).map(str)
HEADERS = st.one_of(st.text(), DATES, NUMBERS, st.binary().map(lambda b: b.decode("latin-1")))


@settings(max_examples=examples(500), deadline=None)
@given(HEADERS, st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_retry_after_never_raises_and_is_bounded(value: str, now: float) -> None:
    seconds = parse_retry_after(value, now=now)
    assert seconds is None or 0.0 <= seconds <= MAX_RETRY_AFTER


@settings(max_examples=examples(200), deadline=None)
@given(HEADERS)
def test_status_error_with_any_retry_after(value: str) -> None:
    error = status_error(503, "Service Unavailable", "Error", retry_after=value)
    assert error.retry_after is None or 0.0 <= error.retry_after <= MAX_RETRY_AFTER
    assert "inf" not in str(error)
    delay = NO_JITTER.delay(0, error)
    assert delay is None or 0.0 <= delay <= NO_JITTER.retry_after_cap


@pytest.mark.parametrize(
    "kwargs",
    [
        {"backoff_base": 1e300},
        {"backoff_base": math.inf},
        {"backoff_base": 10**400},
        {"backoff_cap": 1e12},
        {"backoff_cap": math.nan},
        {"retry_after_cap": math.inf},
        {"retry_after_cap": -1},
        {"backoff_base": True},
        {"backoff_base": "1"},
        {"backoff_cap": Decimal("1")},
        {"jitter": "0.5"},
        {"jitter": 1j},
        {"jitter": math.nan},
        {"jitter": True},
        {"jitter": 2},
        {"max_retries": 1.5},
        {"max_retries": True},
    ],
    ids=lambda v: repr(v)[:40],
)
def test_retry_policy_that_would_overflow_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(AuraValidationError, match="retr"):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize("retries_taken", [0, 63, 64, 999])
def test_backoff_never_overflows(retries_taken: int) -> None:
    # The largest policy RetryPolicy admits (1000 retries, a day's backoff).
    policy = RetryPolicy(max_retries=1000, backoff_base=86400, backoff_cap=86400, jitter=1.0)
    delay = policy.delay(retries_taken, APIConnectionError(), rand=lambda: 0.5)
    assert delay is not None
    assert 0.0 <= delay <= 86400


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("250", 0.25),
        (" 1500 ", 1.5),
        ("0", 0.0),
        ("-5", 0.0),
        ("1e3", None),
        ("inf", None),
        ("", None),
        (None, None),
        ("\u0661\u0662", None),  # Arabic-Indic digits: not ASCII
        ("9" * 400, MAX_RETRY_AFTER),
    ],
)
def test_parse_retry_after_ms(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after_ms(value) == seconds


# On a real server: the finer header wins; one that is not a number leaves Retry-After.
RETRY_HEADERS = [
    ({"retry-after-ms": "250", "Retry-After": "7"}, 0.25),
    ({"retry-after-ms": "soon", "Retry-After": "7"}, 7.0),
]
retry_headers = pytest.mark.parametrize(("headers", "expected"), RETRY_HEADERS)
dialects = pytest.mark.parametrize("dialect", ["aura", "openai"])


def too_many(headers: dict[str, str]) -> Fault:
    return Fault(status=429, reason="Too Many Requests", headers=headers)


@dialects
@retry_headers
def test_sync_retry_after_ms_comes_first(
    aura_server_factory: Callable[..., AuraServer],
    dialect: DialectName,
    headers: dict[str, str],
    expected: float,
) -> None:
    server = aura_server_factory(dialect=dialect)
    server.script(too_many(headers))
    with AuraClient(base_url=server.base_url, dialect=dialect, max_retries=0) as client:
        with pytest.raises(RateLimitError) as info:
            client.chat([user("hi")])
    assert info.value.retry_after == pytest.approx(expected)


@pytest.mark.anyio
@dialects
@retry_headers
async def test_async_retry_after_ms_comes_first(
    aura_server_factory: Callable[..., AuraServer],
    dialect: DialectName,
    headers: dict[str, str],
    expected: float,
) -> None:
    server = aura_server_factory(dialect=dialect)
    server.script(too_many(headers))
    async with AsyncAuraClient(base_url=server.base_url, dialect=dialect, max_retries=0) as client:
        with pytest.raises(RateLimitError) as info:
            await client.chat([user("hi")])
    assert info.value.retry_after == pytest.approx(expected)
