"""One fault case, driven through either facade against the local server.

Every case runs on a client whose pool holds ONE connection with a short pool
timeout, and ends by checking that a normal request goes through at once: so
every outcome (success, timeout, cut, status error, bad bytes) is also a check
that nothing was leaked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from aura_sdk import AsyncAuraClient, AuraClient, RetryPolicy, Timeout, user
from aura_sdk.server import AuraServer, Fault

HI = [user("Hi")]
OK = "Hello, world"  # what the `server` fixture answers when nothing is scripted
ANSWER = Fault(chunks=(b"Hello", b", world"))  # the same, scripted
LIMITS = httpx.Limits(max_connections=1, max_keepalive_connections=1)
FAST = Timeout(connect=2, response=2, read=2, write=2, pool=0.5)
NO_WAIT = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_cap=0.02)


@dataclass(frozen=True)
class Case:
    """A scripted fault and what the caller must see."""

    id: str
    faults: tuple[Fault, ...]
    error: type[BaseException] | None = None
    text: str | None = None  # the reply, or the partial text the error carries
    message: str | None = None  # a part of str(error)
    limit: str | None = None  # APITimeoutError.limit
    retries: int = 0
    requests: int = 1
    timeout: Timeout = FAST
    max_retries: int | RetryPolicy = 0
    call: dict[str, Any] = field(default_factory=dict)  # extra chat() keywords
    client: dict[str, Any] = field(default_factory=dict)  # extra client keywords
    attrs: dict[str, Any] = field(default_factory=dict)  # error attributes to compare


def _client_kwargs(server: AuraServer, case: Case) -> dict[str, Any]:
    return {
        "base_url": server.base_url,
        "timeout": case.timeout,
        "max_retries": case.max_retries,
        **case.client,
    }


def _check(
    server: AuraServer,
    case: Case,
    text: str | None,
    retries: int | None,
    error: BaseException | None,
) -> None:
    if case.error is None:
        assert error is None, f"unexpected {error!r}"
        assert text == case.text
    else:
        assert isinstance(error, case.error), f"expected {case.error.__name__}, got {error!r}"
        if case.text is not None:
            assert getattr(error, "text", None) == case.text
        if case.message is not None:
            assert case.message in str(error)
        if case.limit is not None:
            assert getattr(error, "limit", None) == case.limit
        for name, value in case.attrs.items():
            assert getattr(error, name) == value, name
        retries = getattr(error, "retries", 0)
    assert retries == case.retries
    assert len(server.requests) == case.requests
    assert server.scripted == 0, "the case scripted more faults than it used"


def run_sync(server: AuraServer, case: Case) -> None:
    server.script(*case.faults)
    with httpx.Client(limits=LIMITS) as http:
        client = AuraClient(http_client=http, **_client_kwargs(server, case))
        text = retries = error = None
        stream = client.stream(HI, **case.call)
        try:
            text = "".join(stream)
            retries = stream.retries
        except Exception as exc:  # the case says which
            error = exc
        _check(server, case, text, retries, error)
        # The one connection is free again. (Retried as a default client would: a
        # keep-alive connection the server has just closed fails on first use.)
        again = AuraClient(http_client=http, base_url=server.base_url, max_retries=NO_WAIT)
        assert again.chat(HI, timeout=FAST) == OK


async def run_async(server: AuraServer, case: Case) -> None:
    server.script(*case.faults)
    async with httpx.AsyncClient(limits=LIMITS) as http:
        client = AsyncAuraClient(http_client=http, **_client_kwargs(server, case))
        text = retries = error = None
        stream = client.stream(HI, **case.call)
        try:
            text = "".join([chunk async for chunk in stream])
            retries = stream.retries
        except Exception as exc:  # the case says which
            error = exc
        _check(server, case, text, retries, error)
        again = AsyncAuraClient(http_client=http, base_url=server.base_url, max_retries=NO_WAIT)
        assert await again.chat(HI, timeout=FAST) == OK


def fault_tests(
    table: list[Case],
) -> tuple[Callable[[AuraServer, Case], None], Callable[[AuraServer, Case], Awaitable[None]]]:
    """The two tests of a fault family, over its table: sync, and async (asyncio, trio).

    In the family's module: ``test_sync, test_async = fault_tests(CASES)``.
    """
    cases = pytest.mark.parametrize("case", table, ids=[c.id for c in table])

    @cases
    def test_sync(server: AuraServer, case: Case) -> None:
        run_sync(server, case)

    @pytest.mark.anyio
    @cases
    async def test_async(server: AuraServer, case: Case) -> None:
        await run_async(server, case)

    return test_sync, test_async
