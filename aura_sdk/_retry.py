"""Retry decisions: whether a failed attempt is tried again, and after how long.

Only failures before the reply's first byte are ever retried (the facades call
this before handing out any text), so a retry never duplicates output.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuraError,
    AuraValidationError,
    RateLimitError,
    StreamInterruptedError,
)
from ._logs import logger
from ._retry_after import parse_retry_after
from ._secrets import MASK, scrub
from ._timeouts import Budget
from ._validation import (
    check_count,
    check_iterable_ints,
    check_seconds,
    is_int,
    is_real,
    redact_url,
    show,
)

__all__ = ["Attempts", "RetryPolicy", "check_retries", "parse_retry_after"]

RETRY_STATUSES = frozenset((408, 409, 429, 502, 503, 504))
MAX_RETRIES = 1000
"""More retries than this is a loop, not a policy (bound it with ``Timeout(total=...)``)."""
MAX_WAIT = 86400.0
"""The longest wait a policy may ask for, in seconds (a day)."""
_OVERLOAD_WORDS = ("overload", "capacity", "try again later", "temporarily unavailable")


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    Retried: connection failures and timeouts before the status line;
    408/409/429/502/503/504; a 500 whose reason phrase says rate limit or
    overload. A plain openchat-ui ``500 Internal Server Error`` is usually a
    bad request and is not retried. Backoff doubles from ``backoff_base`` up to
    ``backoff_cap``, less up to ``jitter`` of it at random; a ``Retry-After``
    header is honoured up to ``retry_after_cap`` seconds.

    Checked when made: ``max_retries`` an int from 0 to 1000; the seconds finite
    numbers from 0 to 86400; ``jitter`` from 0 to 1; ``statuses`` ints from 300
    to 599 (any iterable, kept as a frozenset).
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    jitter: float = 0.25
    retry_after_cap: float = 60.0
    statuses: frozenset[int] = field(default=RETRY_STATUSES)

    def __post_init__(self) -> None:
        # Every field is checked, and normalised (seconds as floats, the statuses
        # as a frozenset, so that the policy stays hashable).
        count = check_count("max_retries", self.max_retries, 0, MAX_RETRIES)
        object.__setattr__(self, "max_retries", count)
        for name in ("backoff_base", "backoff_cap", "retry_after_cap"):
            seconds = check_seconds(f"retry.{name}", getattr(self, name), MAX_WAIT)
            object.__setattr__(self, name, seconds)
        if not is_real(self.jitter) or not 0 <= self.jitter <= 1:
            raise AuraValidationError(f"retry.jitter: expected 0 to 1, got {show(self.jitter)}")
        object.__setattr__(self, "jitter", float(self.jitter))
        statuses = check_iterable_ints("retry.statuses", self.statuses, 300, 599)
        object.__setattr__(self, "statuses", statuses)

    def is_retryable(self, error: AuraError) -> bool:
        """Whether ``error`` is worth another attempt (however many were taken)."""
        if isinstance(error, StreamInterruptedError):
            return False
        if isinstance(error, APIConnectionError):
            return True
        if not isinstance(error, APIStatusError):
            return False
        if error.status_code in self.statuses or isinstance(error, RateLimitError):
            return True
        reason = error.reason.lower()
        return error.status_code >= 500 and any(word in reason for word in _OVERLOAD_WORDS)

    def delay(
        self,
        retries_taken: int,
        error: AuraError,
        *,
        rand: Callable[[], float] = random.random,
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now.

        Args:
            retries_taken: how many retries were already taken for this request.
            error: why the last attempt failed.
            rand: a source of random numbers in [0, 1), for the jitter.
        """
        if retries_taken >= self.max_retries or not self.is_retryable(error):
            return None
        retry_after = error.retry_after if isinstance(error, APIStatusError) else None
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_cap else None
        # 2.0**1024 overflows: past 2**64 the cap has long been reached anyway.
        backoff = min(self.backoff_cap, self.backoff_base * 2.0 ** min(retries_taken, 64))
        return backoff * (1.0 - self.jitter * rand())


def check_retries(max_retries: object) -> int | None:
    """A call's ``max_retries``: ``None`` (the client's), or an int from 0 to 1000."""
    if max_retries is None:
        return None
    return check_count("max_retries", max_retries, 0, MAX_RETRIES)


def to_policy(max_retries: object) -> RetryPolicy:
    """A client's ``max_retries``: a count or a whole ``RetryPolicy``, checked."""
    if isinstance(max_retries, RetryPolicy):
        return max_retries
    if is_int(max_retries):
        return RetryPolicy(max_retries)  # type: ignore[arg-type]  # checked there
    raise AuraValidationError(
        f"max_retries: expected an int or a RetryPolicy, got {type(max_retries).__name__}"
    )


def with_retries(policy: RetryPolicy, max_retries: int | None) -> RetryPolicy:
    """``policy`` with another count (a call's own ``max_retries``), its backoff kept."""
    if max_retries is None or max_retries == policy.max_retries:
        return policy
    return replace(policy, max_retries=max_retries)


class Attempts:
    """Drives the attempts of one request: the facades' retry loop, without the I/O.

    ::

        attempts = Attempts(policy, budget, "POST", url)
        while True:
            attempts.start()                       # raises once the total deadline has passed
            try: ... send; attempts.received(status, headers); on success: return response
            except transport error: error = ...
            sleep(attempts.failed(error))          # raises the error when it is final

    Every error it raises, and every error of the reply it hands to ``annotate``,
    names the request and the retries taken: ``... (POST http://h/api/chat, after
    2 retries)``, the URL's password masked. ``hint``: what to add to a connection
    error (where the default ``base_url`` points, and how to set another).
    """

    __slots__ = (
        "_budget",
        "_hint",
        "_method",
        "_policy",
        "_started",
        "_url",
        "request_id",
        "retries",
    )

    def __init__(
        self, policy: RetryPolicy, budget: Budget, method: str, url: str, *, hint: str = ""
    ) -> None:
        self._policy = policy
        self._budget = budget
        self._method = method
        self._url = redact_url(url)  # for the log and errors: never a URL's password
        self._hint = hint
        self._started = time.monotonic()
        self.retries = 0
        self.request_id: str | None = None
        """The request id of the last response head (``received``), if it had one."""

    def start(self) -> None:
        """Before each attempt: fail if the total deadline has already passed."""
        self.request_id = None
        if self._budget.expired():
            total = self._budget.timeout.total
            error = APITimeoutError(f"total timeout after {total:g}s", limit="total", seconds=total)
            raise self.annotate(error)

    def annotate(self, error: APIError, *, midway: bool = False) -> APIError:
        """``error`` (raised by this request) made to name it: method, URL, retries taken.

        ``midway``: it came after the response's head (a cut, an error event), which
        is never retried; only retries taken before it are named. Once only: a
        second call leaves it as it is.
        """
        if error.url is not None:
            return error
        error.retries = self.retries
        error.method = self._method
        error.url = url = scrub(self._url)
        retries = f"{self.retries} {'retry' if self.retries == 1 else 'retries'}"
        if midway:
            taken = f", after {retries}" if self.retries else ""
        else:
            taken = f", after {retries}" if self.retries else ", not retried"
        note = f"{self._method} {url}{taken}"
        if self.request_id is not None:
            error.request_id = self.request_id
            note += f", request id {self.request_id}"
        hint = self._hint if _unreachable(error) else ""
        error.args = (f"{error} ({note}){hint}", *error.args[1:])
        return error

    def failed(self, error: APIError) -> float:
        """Seconds to wait before the next attempt; raises ``error`` if there is none."""
        delay = self._policy.delay(self.retries, error)
        if delay is None or not self._budget.fits(delay):
            logger.info(
                "%s %s failed after %d retries: %s", self._method, self._url, self.retries, error
            )
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s: given up, %s", self._method, self._url, self._why_final(error, delay)
                )
            raise self.annotate(error)
        self.retries += 1
        logger.info(
            "%s %s failed (%s); retry %d of %d in %.2fs",
            self._method,
            self._url,
            error,
            self.retries,
            self._policy.max_retries,
            delay,
        )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s: retry %d of %d in %.2fs, because of %s",
                self._method,
                self._url,
                self.retries,
                self._policy.max_retries,
                delay,
                reason(error),
            )
        return delay

    def _why_final(self, error: APIError, delay: float | None) -> str:
        if delay is not None:
            return f"a wait of {delay:.2f}s would pass the total deadline; {reason(error)}"
        if not self._policy.is_retryable(error):
            return f"not retryable: {reason(error)}"
        cap = self._policy.retry_after_cap
        after = error.retry_after if isinstance(error, APIStatusError) else None
        if after is not None and after > cap and self.retries < self._policy.max_retries:
            return f"Retry-After {after:g}s is over retry_after_cap={cap:g}s; {reason(error)}"
        return f"no retries left ({self.retries} of {self._policy.max_retries}): {reason(error)}"

    def replay(self, exc: BaseException) -> None:
        """The request met a dead pooled connection: it is sent again at once (no retry)."""
        logger.debug(
            "%s %s: the pooled connection was closed by the server (%s: %s); sent again "
            "on a new one",
            self._method,
            self._url,
            type(exc).__name__,
            scrub(str(exc)),
        )

    def received(self, status: int, headers: Iterable[tuple[str, str]]) -> None:
        """A response head arrived: its request id kept; at DEBUG, logged with its
        headers (secrets masked)."""
        headers = list(headers)
        self.request_id = request_id(headers)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s <- %d, headers: %s", self._method, self._url, status, safe_headers(headers)
            )

    def succeeded(self, status: int) -> None:
        logger.info(
            "%s %s -> %d in %.3fs (retries: %d)",
            self._method,
            self._url,
            status,
            time.monotonic() - self._started,
            self.retries,
        )


_REQUEST_ID_HEADERS = ("x-request-id", "request-id")
_MAX_REQUEST_ID = 200


def request_id(headers: Iterable[tuple[str, str]]) -> str | None:
    """A response's ``x-request-id`` (vLLM, llama-cpp-python, OpenAI) or
    ``request-id`` (Anthropic's), secrets masked (before the cut, so that no piece
    of one is left), control characters escaped, at most 200 characters."""
    for wanted in _REQUEST_ID_HEADERS:
        for name, value in headers:
            if name.lower() == wanted and value.strip():
                shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", scrub(value.strip()))
                return shown[:_MAX_REQUEST_ID]
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


SECRET_HEADERS = frozenset(
    (
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
    )
)
"""Headers whose value is a credential: logged as ``***`` whatever they hold."""


def safe_headers(headers: Iterable[tuple[str, str]]) -> str:
    """``headers`` as ``{name: value, ...}`` for a log line: credentials masked, and
    any live client's secret too (``scrub``), in case a server echoes one."""
    shown = ", ".join(
        f"{name!r}: {MASK!r}" if name.lower() in SECRET_HEADERS else f"{name!r}: {scrub(value)!r}"
        for name, value in headers
    )
    return "{" + shown + "}"


def reason(error: APIError) -> str:
    """Why an attempt failed, for the log: the status, or the exception's class and message."""
    if isinstance(error, APIStatusError):
        after = "" if error.retry_after is None else f", Retry-After {error.retry_after:g}s"
        return f"status {error.status_code} {error.reason!r}{after}"
    cause = error.__cause__
    name = type(error).__name__
    if cause is not None:
        kind = type(cause)
        name = f"{name} from {kind.__module__}.{kind.__qualname__}"
    return f"{name}: {error}"


def _unreachable(error: APIError) -> bool:
    """No server answered: refused, unreachable, or the connect limit fired."""
    if isinstance(error, APITimeoutError):
        return error.limit == "connect"
    return isinstance(error, APIConnectionError) and not isinstance(error, StreamInterruptedError)
