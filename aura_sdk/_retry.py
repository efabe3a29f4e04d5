"""Retry decisions: whether a failed attempt is tried again, and after how long.

Only failures before the reply's first byte are ever retried (the facades call
this before handing out any text), so a retry never duplicates output.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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
from ._timeouts import Budget
from ._validation import check_count, check_iterable_ints, check_seconds, is_real, redact_url, show

__all__ = ["Attempts", "RetryPolicy", "parse_retry_after"]

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


class Attempts:
    """Drives the attempts of one request: the facades' retry loop, without the I/O.

    ::

        attempts = Attempts(policy, budget, "POST", url)
        while True:
            attempts.start()                       # raises once the total deadline has passed
            try: ... send; on success: return response
            except transport error: error = ...
            sleep(attempts.failed(error))          # raises the error when it is final
    """

    __slots__ = ("_budget", "_method", "_policy", "_started", "_url", "retries")

    def __init__(self, policy: RetryPolicy, budget: Budget, method: str, url: str) -> None:
        self._policy = policy
        self._budget = budget
        self._method = method
        self._url = redact_url(url)  # for the log: never a URL's password
        self._started = time.monotonic()
        self.retries = 0

    def start(self) -> None:
        """Before each attempt: fail if the total deadline has already passed."""
        if self._budget.expired():
            total = self._budget.timeout.total
            error = APITimeoutError(f"total timeout after {total:g}s", limit="total", seconds=total)
            error.retries = self.retries
            raise error

    def failed(self, error: APIError) -> float:
        """Seconds to wait before the next attempt; raises ``error`` if there is none."""
        delay = self._policy.delay(self.retries, error)
        if delay is None or not self._budget.fits(delay):
            error.retries = self.retries
            logger.info(
                "%s %s failed after %d retries: %s", self._method, self._url, self.retries, error
            )
            raise error
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
        return delay

    def succeeded(self, status: int) -> None:
        logger.info(
            "%s %s -> %d in %.3fs (retries: %d)",
            self._method,
            self._url,
            status,
            time.monotonic() - self._started,
            self.retries,
        )
