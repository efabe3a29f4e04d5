"""The one exception tree of aura-sdk.

Every error a public call raises is an ``AuraError``; no raw httpx or anyio
exception escapes. The tree::

    AuraError
    ├── AuraValidationError (also ValueError)  bad input, raised before anything is sent
    ├── AuraUsageError (also RuntimeError)     misuse, e.g. an async client used from a second event loop
    ├── AuraDecodeError (also ValueError)      invalid UTF-8 with errors="strict"
    └── APIError                               something went wrong talking to the server
        ├── APIConnectionError                 no usable response: DNS, refused, reset, TLS, ...
        │   ├── APITimeoutError                a time limit fired (``.limit``, ``.seconds``)
        │   └── StreamInterruptedError         the body broke off after text arrived (``.text``)
        │       ├── StreamTimeoutError         ... because the server went quiet (also APITimeoutError)
        │       └── ResponseTooLargeError      ... because it passed ``max_response_bytes``
        ├── APIResponseValidationError         a success answer whose body makes no sense
        └── APIStatusError                     the server answered with an error status
            ├── BadRequestError                400
            │   └── ContextLengthError         ... the prompt does not fit the context
            ├── AuthenticationError            401, or an openchat-ui 500 about the API key
            ├── PermissionDeniedError          403
            ├── NotFoundError                  404
            ├── RequestTimeoutError            408
            ├── ConflictError                  409
            ├── UnprocessableEntityError       422
            ├── RateLimitError                 429, or an openchat-ui 500 saying "rate limit"
            └── InternalServerError            any other 5xx

The split follows h11: ``AuraValidationError`` is *local* (the caller misused the
SDK, nothing was sent); everything under ``APIError`` is *remote*.

openchat-ui answers every failure with ``500`` and body ``Error``, putting the
upstream message in the HTTP reason phrase, so ``str()`` of a status error always
shows the reason phrase: ``500 Rate limit reached for requests``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuraDecodeError",
    "AuraError",
    "AuraUsageError",
    "AuraValidationError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ContextLengthError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseTooLargeError",
    "StreamInterruptedError",
    "StreamTimeoutError",
    "TimeoutLimit",
    "UnprocessableEntityError",
]

TimeoutLimit = Literal["connect", "response", "read", "write", "pool", "total", "text"]
"""Which time limit fired: see ``aura_sdk.Timeout``."""


class AuraError(Exception):
    """Base class of every error raised by aura-sdk.

    ``str()`` is the message; ``repr()`` adds the fields that say what happened
    (status, limit, how much text arrived, retries), never the text itself.
    """

    def __repr__(self) -> str:
        from ._secrets import scrub  # the message is scrubbed when raised; again, to be sure

        fields = [f"message={scrub(str(self))!r}"]
        for name in ("status_code", "reason", "limit", "seconds", "position"):
            if name in vars(self):
                fields.append(f"{name}={getattr(self, name)!r}")
        text = getattr(self, "text", "")
        if text:  # its length only: a reply may quote anything
            fields.append(f"text=<{len(text)} chars>")
        truncated = getattr(self, "truncated", b"")
        if truncated:
            fields.append(f"truncated=<{len(truncated)} bytes>")
        retries = getattr(self, "retries", 0)
        if retries:
            fields.append(f"retries={retries}")
        return f"{type(self).__name__}({', '.join(fields)})"


class AuraValidationError(AuraError, ValueError):
    """The caller passed bad input; nothing was sent.

    The message names the bad item, e.g. ``messages[2].role: expected one of
    'system', 'user', 'assistant', got 'bot'``.
    """


class AuraUsageError(AuraError, RuntimeError):
    """The SDK was used in a way it cannot support, e.g. an ``AsyncAuraClient``
    used from a second event loop (its connections belong to the first).
    """


class AuraDecodeError(AuraError, ValueError):
    """The server sent bytes that are not valid UTF-8 (only with ``errors="strict"``).

    ``text`` is what was decoded before the bad bytes, ``position`` their offset
    in the whole body.
    """

    def __init__(self, message: str, *, text: str = "", position: int = 0) -> None:
        """``message`` is ``str()``; ``text`` and ``position`` as above."""
        super().__init__(message)
        self.text = text
        self.position = position


class APIError(AuraError):
    """Something went wrong talking to the server.

    ``retries`` counts the retries taken before giving up; ``text`` holds the
    reply text received before the error ("" when it came before any);
    ``method`` and ``url`` name the request (its URL's password masked), and
    so does the message: ``... (POST http://127.0.0.1:8000/api/chat, after 2
    retries)``. Both are ``None`` on an error made by hand. ``request_id``: the
    server's ``x-request-id`` (or ``request-id``) header of the response the
    error came with or after, also named in the message (support desks ask for
    it); ``None`` when there was none.
    """

    retries: int = 0
    text: str = ""
    method: str | None = None
    url: str | None = None
    request_id: str | None = None


class APIConnectionError(APIError):
    """No usable answer: the connection failed, was refused, reset or broke.

    ``text`` holds the reply text received before the failure ("" when the
    failure came before the body).
    """

    def __init__(self, message: str = "Connection error.", *, text: str = "") -> None:
        """``message`` is ``str()``; ``text`` the reply text received before the failure."""
        super().__init__(message)
        self.text = text


class APITimeoutError(APIConnectionError):
    """A time limit fired. ``limit`` says which one, ``seconds`` how long it was."""

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        limit: TimeoutLimit = "read",
        seconds: float | None = None,
        text: str = "",
    ) -> None:
        """``message`` is ``str()``; ``limit`` and ``seconds`` say which limit fired
        and how long it was; ``text`` the reply text received before it did."""
        super().__init__(message, text=text)
        self.limit: TimeoutLimit = limit
        self.seconds = seconds


class StreamInterruptedError(APIConnectionError):
    """The reply broke off mid-body (connection dropped, reset, or response too short).

    ``text`` is every character received before the cut; ``truncated`` holds the
    bytes of a multibyte character that the cut split (b"" if none), which are
    reported here rather than silently dropped.
    """

    def __init__(self, message: str, *, text: str = "", truncated: bytes = b"") -> None:
        """``message`` is ``str()``; ``text`` and ``truncated`` as above."""
        super().__init__(message, text=text)
        self.truncated = truncated


class ResponseTooLargeError(StreamInterruptedError):
    """The reply passed the client's ``max_response_bytes``; the SDK cut it off.

    ``text`` holds what was received up to the limit.
    """


class StreamTimeoutError(StreamInterruptedError, APITimeoutError):
    """The server went quiet mid-reply for longer than the read limit.

    The real openchat-ui server does this when its upstream drops mid-stream:
    it never sends the terminating chunk. Catch it as either parent.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: TimeoutLimit = "read",
        seconds: float | None = None,
        text: str = "",
        truncated: bytes = b"",
    ) -> None:
        """``message`` is ``str()``; ``limit`` and ``seconds`` as for ``APITimeoutError``,
        ``text`` and ``truncated`` as for ``StreamInterruptedError``."""
        APITimeoutError.__init__(self, message, limit=limit, seconds=seconds, text=text)
        self.truncated = truncated


class APIResponseValidationError(APIError):
    """The server answered with success, but the body is not what the protocol says.

    ``body`` holds the start of what arrived.
    """

    def __init__(self, message: str, *, body: str = "") -> None:
        """``message`` is ``str()``; ``body`` the start of the body that arrived."""
        super().__init__(message)
        self.body = body


class APIStatusError(APIError):
    """The server answered with an error status.

    ``status_code`` and ``reason`` come from the status line (openchat-ui puts the
    upstream's message in the reason phrase), ``body`` is the response text and
    ``response`` the ``httpx.Response``; ``retry_after`` the seconds of its
    ``Retry-After`` header, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        reason: str,
        body: str,
        response: httpx.Response | None = None,
        retry_after: float | None = None,
    ) -> None:
        """``message`` is ``str()``; ``status_code``, ``reason``, ``body``,
        ``response`` and ``retry_after`` as above. The SDK makes these; a test
        may too: ``RateLimitError("429", status_code=429, reason="", body="")``."""
        super().__init__(message)
        self.status_code = status_code
        self.reason = reason
        self.body = body
        self.response = response
        self.retry_after = retry_after
        """Seconds the server asked to wait (``Retry-After``), if it said."""


class BadRequestError(APIStatusError):
    """400 Bad Request."""


class ContextLengthError(BadRequestError):
    """The conversation (plus ``max_tokens``) does not fit the model's context.

    A 400 that says so, or OpenChat's ``200`` answer holding that 400 (its
    server's overflow bug), or an error event saying so inside a stream; the
    message is the server's own. ``n_prompt_tokens`` and ``n_ctx``: the prompt's
    size and the context's, in tokens, when the server says (llama.cpp's
    ``exceed_context_size_error``); else ``None``.
    """

    n_prompt_tokens: int | None = None
    n_ctx: int | None = None


class AuthenticationError(APIStatusError):
    """401, or an openchat-ui 500 whose reason phrase is about the API key."""


class PermissionDeniedError(APIStatusError):
    """403 Forbidden."""


class NotFoundError(APIStatusError):
    """404 Not Found: often a wrong ``base_url``."""


class RequestTimeoutError(APIStatusError):
    """408 Request Timeout."""


class ConflictError(APIStatusError):
    """409 Conflict."""


class UnprocessableEntityError(APIStatusError):
    """422 Unprocessable Entity."""


class RateLimitError(APIStatusError):
    """429, or an openchat-ui 500 whose reason phrase says "rate limit"."""


class InternalServerError(APIStatusError):
    """Any other 5xx: an outage, or (openchat-ui) often a request it could not handle."""
