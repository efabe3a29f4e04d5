"""Parsing ``Retry-After``: seconds, or an HTTP date; and ``retry-after-ms``.

Any header value at all (huge digits, ``1e400``, a date in year 1 or 9999,
non-ASCII digits, garbage) gives a number of seconds in ``[0, MAX_RETRY_AFTER]``
or ``None``, never an exception: the header comes from the server.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import re
import time

__all__ = ["MAX_RETRY_AFTER", "parse_retry_after", "parse_retry_after_ms"]

MAX_RETRY_AFTER = 1_000_000.0
"""Longer waits are reported as this (the retry policy gives up long before)."""

# RFC 9110 ``delay-seconds`` is ASCII digits; a sign and a fraction are tolerated.
# (``float()`` alone would also take "inf", "1e400", "1_0" and Arabic-Indic digits.)
_SECONDS = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?", re.ASCII)
_MAX_LENGTH = 64  # no HTTP date is longer; the date parser is not fed more


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        seconds = float(value)  # digits only: never raises, at worst inf
    elif len(value) > _MAX_LENGTH:
        return None
    else:
        date = _date_seconds(value, time.time() if now is None else now)
        if date is None:
            return None
        seconds = date
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def parse_retry_after_ms(value: str | None) -> float | None:
    """Seconds to wait from a ``retry-after-ms`` header (milliseconds, as OpenAI and
    Azure send it beside ``Retry-After``; openai-python reads it first), or ``None``
    for a value that is not a plain number."""
    if not value:
        return None
    value = value.strip()
    if not _SECONDS.fullmatch(value):
        return None
    return min(max(0.0, float(value) / 1000), MAX_RETRY_AFTER)


def _date_seconds(value: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, says RFC 5322 (and no local clock is asked)
        when = when.replace(tzinfo=datetime.timezone.utc)
    seconds = when.timestamp() - now  # aware: plain arithmetic, for any year 1 to 9999
    return None if math.isnan(seconds) else seconds
