"""One fault case, driven through either facade against the local server, in each dialect.

Every case runs on a client whose pool holds ONE connection with a short pool
timeout, and ends by checking that a normal request goes through at once: so
every outcome (success, timeout, cut, status error, bad bytes) is also a check
that nothing was leaked.

Every case runs in both wire dialects (``aura``: openchat-ui's plain text;
``openai``: server-sent events), the same promise over a different body. Where
the wire genuinely differs (a byte count, raw bytes that only one dialect can
carry), the case says so in ``aura=`` or ``openai=``: the fields that differ
there, or ``Absent("why")`` for a case that cannot exist in that dialect.
Nothing is skipped: an absent case is no test, and ``test_every_case_runs_somewhere``
of each family checks that the reason is given.

Every case also runs over both HTTP stacks (the ``stack`` fixture: the caller's
client is an ``httpx`` or an ``httpx2`` one), the same promise over another
transport; the httpx2 half is not applicable on Python 3.9.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any, Union

import pytest

from aura_sdk import AsyncAuraClient, AuraClient, DialectName, RetryPolicy, Timeout, user
from aura_sdk.server import AuraServer, Fault
from tests._stacks import async_client, one_connection, sync_client

HI = [user("Hi")]
OK = "Hello, world"  # what the `server` fixture answers when nothing is scripted
ANSWER = Fault(chunks=(b"Hello", b", world"))  # the same, scripted
FAST = Timeout(connect=2, response=2, read=2, write=2, pool=0.5)
NO_WAIT = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_cap=0.02)
DIALECTS: tuple[DialectName, ...] = ("aura", "openai")

# The openai dialect's wire, for cases that script it byte for byte (Fault(sse=...)).
ROLE = b'data: {"id":"cmpl-1","choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n'
DONE = b"data: [DONE]\n\n"


def event(content: bytes, finish: str | None = None) -> bytes:
    """One ``chat.completion.chunk`` event carrying ``content`` as is (raw bytes, invalid
    UTF-8 too, inside its JSON string), with ``finish`` as its ``finish_reason``."""
    reason = b"null" if finish is None else b'"' + finish.encode() + b'"'
    return (
        b'data: {"choices":[{"index":0,"delta":{"content":"'
        + content
        + b'"},"finish_reason":'
        + reason
        + b"}]}\n\n"
    )


def sse_bytes(chunks: tuple[bytes, ...], finish: str | None = "stop", done: bool = True) -> int:
    """The size of the body the local openai server sends for ``Fault(chunks=chunks)``:
    the role chunk, one event per chunk, the finish chunk, ``[DONE]`` (ids are fixed-size;
    ``finish=None``, ``done=False``: the body up to the last content delta)."""
    from aura_sdk.server._openai import sse_event

    def chunk(delta: dict[str, str], reason: str | None = None) -> int:
        choice = {"index": 0, "delta": delta, "finish_reason": reason}
        data = {"id": "cmpl-" + "0" * 32, "model": "openchat_3.6", "choices": [choice]}
        return len(sse_event(data))

    size = chunk({"role": "assistant"}) + sum(chunk({"content": c.decode()}) for c in chunks)
    if finish is not None:
        size += chunk({"content": ""}, finish)
    return size + (len(DONE) if done else 0)


@dataclass(frozen=True)
class Absent:
    """A case that cannot exist in a dialect, and why (shown by ``absent_cases``)."""

    why: str


Variant = Union[dict[str, Any], Absent]
"""In one dialect: the ``Case`` fields that differ there, or ``Absent``."""


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
    reply: dict[str, Any] = field(default_factory=dict)  # stream attributes, at the end
    hidden: tuple[str, ...] = ()  # in none of str(error), repr(error), error.body
    aura: Variant = field(default_factory=dict)  # what differs in the aura dialect
    openai: Variant = field(default_factory=dict)  # what differs in the openai dialect

    def on(self, dialect: DialectName) -> Case | None:
        """The case as it runs in ``dialect``, or None where it is ``Absent``."""
        variant: Variant = getattr(self, dialect)
        if isinstance(variant, Absent):
            return None
        return replace(self, **variant) if variant else self


def _client_kwargs(server: AuraServer, case: Case) -> dict[str, Any]:
    return {
        "base_url": server.base_url,
        "dialect": server.dialect,
        "timeout": case.timeout,
        "max_retries": case.max_retries,
        **case.client,
    }


def _again(server: AuraServer) -> dict[str, Any]:
    # Retried as a default client would: a keep-alive connection the server has
    # just closed fails on first use.
    return {"base_url": server.base_url, "dialect": server.dialect, "max_retries": NO_WAIT}


def _check(
    server: AuraServer,
    case: Case,
    text: str | None,
    retries: int | None,
    error: BaseException | None,
    stream: object,
) -> None:
    if case.error is None:
        assert error is None, f"unexpected {error!r}"
        assert text == case.text
    else:
        assert isinstance(error, case.error), f"expected {case.error.__name__}, got {error!r}"
        if case.text is not None:
            assert getattr(error, "text", None) == case.text, repr(error)
        if case.message is not None:
            assert case.message in str(error), str(error)
        if case.limit is not None:
            assert getattr(error, "limit", None) == case.limit, repr(error)
        for name, value in case.attrs.items():
            assert getattr(error, name) == value, name
        for secret in case.hidden:
            for shown in (str(error), repr(error), str(getattr(error, "body", ""))):
                assert secret not in shown, shown
        retries = getattr(error, "retries", 0)
    for name, value in case.reply.items():
        assert getattr(stream, name) == value, name
    assert retries == case.retries
    assert len(server.requests) == case.requests
    assert server.scripted == 0, "the case scripted more faults than it used"


def run_sync(server: AuraServer, case: Case, stack: ModuleType) -> None:
    server.script(*case.faults)
    with sync_client(stack, limits=one_connection(stack)) as http:
        client = AuraClient(http_client=http, **_client_kwargs(server, case))
        text = retries = error = None
        stream = client.stream(HI, **case.call)
        try:
            text = "".join(stream)
            retries = stream.retries
        except Exception as exc:  # the case says which
            error = exc
        _check(server, case, text, retries, error, stream)
        # The one connection is free again.
        again = AuraClient(http_client=http, **_again(server))
        assert again.chat(HI, timeout=FAST) == OK


async def run_async(server: AuraServer, case: Case, stack: ModuleType) -> None:
    server.script(*case.faults)
    async with async_client(stack, limits=one_connection(stack)) as http:
        client = AsyncAuraClient(http_client=http, **_client_kwargs(server, case))
        text = retries = error = None
        stream = client.stream(HI, **case.call)
        try:
            text = "".join([chunk async for chunk in stream])
            retries = stream.retries
        except Exception as exc:  # the case says which
            error = exc
        _check(server, case, text, retries, error, stream)
        again = AsyncAuraClient(http_client=http, **_again(server))
        assert await again.chat(HI, timeout=FAST) == OK


def absent_cases(table: list[Case]) -> dict[str, str]:
    """``"dialect-id": why`` for each case that cannot exist in a dialect."""
    return {
        f"{dialect}-{case.id}": variant.why
        for case in table
        for dialect in DIALECTS
        if isinstance(variant := getattr(case, dialect), Absent)
    }


def fault_tests(
    table: list[Case],
) -> tuple[
    Callable[[AuraServer, Case, ModuleType], None],
    Callable[[AuraServer, Case, ModuleType], Awaitable[None]],
    Callable[[], None],
]:
    """The tests of a fault family, over its table: sync, async (asyncio, trio), in each
    dialect, over each stack (ids such as ``test_sync[openai-drop-after-2-chunks-httpx2]``),
    and a check of the table.

    In the family's module: ``test_sync, test_async, test_table = fault_tests(CASES)``.
    """
    params = [
        pytest.param(dialect, variant, id=f"{dialect}-{case.id}")
        for case in table
        for dialect in DIALECTS
        if (variant := case.on(dialect)) is not None
    ]
    cases = pytest.mark.parametrize(("dialect", "case"), params)

    @cases
    def test_sync(server: AuraServer, case: Case, stack: ModuleType) -> None:
        run_sync(server, case, stack)

    @pytest.mark.anyio
    @cases
    async def test_async(server: AuraServer, case: Case, stack: ModuleType) -> None:
        await run_async(server, case, stack)

    def test_table() -> None:
        """Every case runs in some dialect, ids are unique, and an absent one says why."""
        ids = [case.id for case in table]
        assert len(set(ids)) == len(ids), "duplicate case ids"
        for case in table:
            assert any(case.on(d) is not None for d in DIALECTS), case.id
        for key, why in absent_cases(table).items():
            assert why.strip(), f"{key}: Absent() with no reason"

    return test_sync, test_async, test_table
