"""Fault family: failures before the reply. Retried when it helps, never once text was handed out."""

from __future__ import annotations

from aura_sdk import (
    APIConnectionError,
    BadRequestError,
    ContextLengthError,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
    StreamInterruptedError,
)
from aura_sdk.server import Fault
from tests._harness import ANSWER, NO_WAIT, OK, Absent, Case, fault_tests


def status(code: int, reason: str, repeat: int = 1, retry_after: str | None = None) -> Fault:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return Fault(status=code, reason=reason, headers=headers, repeat=repeat)


CASES = [
    Case(
        "429-retry-after-0-then-ok",
        (status(429, "Too Many Requests", retry_after="0"), ANSWER),
        text=OK,
        retries=1,
        requests=2,
        max_retries=2,
    ),
    Case(
        "503-twice-then-ok",
        (status(503, "Service Unavailable", repeat=2), ANSWER),
        text=OK,
        retries=2,
        requests=3,
        max_retries=NO_WAIT,
    ),
    Case(
        "502-retries-run-out",
        (status(502, "Bad Gateway", repeat=3),),
        InternalServerError,
        message="502 Bad Gateway",
        retries=2,
        requests=3,
        max_retries=NO_WAIT,
    ),
    Case(
        "openchat-ui-rate-limit-500",
        (status(500, "Rate limit reached for requests"), ANSWER),
        text=OK,
        retries=1,
        requests=2,
        max_retries=NO_WAIT,
    ),
    Case(
        "openchat-ui-overloaded-500",
        (status(500, "The engine is currently overloaded"), ANSWER),
        text=OK,
        retries=1,
        requests=2,
        max_retries=NO_WAIT,
    ),
    Case(
        "plain-500-is-not-retried",
        (status(500, "Internal Server Error"),),
        InternalServerError,
        message="500 Internal Server Error",
        requests=1,
        max_retries=NO_WAIT,
    ),
    Case(
        "400-is-not-retried",
        (status(400, "Bad Request"),),
        BadRequestError,
        requests=1,
        max_retries=NO_WAIT,
    ),
    Case(
        "retry-after-over-the-cap-fails-at-once",
        (status(429, "Too Many Requests", retry_after="3600"),),
        RateLimitError,
        message="the server asked to wait 3600s",
        attrs={"retry_after": 3600.0},
        requests=1,
        max_retries=NO_WAIT,
    ),
    Case(
        "closed-before-status-then-ok",
        (Fault(close_before_status=True), ANSWER),
        text=OK,
        retries=1,
        requests=2,
        max_retries=NO_WAIT,
    ),
    Case(
        "closed-before-status-every-time",
        (Fault(close_before_status=True, repeat=3),),
        APIConnectionError,
        message="connection error",
        retries=2,
        requests=3,
        max_retries=NO_WAIT,
    ),
    Case(
        "drop-mid-stream-is-never-retried",
        (Fault(chunks=(b"Hel", b"lo"), drop_after=1),),
        StreamInterruptedError,
        text="Hel",
        requests=1,
        max_retries=NO_WAIT,
    ),
    Case(
        "zero-retries",
        (status(503, "Service Unavailable"),),
        InternalServerError,
        requests=1,
        max_retries=0,
    ),
    Case(
        "policy-with-more-statuses",
        (status(500, "Internal Server Error"), ANSWER),
        text=OK,
        retries=1,
        requests=2,
        max_retries=RetryPolicy(
            max_retries=1, backoff_base=0.01, statuses=frozenset({500, 502, 503, 504})
        ),
    ),
    # --- the openai dialect's errors inside a 200 ----------------------------------
    Case(
        "error-event-before-any-text-is-retried",
        # Nothing was handed out: retried as its code's status (429) would be.
        (
            Fault(
                error_event='{"message": "Rate limit reached for requests", "code": 429}',
                error_after=0,
            ),
            ANSWER,
        ),
        text=OK,
        retries=1,
        requests=2,
        max_retries=NO_WAIT,
        aura=Absent("openchat-ui's body is plain text: it has no events"),
    ),
    Case(
        "error-event-before-any-text-retries-run-out",
        (
            Fault(
                error_event='{"error": {"message": "overloaded", "type": "overloaded_error"}}',
                error_after=0,
                repeat=3,
            ),
        ),
        InternalServerError,
        text="",
        message="the server sent an error event before any text: overloaded",
        attrs={"status_code": 503},
        retries=2,
        requests=3,
        max_retries=NO_WAIT,
        aura=Absent("openchat-ui's body is plain text: it has no events"),
    ),
    Case(
        "error-event-before-any-text-not-retryable",
        (Fault(error_event='{"message": "bad things", "code": 400}', error_after=0),),
        BadRequestError,
        text="",
        message="the server sent an error event before any text: bad things (code 400)",
        requests=1,
        max_retries=NO_WAIT,
        aura=Absent("openchat-ui's body is plain text: it has no events"),
    ),
    Case(
        "error-event-after-text-is-never-retried",
        (
            Fault(
                error_event='{"message": "Rate limit reached for requests", "code": 429}',
                error_after=1,
            ),
        ),
        RateLimitError,
        message="the server sent an error event after",
        requests=1,
        max_retries=NO_WAIT,
        aura=Absent("openchat-ui's body is plain text: it has no events"),
    ),
    Case(
        "empty-200-stream-is-asked-about-unstreamed",
        # llama-cpp-python's overflow: a 200 with no event at all. The probe (the same
        # request, stream false, max_tokens 1) answers 200 here: an interruption, which
        # says so; on the pool of one connection (the stream's is given back first).
        (Fault(sse=()), ANSWER),
        StreamInterruptedError,
        text="",
        message="asked again without streaming (max_tokens 1), the server answered 200",
        requests=2,
        max_retries=NO_WAIT,
        aura=Absent("openchat-ui's body is plain text: an empty one is an empty reply"),
    ),
    Case(
        "context-overflow-200-array",
        # OpenChat answers 200 with [[prompt token ids], {"status_code": 400, ...}]:
        # the error inside it, never the ids (the prompt "Hi" is the one id 177).
        (Fault(),),
        ContextLengthError,
        message="maximum context length is 8192 tokens",
        hidden=("[177]", "[[177"),  # not a bare "177": the port may hold one
        attrs={"status_code": 400},
        call={"max_tokens": 8192},
        max_retries=NO_WAIT,
        aura=Absent("openchat-ui has no max_tokens: the aura dialect refuses it"),
    ),
]


test_sync, test_async, test_table = fault_tests(CASES)
