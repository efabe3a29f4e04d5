"""Retry decisions: whether a failed attempt is tried again, and after how long.

Only failures before the reply's first byte are ever retried (the facades call
this before handing out any text), so a retry never duplicates output.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    AuraError,
    RateLimitError,
    StreamInterruptedError,
)

__all__ = ["RetryPolicy", "parse_retry_after"]

RETRY_STATUSES = frozenset((408, 409, 429, 502, 503, 504))
_OVERLOAD_WORDS = ("overload", "capacity", "try again later", "temporarily unavailable")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    Retried: connection failures and timeouts before the status line;
    408/409/429/502/503/504; a 500 whose reason phrase says rate limit or
    overload. A plain openchat-ui ``500 Internal Server Error`` is usually a
    bad request and is not retried. Backoff doubles from ``backoff_base`` up to
    ``backoff_cap``, less up to ``jitter`` of it at random; a ``Retry-After``
    header is honoured up to ``retry_after_cap`` seconds.
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    jitter: float = 0.25
    retry_after_cap: float = 60.0
    statuses: frozenset[int] = field(default=RETRY_STATUSES)

    def is_retryable(self, error: AuraError) -> bool:
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
        """Seconds to wait before the next attempt, or None to give up now."""
        if retries_taken >= self.max_retries or not self.is_retryable(error):
            return None
        response = error.response if isinstance(error, APIStatusError) else None
        retry_after = parse_retry_after(response.headers.get("retry-after") if response else None)
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_cap else None
        backoff = min(self.backoff_cap, self.backoff_base * 2.0**retries_taken)
        return backoff * (1.0 - self.jitter * rand())
