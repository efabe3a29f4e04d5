"""Error classification from status, reason phrase and body."""

from __future__ import annotations

import pytest

from aura_sdk import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    UnprocessableEntityError,
)
from aura_sdk._status import status_error

CASES: list[tuple[int, str, str, type[APIStatusError], str]] = [
    # openchat-ui: every failure is a 500 with body "Error"; the reason phrase tells.
    (
        500,
        "Rate limit reached for requests",
        "Error",
        RateLimitError,
        "500 Rate limit reached for requests",
    ),
    (
        500,
        "Incorrect API key provided: sk-***.",
        "Error",
        AuthenticationError,
        "500 Incorrect API key provided: sk-***.",
    ),
    (500, "Internal Server Error", "Error", InternalServerError, "500 Internal Server Error"),
    (500, "You exceeded your current quota", "Error", RateLimitError, "quota"),
    (500, "Unauthorized", "Error", AuthenticationError, "500 Unauthorized"),
    # /api/models copies the upstream's 401 JSON body into a 500
    (
        500,
        "Internal Server Error",
        '{"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}',
        AuthenticationError,
        "500 Internal Server Error: Incorrect API key provided",
    ),
    # other deployments send real statuses
    (400, "Bad Request", "", BadRequestError, "400 Bad Request"),
    (401, "Unauthorized", "", AuthenticationError, "401"),
    (403, "Forbidden", "", PermissionDeniedError, "403"),
    (404, "Not Found", "", NotFoundError, "404"),
    (408, "Request Timeout", "", RequestTimeoutError, "408"),
    (409, "Conflict", "", ConflictError, "409"),
    (422, "Unprocessable Entity", "", UnprocessableEntityError, "422"),
    (429, "Too Many Requests", "", RateLimitError, "429"),
    (502, "Bad Gateway", "<html>gw</html>", InternalServerError, "502 Bad Gateway"),
    (503, "Service Unavailable", "", InternalServerError, "503"),
    (504, "Gateway Timeout", "", InternalServerError, "504"),
    (418, "I'm a teapot", "short", APIStatusError, "418 I'm a teapot: short"),
    # a 400 that talks about keys stays a 400: only openchat-ui's 500s are reread
    (400, "bad api key format", "", BadRequestError, "400"),
]


@pytest.mark.parametrize(("status", "reason", "body", "cls", "text"), CASES)
def test_classification(
    status: int, reason: str, body: str, cls: type[APIStatusError], text: str
) -> None:
    error = status_error(status, reason, body)
    assert type(error) is cls
    assert text in str(error)
    assert (error.status_code, error.reason) == (status, reason)
    assert error.body == body


def test_key_is_redacted_from_reason_and_body() -> None:
    error = status_error(
        500, "Bad key sk-live-123", '{"error": "sk-live-123 is wrong"}', secret="sk-live-123"
    )
    assert "sk-live-123" not in str(error)
    assert "sk-live-123" not in error.reason
    assert "sk-live-123" not in error.body


def test_long_error_body_is_capped() -> None:
    error = status_error(502, "Bad Gateway", "x" * 1_000_000)
    assert len(error.body) == 64 * 1024
    assert len(str(error)) < 100
