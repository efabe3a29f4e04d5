"""Time limits: what each one bounds, and which one fired.

The real server hangs before its status line when its upstream misbehaves, and
mid-stream (no terminating chunk) when its upstream drops, so every wait has a
limit. ``Budget`` turns the limits of one call into the per-phase timeouts a
transport applies, with the optional total deadline folded into each.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Union

from ._exceptions import AuraValidationError, TimeoutLimit

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_SECONDS",
    "BodyClock",
    "Budget",
    "Timeout",
    "TimeoutTypes",
    "to_timeout",
]

MAX_SECONDS = 1_000_000.0
"""The longest finite limit (about 11.5 days): one that every clock the SDK waits
on (``time_t``, int milliseconds of ``poll``, Windows' ``DWORD``) can hold, so no
platform ever overflows on it. ``math.inf`` means no limit, like ``None``."""


@dataclass(frozen=True)
class Timeout:
    """Time limits in seconds; ``None`` (or ``math.inf``) switches one off.

    - ``connect``: to open the TCP (and TLS) connection;
    - ``response``: from sending the request to its status line and headers, as one
      deadline (a head trickled a byte at a time does not outlast it);
    - ``read``: between two chunks of the reply (ends the server's mid-stream hang);
    - ``write``: to send one piece of the request;
    - ``pool``: to wait for a free connection from the pool;
    - ``total``: for the whole call, retries and their waits included (off by default);
    - ``text``: between two pieces of reply text, from the response head on (300 s).
      Keep-alive comments, role-only, empty and usage events do not reset it, so
      a server that pings a dead stream forever is still ended (``read``, which
      any byte resets, cannot do that). 300 s outlasts a long prompt evaluated
      on modest hardware before the first token.

    The defaults suit a reply that streams for minutes and never wait forever.
    A bare number sets every limit but ``total``: ``AuraClient(timeout=30)``.
    A finite limit is at most ``MAX_SECONDS`` (1e6, about 11.5 days); anything
    else (a bool, a string, ``Decimal``, NaN, <= 0, 1e12) is ``AuraValidationError``.
    """

    __slots__ = ("connect", "pool", "read", "response", "text", "total", "write")

    connect: float | None
    response: float | None
    read: float | None
    write: float | None
    pool: float | None
    total: float | None
    text: float | None

    def __init__(
        self,
        connect: float | None = 10.0,
        response: float | None = 60.0,
        read: float | None = 60.0,
        write: float | None = 30.0,
        pool: float | None = 30.0,
        total: float | None = None,
        text: float | None = 300.0,
    ) -> None:
        values = {
            "connect": connect,
            "response": response,
            "read": read,
            "write": write,
            "pool": pool,
            "total": total,
            "text": text,
        }
        for name, value in values.items():
            object.__setattr__(self, name, _check_seconds(f"timeout.{name}", value))

    @classmethod
    def of(cls, seconds: float) -> Timeout:
        """Every limit but ``total`` set to ``seconds``."""
        return cls(seconds, seconds, seconds, seconds, seconds, text=seconds)


def _check_seconds(where: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AuraValidationError(
            f"{where}: expected seconds as a number, got {type(value).__name__}"
        )
    try:
        seconds = float(value)
    except OverflowError:  # an int too large for a float: not a usable limit either way
        raise AuraValidationError(
            f"{where}: expected at most {MAX_SECONDS:.0f} seconds, got an int too large for a float"
        ) from None
    if math.isnan(seconds) or seconds <= 0:
        raise AuraValidationError(f"{where}: expected a positive number of seconds, got {value!r}")
    if seconds == math.inf:
        return None  # no limit, as None says
    if seconds > MAX_SECONDS:
        raise AuraValidationError(
            f"{where}: expected at most {MAX_SECONDS:.0f} seconds (about 11.5 days), "
            f"got {seconds:g}; None (or math.inf) switches the limit off"
        )
    return seconds


DEFAULT_TIMEOUT = Timeout()
TimeoutTypes = Union[float, Timeout]


def to_timeout(timeout: object) -> Timeout:
    """A ``Timeout`` from what the caller passed; ``None`` (wait forever) is refused."""
    if isinstance(timeout, Timeout):
        return timeout
    if timeout is None:
        raise AuraValidationError(
            "timeout: None would wait forever; pass Timeout(read=None) to lift one limit on purpose"
        )
    seconds = _check_seconds("timeout", timeout)
    if seconds is None:  # math.inf
        raise AuraValidationError(
            "timeout: inf would wait forever; pass Timeout(read=None) to lift one limit on purpose"
        )
    return Timeout.of(seconds)


def _clamp(limit: float | None, remaining: float | None) -> float | None:
    if remaining is None:
        return limit
    return remaining if limit is None else min(limit, remaining)


class Budget:
    """The limits of one call, from its start: what to wait for now, and what fired.

    >>> b = Budget(Timeout(read=5, total=3), now=100.0)
    >>> b.body_read(now=101.0), b.fired("read", now=103.0)
    (2.0, ('total', 3.0))
    """

    __slots__ = ("body", "deadline", "timeout")

    def __init__(self, timeout: Timeout, now: float | None = None) -> None:
        self.timeout = timeout
        start = time.monotonic() if now is None else now
        self.deadline = None if timeout.total is None else start + timeout.total
        self.body: BodyClock | None = None
        """The reply body's clock, once its head has arrived (``text`` counts from there)."""

    def start_body(self, now: float | None = None) -> BodyClock | None:
        """The head of the reply arrived: its body's clock (None: no limit to keep)."""
        if self.deadline is None and self.timeout.text is None:
            self.body = None
        else:
            self.body = BodyClock(self.deadline, self.timeout.total, self.timeout.text, now)
        return self.body

    def remaining(self, now: float | None = None) -> float | None:
        """Seconds left of the total deadline (never below 0), or None with no deadline."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - (time.monotonic() if now is None else now))

    def expired(self, now: float | None = None) -> bool:
        return self.remaining(now) == 0.0

    def request(self, now: float | None = None) -> dict[str, float | None]:
        """Timeouts for sending a request and waiting for its status line (httpx's names)."""
        left = self.remaining(now)
        t = self.timeout
        return {
            "connect": _clamp(t.connect, left),
            "read": _clamp(t.response, left),
            "write": _clamp(t.write, left),
            "pool": _clamp(t.pool, left),
        }

    def body_read(self, now: float | None = None) -> float | None:
        """The wait allowed between two chunks of the body."""
        return _clamp(self.timeout.read, self.remaining(now))

    def fits(self, delay: float, now: float | None = None) -> bool:
        """Whether waiting ``delay`` seconds (a retry's backoff) leaves time to try again."""
        left = self.remaining(now)
        return left is None or delay < left

    def fired(
        self, phase: TimeoutLimit, now: float | None = None
    ) -> tuple[TimeoutLimit, float | None]:
        """Which limit fired when the transport timed out in ``phase``, and its value."""
        if self.deadline is not None and self.expired(now):
            return "total", self.timeout.total
        body = self.body
        quiet_at = None if body is None or phase != "read" else body.quiet_at
        if quiet_at is not None and (time.monotonic() if now is None else now) >= quiet_at:
            return "text", self.timeout.text
        return phase, getattr(self.timeout, phase)


class BodyClock:
    """The deadlines of a reply's body: the call's total one, and the next text's.

    ``at`` is the sooner of the two (what a socket read of the SDK's own client
    ends by); ``heard`` moves the text's on as text arrives. Free of I/O: the
    facades ask it, chunk by chunk, which limit has passed.

    >>> c = BodyClock(total_at=None, total=None, text=5.0, now=100.0)
    >>> c.passed(104.0), c.heard(104.0), c.passed(108.0), c.passed(109.0)
    (None, None, None, 'text')
    """

    __slots__ = ("at", "quiet", "quiet_at", "total", "total_at")

    def __init__(
        self,
        total_at: float | None,
        total: float | None,
        text: float | None,
        now: float | None = None,
    ) -> None:
        self.total_at: float | None = total_at
        self.total: float | None = total
        self.quiet: float | None = text
        start = time.monotonic() if now is None else now
        self.quiet_at: float | None = None if text is None else start + text
        self.at: float | None = _sooner(total_at, self.quiet_at)

    def heard(self, now: float) -> None:
        """A piece of text arrived at ``now``: the wait for the next one starts."""
        if self.quiet is not None:
            self.quiet_at = now + self.quiet
            self.at = _sooner(self.total_at, self.quiet_at)

    def passed(self, now: float) -> TimeoutLimit | None:
        """The limit that has passed at ``now`` (``total`` first), if one has."""
        if self.total_at is not None and now >= self.total_at:
            return "total"
        if self.quiet_at is not None and now >= self.quiet_at:
            return "text"
        return None


def _sooner(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else min(a, b)
