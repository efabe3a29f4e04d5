"""Fault family: nothing leaked. Every way out of a stream gives the connection back.

(Every case of the other fault families also ends with this check, in
``tests/_harness.py``.)

Every client here has a pool of ONE connection and a short pool timeout, so a
connection that is not given back makes the next request fail at once. The
caller's clients (the ``client`` and ``aclient`` fixtures) come from each HTTP
stack, httpx and httpx2 (the ``stack`` fixture).
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import AsyncGenerator, Iterator
from types import ModuleType

import anyio
import httpx
import pytest

from aura_sdk import (
    AsyncAuraClient,
    AuraClient,
    AuraUsageError,
    DialectName,
    InternalServerError,
    StreamInterruptedError,
    StreamTimeoutError,
    Timeout,
    user,
)
from aura_sdk.server import AuraServer, Fault
from tests._harness import DIALECTS
from tests._hostile import Peer, chunked, head, hostile
from tests._stacks import HTTP_CLIENTS, async_client, one_connection, sync_client

TIMEOUT = Timeout(connect=5, response=5, read=5, write=5, pool=0.5)
HI = [user("Hi")]
LONG = Fault(chunks=(b"one ", b"two ", b"three ", b"four"))


# Where the dialect's body parsing meets the transport (every way out of a
# stream, cancellation): in both dialects, on the `server` fixture's dialect.
both = pytest.mark.parametrize("dialect", DIALECTS)
# A character cut by the drop: plain text keeps its bytes in .truncated; the openai
# emulator (as OpenChat) sends content deltas as JSON text, the cut one as U+FFFD.
CUT = {"aura": ("partial é", b"\xe2\x9c"), "openai": ("partial é\ufffd", b"")}
# A sync stream over the caller's own http_client cannot bound each read of the
# rest of the body after data: [DONE] (only the SDK's own pool can), so there it
# closes the response, and that connection, as the README says.
SYNC_CONNECTIONS = {"aura": 1, "openai": 2}


class Boom(Exception):
    pass


@pytest.fixture
def client(server: AuraServer, stack: ModuleType) -> Iterator[AuraClient]:
    with sync_client(stack, limits=one_connection(stack)) as http:
        yield AuraClient(
            base_url=server.base_url,
            dialect=server.dialect,
            http_client=http,
            timeout=TIMEOUT,
            max_retries=0,
        )


def assert_pool_free(client: AuraClient) -> None:
    """The single connection is free again: another whole request goes through."""
    assert client.chat(HI) == "Hello, world"


# --- sync: the connection goes back to the pool ------------------------------


@both
def test_sync_with_block_exit(client: AuraClient, server: AuraServer) -> None:
    server.script(LONG)
    with client.stream(HI) as stream:
        assert next(stream) == "one "
    assert_pool_free(client)


@both
def test_sync_exhausted(client: AuraClient, server: AuraServer) -> None:
    server.script(LONG)
    stream = client.stream(HI)
    assert list(stream) == ["one ", "two ", "three ", "four"]
    assert stream.response is not None
    assert stream.response.is_closed
    assert_pool_free(client)


@both
def test_sync_whole_reply_leaves_the_connection_reusable(
    client: AuraClient, server: AuraServer
) -> None:
    server.script(LONG)
    assert client.chat(HI) == "one two three four"
    assert_pool_free(client)
    assert server.connections == SYNC_CONNECTIONS[server.dialect]


@both
def test_sync_own_client_keeps_the_connection(server: AuraServer) -> None:
    """The SDK's own pool: the rest of the body after [DONE] is read, bounded."""
    with AuraClient(
        base_url=server.base_url, dialect=server.dialect, timeout=TIMEOUT, max_retries=0
    ) as own:
        server.script(LONG)
        assert own.chat(HI) == "one two three four"
        assert own.chat(HI) == "Hello, world"
    assert server.connections == 1


@both
def test_sync_break_with_reference_kept(client: AuraClient, server: AuraServer) -> None:
    server.script(LONG)
    stream = client.stream(HI)
    for _ in stream:
        break
    stream.close()
    assert stream.text == "one "
    assert_pool_free(client)


@both
def test_sync_break_with_no_reference_kept(client: AuraClient, server: AuraServer) -> None:
    server.script(LONG)
    for _ in client.stream(HI):
        break
    assert_pool_free(client)


@both
def test_sync_exception_in_loop_body(client: AuraClient, server: AuraServer) -> None:
    server.script(LONG)
    with pytest.raises(Boom), client.stream(HI) as stream:
        for _ in stream:
            raise Boom
    assert_pool_free(client)
    server.script(LONG)
    with pytest.raises(Boom):
        for _ in client.stream(HI):
            raise Boom
    assert_pool_free(client)


@both
def test_sync_status_error(client: AuraClient, server: AuraServer) -> None:
    server.script(Fault(status=500, reason="Internal Server Error"))
    with pytest.raises(InternalServerError):
        client.chat(HI)
    assert_pool_free(client)


@both
def test_sync_dropped_connection_keeps_the_text(
    client: AuraClient, server: AuraServer, dialect: DialectName
) -> None:
    server.script(Fault(chunks=(b"partial \xc3\xa9", b"\xe2\x9c"), drop_after=2))
    with pytest.raises(StreamInterruptedError) as info:
        client.chat(HI)
    assert (info.value.text, info.value.truncated) == CUT[dialect]
    assert_pool_free(client)


@both
def test_sync_quiet_server_times_out_with_the_text(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"so far",), stall_after=1))
    with AuraClient(
        base_url=server.base_url, dialect=server.dialect, timeout=Timeout(read=0.3), max_retries=0
    ) as client:
        stream = client.stream(HI)
        with pytest.raises(StreamTimeoutError) as info:
            list(stream)
    assert info.value.text == stream.text == "so far"
    assert (info.value.limit, info.value.seconds) == ("read", 0.3)


@both
def test_sync_multibyte_split_across_chunks(client: AuraClient, server: AuraServer) -> None:
    server.script(Fault(chunks=(b"\xf0", b"\x9f\x99", b"\x82 caf\xc3", b"\xa9")))
    assert list(client.stream(HI)) == ["🙂 caf", "é"]


# --- async: the same, under asyncio and trio ---------------------------------


@pytest.fixture
async def aclient(server: AuraServer, stack: ModuleType) -> AsyncAuraClient:
    return AsyncAuraClient(
        base_url=server.base_url,
        dialect=server.dialect,
        http_client=async_client(stack, limits=one_connection(stack)),
        timeout=TIMEOUT,
        max_retries=0,
    )


async def assert_apool_free(client: AsyncAuraClient) -> None:
    assert await client.chat(HI) == "Hello, world"
    await client._http.aclose()


@pytest.mark.anyio
@both
async def test_async_with_block_exit(aclient: AsyncAuraClient, server: AuraServer) -> None:
    server.script(LONG)
    async with aclient.stream(HI) as stream:
        assert await stream.__anext__() == "one "
    await assert_apool_free(aclient)


@pytest.mark.anyio
@both
async def test_async_exhausted(aclient: AsyncAuraClient, server: AuraServer) -> None:
    server.script(LONG)
    stream = aclient.stream(HI)
    assert [c async for c in stream] == ["one ", "two ", "three ", "four"]
    await assert_apool_free(aclient)


@pytest.mark.anyio
@both
async def test_async_whole_reply_leaves_the_connection_reusable(
    aclient: AsyncAuraClient, server: AuraServer
) -> None:
    server.script(LONG)
    assert await aclient.chat(HI) == "one two three four"
    await assert_apool_free(aclient)
    assert server.connections == 1


@pytest.mark.anyio
@both
async def test_async_break_with_reference_kept(
    aclient: AsyncAuraClient, server: AuraServer
) -> None:
    server.script(LONG)
    stream = aclient.stream(HI)
    async for _ in stream:
        break
    await stream.aclose()
    assert stream.text == "one "
    await assert_apool_free(aclient)


@pytest.mark.anyio
@both
async def test_async_break_with_no_reference_kept(
    aclient: AsyncAuraClient, server: AuraServer
) -> None:
    server.script(LONG)
    async for _ in aclient.stream(HI):
        break
    gc.collect()  # CPython frees it at once; this only makes other interpreters agree
    await assert_apool_free(aclient)


@pytest.mark.anyio
@both
async def test_async_exception_in_loop_body(aclient: AsyncAuraClient, server: AuraServer) -> None:
    server.script(LONG)
    with pytest.raises(Boom):
        async with aclient.stream(HI) as stream:
            async for _ in stream:
                raise Boom
    assert await aclient.chat(HI) == "Hello, world"
    server.script(LONG)
    with pytest.raises(Boom):
        async for _ in aclient.stream(HI):
            raise Boom
    await assert_apool_free(aclient)


@pytest.mark.anyio
@both
async def test_async_status_error(aclient: AsyncAuraClient, server: AuraServer) -> None:
    server.script(Fault(status=500, reason="Internal Server Error"))
    with pytest.raises(InternalServerError):
        await aclient.chat(HI)
    await assert_apool_free(aclient)


@pytest.mark.anyio
@both
async def test_async_dropped_connection_keeps_the_text(
    aclient: AsyncAuraClient, server: AuraServer, dialect: DialectName
) -> None:
    server.script(Fault(chunks=(b"partial \xc3\xa9", b"\xe2\x9c"), drop_after=2))
    with pytest.raises(StreamInterruptedError) as info:
        await aclient.chat(HI)
    assert (info.value.text, info.value.truncated) == CUT[dialect]
    await assert_apool_free(aclient)


@pytest.mark.anyio
@both
async def test_async_quiet_server_times_out_with_the_text(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"so far",), stall_after=1))
    async with AsyncAuraClient(
        base_url=server.base_url, dialect=server.dialect, timeout=Timeout(read=0.3), max_retries=0
    ) as client:
        stream = client.stream(HI)
        with pytest.raises(StreamTimeoutError) as info:
            async for _ in stream:
                pass
    assert info.value.text == stream.text == "so far"


@pytest.mark.anyio
@both
async def test_async_multibyte_split_across_chunks(
    aclient: AsyncAuraClient, server: AuraServer
) -> None:
    server.script(Fault(chunks=(b"\xf0", b"\x9f\x99", b"\x82 caf\xc3", b"\xa9")))
    assert [c async for c in aclient.stream(HI)] == ["🙂 caf", "é"]
    await aclient._http.aclose()


@pytest.mark.anyio
@both
async def test_async_dropped_stream_is_closed_by_the_client_not_the_event_loop(
    aclient: AsyncAuraClient, server: AuraServer
) -> None:
    """A stream dropped open is closed by the client's next call, on its own loop.

    Left to the garbage collector, its async generator would be finalized by the
    event loop's asyncgen hook, at a time nobody controls (and after the loop is
    gone, as an "Event loop is closed" crash).
    """
    finalized_by_loop: list[str] = []
    hooks = sys.get_asyncgen_hooks()
    loop_finalizer = hooks.finalizer
    assert loop_finalizer is not None

    def spy(agen: AsyncGenerator[object, None]) -> None:
        finalized_by_loop.append(getattr(agen, "__qualname__", ""))
        loop_finalizer(agen)

    sys.set_asyncgen_hooks(firstiter=hooks.firstiter, finalizer=spy)
    try:
        server.script(LONG)
        async for _ in aclient.stream(HI):
            break
        assert len(aclient._orphans) == 1
        await assert_apool_free(aclient)
        assert aclient._orphans == []
    finally:
        sys.set_asyncgen_hooks(*hooks)
    assert "Response.aiter_bytes" not in finalized_by_loop


# --- what reaches the wire ---------------------------------------------------


def test_sync_proxy_and_headers_reach_the_wire(server: AuraServer) -> None:
    """With ``proxy=``, the request goes to the proxy in absolute form."""
    with AuraClient(
        base_url="http://aura.invalid", proxy=server.base_url, headers={"X-Team": "a"}
    ) as client:
        assert client.chat(HI) == "Hello, world"
    received = server.requests[0]
    assert received.path == "http://aura.invalid/api/chat"
    assert received.headers["x-team"] == "a"


@pytest.mark.anyio
async def test_async_proxy_and_headers_reach_the_wire(server: AuraServer) -> None:
    async with AsyncAuraClient(
        base_url="http://aura.invalid", proxy=server.base_url, headers={"X-Team": "a"}
    ) as client:
        assert await client.chat(HI) == "Hello, world"
    received = server.requests[0]
    assert received.path == "http://aura.invalid/api/chat"
    assert received.headers["x-team"] == "a"


@pytest.mark.anyio
async def test_compat_proxy_reaches_the_wire(server: AuraServer) -> None:
    from aura_sdk.compat import Aura

    chunks = Aura.create_async_generator(
        "m", HI, proxy=server.base_url, base_url="http://aura.invalid"
    )
    assert [c async for c in chunks] == ["Hello", ", world"]
    assert server.requests[0].path == "http://aura.invalid/api/chat"


# --- cancellation (async), under asyncio and trio ------------------------------


@pytest.mark.anyio
@both
async def test_async_cancelled_mid_stream_by_move_on_after(
    aclient: AsyncAuraClient, server: AuraServer
) -> None:
    server.script(Fault(chunks=(b"a", b"b"), stall_after=1))
    with anyio.move_on_after(0.3) as scope:
        async for _ in aclient.stream(HI):
            pass
    assert scope.cancelled_caught
    await assert_apool_free(aclient)


@pytest.mark.anyio
@both
async def test_async_cancelled_before_the_status_line(
    aclient: AsyncAuraClient, server: AuraServer
) -> None:
    server.script(Fault(delay=5))
    with anyio.move_on_after(0.3) as scope:
        await aclient.chat(HI)
    assert scope.cancelled_caught
    await assert_apool_free(aclient)


@pytest.mark.anyio
@both
async def test_async_cancelled_by_its_task_group(
    aclient: AsyncAuraClient, server: AuraServer
) -> None:
    server.script(Fault(chunks=(b"a", b"b"), stall_after=1))
    first = anyio.Event()

    async def reader() -> None:
        async with aclient.stream(HI) as stream:
            async for _ in stream:
                first.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(reader)
        await first.wait()
        tasks.cancel_scope.cancel()
    await assert_apool_free(aclient)


# --- one event loop per async client -------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"), [("asyncio", "asyncio"), ("trio", "asyncio"), ("asyncio", "trio")]
)
def test_async_client_used_from_a_second_event_loop(
    server: AuraServer, first: str, second: str
) -> None:
    # No keep-alive, so that the first loop leaves no socket behind for this test.
    http = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))
    client = AsyncAuraClient(base_url=server.base_url, http_client=http)

    async def use() -> str:
        return await client.chat(HI)

    assert anyio.run(use, backend=first) == "Hello, world"
    with pytest.raises(AuraUsageError, match="first used in another event loop"):
        anyio.run(use, backend=second)
    assert len(server.requests) == 1


# --- after data: [DONE]: the rest of the body is read, bounded ------------------

DONE = (
    b'data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\n',
    b"data: [DONE]\n\n",
)
AFTER_DONE = {
    # the body stays open, silent (a server that never ends it)
    "silent": Fault(sse=(*DONE, b": ping\n\n"), stall_after=3),
    # more than DRAIN_BYTES follows (comments, never an event)
    "flood": Fault(sse=(*DONE, *[b": " + b"x" * 16382 + b"\n\n"] * 8)),
}
SLOW = Timeout(connect=5, response=5, read=60, write=5, pool=5)
after_done = pytest.mark.parametrize("after", sorted(AFTER_DONE))


GUARD = 10.0  # seconds: far above DRAIN_SECONDS, far below SLOW.read


@after_done
def test_sync_rest_after_done_is_bounded(openai_server: AuraServer, after: str) -> None:
    """A body that goes on after [DONE] costs at most its connection, never the
    read limit (60 s here: the guard fires long before)."""
    replies: list[str] = []

    def chat_twice() -> None:
        with AuraClient(
            base_url=openai_server.base_url, dialect="openai", timeout=SLOW, max_retries=0
        ) as own:
            openai_server.script(AFTER_DONE[after])
            replies.append(own.chat(HI))
            replies.append(own.chat(HI))  # a new connection, or the same one

    worker = threading.Thread(target=chat_twice, daemon=True)
    worker.start()
    worker.join(GUARD)
    assert not worker.is_alive(), "the stream waited for the end of the body"
    assert replies[0] == "hi"
    assert replies[1].startswith("Hello")  # the next request is not held up


@pytest.mark.anyio
@after_done
@pytest.mark.parametrize("caller", HTTP_CLIENTS)
async def test_async_rest_after_done_is_bounded(
    openai_server: AuraServer, after: str, caller: str | None
) -> None:
    http = None if caller is None else async_client(caller)
    async with AsyncAuraClient(
        base_url=openai_server.base_url,
        dialect="openai",
        http_client=http,
        timeout=SLOW,
        max_retries=0,
    ) as client:
        openai_server.script(AFTER_DONE[after])
        with anyio.fail_after(GUARD):
            assert await client.chat(HI) == "hi"
            assert (await client.chat(HI)).startswith("Hello")
    if http is not None:
        await http.aclose()


# --- one connection for many sequential streams (openai/openai-python#3440) --------

SEQUENTIAL = 20


@both
def test_sync_sequential_streams_use_one_connection(server: AuraServer) -> None:
    with AuraClient(
        base_url=server.base_url, dialect=server.dialect, timeout=TIMEOUT, max_retries=0
    ) as own:
        for _ in range(SEQUENTIAL):
            with own.stream(HI) as stream:
                assert "".join(stream) == "Hello, world"
    assert server.connections == 1


@pytest.mark.anyio
@both
@pytest.mark.parametrize("caller", HTTP_CLIENTS)
async def test_async_sequential_streams_use_one_connection(
    server: AuraServer, caller: str | None
) -> None:
    http = None if caller is None else async_client(caller)
    async with AsyncAuraClient(
        base_url=server.base_url,
        dialect=server.dialect,
        http_client=http,
        timeout=TIMEOUT,
        max_retries=0,
    ) as client:
        for _ in range(SEQUENTIAL):
            async with client.stream(HI) as stream:
                assert "".join([chunk async for chunk in stream]) == "Hello, world"
    if http is not None:
        await http.aclose()
    assert server.connections == 1


# --- the drain ends by the call's total deadline too (an adversary's finding) -------


def _done_then_pings(peer: Peer) -> None:
    head_ = head(headers={"Content-Type": "text/event-stream"})
    peer.send(head_ + chunked(*DONE, end=False))
    for _ in range(200):  # a comment every 50 ms, for at most the guard's 10 s
        if not peer.send(chunked(b": x\n\n", end=False)) or peer.sleep(0.05):
            return


@pytest.mark.parametrize("facade", ["sync", "asyncio", "trio"])
def test_drain_ends_by_the_total_deadline(monkeypatch: pytest.MonkeyPatch, facade: str) -> None:
    """With the drain's own bound lifted to 30 s, only the total deadline (0.5 s) can
    end the read of what follows [DONE] (comments, forever): the reply is complete,
    and the call returns long before the guard."""
    import aura_sdk._http

    monkeypatch.setattr(aura_sdk._http, "DRAIN_SECONDS", 30.0)
    limits = Timeout(connect=5, response=5, read=60, write=5, pool=5, total=0.5)
    replies: list[str] = []
    with hostile(_done_then_pings) as raw:
        url = raw.base_url + "/v1"

        def call() -> None:
            if facade == "sync":
                with AuraClient(base_url=url, dialect="openai", timeout=limits) as own:
                    replies.append(own.chat(HI))
                return

            async def main() -> None:
                async with AsyncAuraClient(
                    base_url=url, dialect="openai", timeout=limits
                ) as client:
                    replies.append(await client.chat(HI))

            anyio.run(main, backend=facade)

        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        worker.join(GUARD)
        assert not worker.is_alive(), "the drain outlived the total deadline"
    assert replies == ["hi"]
