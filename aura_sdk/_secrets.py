"""Keeping secrets out of what gets printed: log records and exception messages.

A client registers its secrets (the API key, a ``base_url`` password and the
Basic token httpx makes of it) while it lives. ``scrub`` masks them, and any
``scheme://user:password@`` password, in a text; ``scrub_chain`` does so to an
exception and the ones it was raised from; ``RedactingFilter``, installed on the
loggers of the SDK, httpx, httpcore, httpx2, httpcore2, h11, h2 and hpack (on
each named logger: a logger's filters do not see its children's records), does
so to every record they emit, at any level, before any handler sees it. A server
that echoes the key in a reason phrase, a header or a garbled status line cannot
get it printed.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections import Counter
from urllib.parse import unquote

__all__ = [
    "MASK",
    "RedactingFilter",
    "install_filters",
    "mask_url",
    "register",
    "scrub",
    "scrub_chain",
    "unregister",
    "url_secrets",
]

MASK = "***"

_USERINFO = re.compile(r"(://[^/?#@\s:'\"]*):([^/?#\s'\"]*)@")
"""``scheme://user:password@``: the password is group 2."""

_lock = threading.Lock()
_live: Counter[str] = Counter()
_pattern: re.Pattern[str] | None = None


def mask_url(url: str) -> str:
    """``url`` with the password of its userinfo masked.

    >>> mask_url("https://me:hunter2@aura.example/api")
    'https://me:***@aura.example/api'
    """
    return _USERINFO.sub(rf"\1:{MASK}@", url) if "@" in url else url


def url_secrets(url: str) -> list[str]:
    """The secrets a URL's userinfo holds: the password as written and decoded, and
    the ``Authorization: Basic`` token httpx sends for it."""
    match = _USERINFO.search(url)
    if match is None or not match.group(2):
        return []
    user = unquote(match.group(1).rpartition("/")[2])
    password = match.group(2)
    token = base64.b64encode(f"{user}:{unquote(password)}".encode()).decode("ascii")
    return [password, unquote(password), token]


def register(secrets: list[str]) -> None:
    """Mask ``secrets`` everywhere from now on (until ``unregister``)."""
    with _lock:
        _count(secrets, 1)
        _drain()


def unregister(secrets: list[str]) -> None:
    """Undo one ``register`` of ``secrets`` (its client is gone).

    Called by a finalizer, which may run on any thread at any allocation,
    also while this thread holds the lock in ``register`` (the garbage
    collector runs inside ``re.compile``): so it never waits for the lock. The
    secrets are queued and dropped now if the lock is free, else by the next
    change; until then they are still masked, which is harmless.
    """
    _dead.append(secrets)  # atomic: no lock needed
    if _lock.acquire(blocking=False):
        try:
            _drain()
        finally:
            _lock.release()


_dead: list[list[str]] = []


def _count(secrets: list[str], step: int) -> None:
    for secret in set(secrets):
        if secret:
            _live[secret] += step
            if _live[secret] <= 0:
                del _live[secret]


def _drain() -> None:
    """Apply the queued unregisters and rebuild the pattern (with ``_lock`` held)."""
    global _pattern
    while _dead:
        _count(_dead.pop(), -1)
    ordered = sorted(_live, key=len, reverse=True)  # the longest wins where two overlap
    _pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None


def scrub(text: str) -> str:
    """``text`` with every registered secret and every URL password masked."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return mask_url(text)


def scrub_chain(exc: BaseException) -> None:
    """Scrub, in place, the message of ``exc`` and of every exception it was raised
    from or during (as ``traceback.format_exception`` would show them)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 64:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        args = current.args
        if any(isinstance(a, str) for a in args):
            current.args = tuple(scrub(a) if isinstance(a, str) else a for a in args)
        todo.extend(a for a in args if isinstance(a, BaseException))
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                todo.append(linked)


class RedactingFilter(logging.Filter):
    """Rewrites a record whose message (or exception) would show a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it at format time
            return True
        clean = scrub(message)
        if clean != message:
            record.msg = clean
            record.args = ()
        if record.exc_info is not None and record.exc_info[1] is not None:
            scrub_chain(record.exc_info[1])
            record.exc_text = None
        return True


_FILTER = RedactingFilter()
_ROOTS = ("aura_sdk", "httpx", "httpcore", "httpx2", "httpcore2", "h11", "h2", "hpack")
_KNOWN = (
    *_ROOTS,
    # Both stacks' pools log under the same five children (httpx2's is httpcore2).
    *(
        f"{core}.{part}"
        for core in ("httpcore", "httpcore2")
        for part in ("connection", "http11", "http2", "proxy", "socks")
    ),
    "hpack.hpack",
    "hpack.table",
)


def install_filters() -> None:
    """Put the filter on every logger of the SDK and of the HTTP stack, known or existing."""
    names = set(_KNOWN)
    names.update(
        name for name in list(logging.Logger.manager.loggerDict) if name.partition(".")[0] in _ROOTS
    )
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
