"""Fault family: servers that go quiet. Every wait has a limit, and the error says which."""

from __future__ import annotations

import math
import socket
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from aura_sdk import (
    APITimeoutError,
    AsyncAuraClient,
    AuraClient,
    DialectName,
    StreamTimeoutError,
    Timeout,
)
from aura_sdk.server import AuraServer, Fault
from tests._harness import ANSWER, DIALECTS, FAST, HI, NO_WAIT, OK, Case, fault_tests
from tests._stacks import async_client, sync_client

# The tests below meet the body mid-stream: in both dialects.
both = pytest.mark.parametrize("dialect", DIALECTS)

CASES = [
    Case(
        "hang-before-status",
        (Fault(delay=math.inf),),
        APITimeoutError,
        text="",
        limit="response",
        message="response timeout after 0.3s",
        timeout=Timeout(response=0.3),
    ),
    Case(
        "slow-status-retried-then-ok",
        (Fault(delay=5), ANSWER),
        None,
        text=OK,
        retries=1,
        requests=2,
        timeout=Timeout(response=0.3),
        max_retries=NO_WAIT,
    ),
    Case(
        "mid-stream-hang",
        (Fault(chunks=(b"Hel", b"lo"), stall_after=2),),
        StreamTimeoutError,
        text="Hello",
        limit="read",
        message="after 0.3s",
        timeout=Timeout(read=0.3),
        max_retries=NO_WAIT,  # text was handed out: never retried
    ),
    Case(
        "stall-right-after-the-status-line",  # openai: after the role chunk
        (Fault(chunks=(b"Hello",), stall_after=0),),
        StreamTimeoutError,
        text="",
        limit="read",
        timeout=Timeout(read=0.3),
        max_retries=NO_WAIT,  # the status line came: never retried
    ),
    Case(
        "idle-limit-is-not-the-status-limit",
        (Fault(chunks=(b"a", b"b"), stall_after=1),),
        StreamTimeoutError,
        text="a",
        limit="read",
        timeout=Timeout(response=5, read=0.3),
    ),
    Case(
        "total-while-streaming",
        (Fault(chunks=(b"x",) * 50),),  # paced by the fixture below: 50 x 0.02 s
        StreamTimeoutError,
        limit="total",
        message="total timeout after 0.3s",
        timeout=Timeout(read=5, total=0.3),
    ),
    Case(
        "total-before-status",
        (Fault(delay=5),),
        APITimeoutError,
        limit="total",
        timeout=Timeout(response=5, total=0.3),
        max_retries=NO_WAIT,
    ),
    Case(
        "per-call-timeout",
        (Fault(delay=5),),
        APITimeoutError,
        limit="response",
        call={"timeout": Timeout(response=0.2)},
        timeout=Timeout(response=30),
    ),
]


@pytest.fixture
def server(aura_server_factory: Callable[..., AuraServer], dialect: DialectName) -> AuraServer:
    # Paced, so that the "total" case streams for longer than its deadline.
    return aura_server_factory(
        dialect=dialect, pace=0.02, fault=Fault(chunks=(b"Hello", b", world"))
    )


test_sync, test_async, test_table = fault_tests(CASES)


@both
def test_total_while_streaming_keeps_what_arrived(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"x",) * 50))
    with AuraClient(
        base_url=server.base_url, dialect=server.dialect, timeout=Timeout(total=0.3)
    ) as client:
        with pytest.raises(StreamTimeoutError) as info:
            client.chat(HI)
    assert 1 <= len(info.value.text) < 50
    assert set(info.value.text) == {"x"}


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port whose accept queue is full, so a new connection is never accepted."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
        fillers.append(filler)
    try:
        yield listener.getsockname()[1]
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_sync_connect_timeout(unanswered_port: int) -> None:
    url = f"http://127.0.0.1:{unanswered_port}"
    with AuraClient(base_url=url, timeout=Timeout(connect=0.3), max_retries=0) as client:
        with pytest.raises(APITimeoutError) as info:
            client.chat(HI)
    assert (info.value.limit, info.value.seconds) == ("connect", 0.3)
    assert str(info.value) == f"connect timeout after 0.3s (POST {url}/api/chat, not retried)"


@pytest.mark.anyio
async def test_async_connect_timeout(unanswered_port: int) -> None:
    url = f"http://127.0.0.1:{unanswered_port}"
    async with AsyncAuraClient(base_url=url, timeout=Timeout(connect=0.3), max_retries=0) as client:
        with pytest.raises(APITimeoutError) as info:
            await client.chat(HI)
    assert info.value.limit == "connect"


@both
def test_sync_pool_timeout(server: AuraServer, stack: ModuleType) -> None:
    server.script(Fault(chunks=(b"a", b"b"), stall_after=1))
    with sync_client(stack, limits=stack.Limits(max_connections=1)) as http:
        client = AuraClient(
            base_url=server.base_url,
            dialect=server.dialect,
            http_client=http,
            timeout=FAST,
            max_retries=0,
        )
        with client.stream(HI) as held:  # holds the only connection
            assert next(held) == "a"
            with pytest.raises(APITimeoutError) as info:
                client.chat(HI, timeout=Timeout(pool=0.2))
        assert info.value.limit == "pool"
        assert client.chat(HI) == OK


@pytest.mark.anyio
@both
async def test_async_pool_timeout(server: AuraServer, stack: ModuleType) -> None:
    server.script(Fault(chunks=(b"a", b"b"), stall_after=1))
    async with async_client(stack, limits=stack.Limits(max_connections=1)) as http:
        client = AsyncAuraClient(
            base_url=server.base_url,
            dialect=server.dialect,
            http_client=http,
            timeout=FAST,
            max_retries=0,
        )
        async with client.stream(HI) as held:
            assert await held.__anext__() == "a"
            with pytest.raises(APITimeoutError) as info:
                await client.chat(HI, timeout=Timeout(pool=0.2))
        assert info.value.limit == "pool"
        assert await client.chat(HI) == OK


def test_nothing_waits_forever_by_default() -> None:
    limits = Timeout()
    assert None not in (limits.connect, limits.response, limits.read, limits.write, limits.pool)
