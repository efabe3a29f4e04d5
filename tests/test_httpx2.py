"""The SDK over httpx2 (pydantic's fork of httpx, openai-python 3.x's stack), beside
httpx: a caller's ``httpx2.Client`` / ``AsyncClient`` as ``http_client=``.

httpx2 installs on Python 3.10+ only: on Python 3.9 the httpx2 half of this
file is reported as not applicable (the one skip of the suite). The fault suites
run over both stacks too (the ``stack`` fixture); here, on real sockets: a reply
in each dialect, retries, each time limit, a cut, a bomb, a dead pooled
connection, one connection for many streams, secrets in the stack's own logs,
the clients refused, and the SDK in a process where ``httpx2.alias_httpx()`` made
``import httpx`` give httpx2.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from types import ModuleType
from typing import Any

import anyio
import httpx
import pytest

from aura_sdk import (
    APIConnectionError,
    APITimeoutError,
    AsyncAuraClient,
    AuraClient,
    AuraValidationError,
    AuthenticationError,
    ContextLengthError,
    DialectName,
    InternalServerError,
    ResponseTooLargeError,
    StreamInterruptedError,
    Timeout,
    user,
)
from aura_sdk.server import AuraServer, Fault
from tests._hostile import Peer, _read_request, chunked, gzip_bomb, head, hostile
from tests._stacks import NEEDS_HTTPX2, async_client, sync_client

HI = [user("Hi")]
HELLO = Fault(chunks=(b"Hello", b", world"))
GUARD = 10.0  # a hang guard, never a measure
FAST = Timeout(connect=2, response=0.5, read=0.5, write=2, pool=2)


def _sync(stack: ModuleType, server: AuraServer | str, **kwargs: Any) -> tuple[Any, AuraClient]:
    http = sync_client(stack, limits=stack.Limits(max_connections=1))
    base = server if isinstance(server, str) else server.base_url
    dialect = kwargs.pop("dialect", "openai" if "/v1" in base else "aura")
    kwargs.setdefault("max_retries", 0)
    return http, AuraClient(base_url=base, dialect=dialect, http_client=http, **kwargs)


def _async(
    stack: ModuleType, server: AuraServer | str, **kwargs: Any
) -> tuple[Any, AsyncAuraClient]:
    http = async_client(stack, limits=stack.Limits(max_connections=1))
    base = server if isinstance(server, str) else server.base_url
    dialect = kwargs.pop("dialect", "openai" if "/v1" in base else "aura")
    kwargs.setdefault("max_retries", 0)
    return http, AsyncAuraClient(base_url=base, dialect=dialect, http_client=http, **kwargs)


@pytest.mark.parametrize("dialect", ["aura", "openai"])
def test_sync_reply_and_retries(aura_server_factory: Any, stack: ModuleType, dialect: str) -> None:
    server = aura_server_factory(dialect=dialect, fault=HELLO)
    server.script(Fault(status=503, headers={"Retry-After": "0"}), HELLO)
    http, client = _sync(stack, server, max_retries=1)
    with http, client:
        stream = client.stream(HI)
        with stream:
            assert "".join(stream) == "Hello, world"
        assert stream.retries == 1
        for _ in range(5):
            assert client.chat(HI) == "Hello, world"
    # A sync stream over a caller's client cannot bound the read after [DONE], so
    # it closes the connection there (documented); the Aura dialect's body just ends.
    assert server.connections == (1 if dialect == "aura" else 6)


@pytest.mark.anyio
@pytest.mark.parametrize("dialect", ["aura", "openai"])
async def test_async_reply_and_retries(
    aura_server_factory: Any, stack: ModuleType, dialect: str
) -> None:
    server = aura_server_factory(dialect=dialect, fault=HELLO)
    server.script(Fault(status=503, headers={"Retry-After": "0"}), HELLO)
    http, client = _async(stack, server, max_retries=1)
    async with http, client:
        with anyio.fail_after(GUARD):
            assert await client.chat(HI) == "Hello, world"
            for _ in range(5):
                assert await client.chat(HI) == "Hello, world"
    assert server.connections == 1


FAULTS: dict[str, tuple[Fault, type[APIConnectionError] | type[AuthenticationError], str]] = {
    # each time limit, named; the text so far kept
    "stall-mid-reply": (Fault(chunks=(b"Hel", b"lo"), stall_after=1), APITimeoutError, "Hel"),
    "hang-before-status": (Fault(delay=30), APITimeoutError, ""),
    "drop-mid-reply": (Fault(chunks=(b"Hel", b"lo"), drop_after=1), StreamInterruptedError, "Hel"),
    "closed-before-status": (Fault(close_before_status=True), APIConnectionError, ""),
    "bad-key-401": (
        Fault(status=401, body='{"detail": "Invalid API key"}'),
        AuthenticationError,
        "",
    ),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_sync_faults_map_to_the_typed_tree(
    aura_server_factory: Any, stack: ModuleType, name: str
) -> None:
    fault, cls, text = FAULTS[name]
    server = aura_server_factory(dialect="openai")
    server.script(fault)
    http, client = _sync(stack, server, timeout=FAST)
    with http, client, pytest.raises(cls) as caught:
        client.chat(HI)
    assert caught.value.text == text
    cause = caught.value.__cause__
    if cause is not None:  # the stack's own exception, kept as the cause, never raised
        assert type(cause).__module__.split(".")[0] in (
            "httpx",
            "httpx2",
            "httpcore",
            "httpcore2",
            "builtins",
        )


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(FAULTS))
async def test_async_faults_map_to_the_typed_tree(
    aura_server_factory: Any, stack: ModuleType, name: str
) -> None:
    fault, cls, text = FAULTS[name]
    server = aura_server_factory(dialect="openai")
    server.script(fault)
    http, client = _async(stack, server, timeout=FAST)
    async with http, client:
        with anyio.fail_after(GUARD), pytest.raises(cls) as caught:
            await client.chat(HI)
    assert caught.value.text == text


def test_sync_text_limit_and_total(aura_server_factory: Any, stack: ModuleType) -> None:
    server = aura_server_factory(dialect="openai", flavor="llama-cpp-python", keepalive=0.05)
    server.script(Fault(chunks=(b"Hel", b"lo"), stall_after=1))
    http, client = _sync(stack, server, timeout=Timeout(read=5, text=0.3))
    with http, client, pytest.raises(APITimeoutError) as caught:
        client.chat(HI)
    assert caught.value.limit == "text"


def _bomb(peer: Peer) -> None:
    body = gzip_bomb(64 * 1024 * 1024)
    peer.send(
        head(headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"}) + chunked(body)
    )


def test_sync_a_compression_bomb_is_cut(stack: ModuleType) -> None:
    with hostile(_bomb) as server:
        http, client = _sync(stack, server.base_url, max_response_bytes=1024 * 1024)
        with http, client, pytest.raises(ResponseTooLargeError):
            client.chat(HI)


def _then_dead(peer: Peer) -> None:
    sse = (
        b'data: {"choices":[{"delta":{"content":"Hi"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    )
    peer.send(head(headers={"Content-Type": "text/event-stream"}) + chunked(sse))
    _read_request(peer.sock)  # the next request on this connection: taken, unanswered


def test_sync_a_dead_pooled_connection_is_sent_again(stack: ModuleType) -> None:
    with hostile(_then_dead) as server:
        http, client = _sync(stack, server.base_url + "/v1")
        with http, client:
            assert client.chat(HI) == "Hi"
            assert client.chat(HI) == "Hi"
        assert server.connections == 2


@pytest.mark.anyio
async def test_async_a_dead_pooled_connection_is_sent_again(stack: ModuleType) -> None:
    with hostile(_then_dead) as server:
        http, client = _async(stack, server.base_url + "/v1")
        async with http, client:
            with anyio.fail_after(GUARD):
                assert await client.chat(HI) == "Hi"
                assert await client.chat(HI) == "Hi"
        assert server.connections == 2


def test_sync_overflow_flavor(aura_server_factory: Any, stack: ModuleType) -> None:
    server = aura_server_factory(dialect="openai", flavor="llama-cpp-python", context=64)
    http, client = _sync(stack, server)
    with http, client:
        with pytest.raises(ContextLengthError, match="maximum context length is 64"):
            client.chat([user("word " * 200)])
        assert client.chat(HI)


@pytest.mark.anyio
async def test_async_overflow_flavor(aura_server_factory: Any, stack: ModuleType) -> None:
    server = aura_server_factory(dialect="openai", flavor="llama-cpp-python", context=64)
    http, client = _async(stack, server)
    async with http, client:
        with anyio.fail_after(GUARD):
            with pytest.raises(ContextLengthError, match="maximum context length is 64"):
                await client.chat([user("word " * 200)])
            assert await client.chat(HI)


def test_no_secret_in_the_stacks_own_logs(
    aura_server_factory: Any, stack: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    key = "sk-stack-secret-9876"
    server = aura_server_factory(dialect="openai", api_keys={key}, fault=HELLO)
    caplog.set_level(logging.DEBUG)
    http, client = _sync(stack, server, api_key=key)
    with http, client:
        assert client.chat(HI) == "Hello, world"
    assert caplog.records, "the stack logged nothing at DEBUG"
    assert all(key not in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("facade", [AuraClient, AsyncAuraClient])
def test_a_foreign_or_mismatched_client_is_refused_before_anything_is_sent(
    stack: ModuleType, facade: type[AuraClient] | type[AsyncAuraClient]
) -> None:
    other = async_client(stack) if facade is AuraClient else sync_client(stack)
    for wrong in (other, object(), httpx.Headers()):
        with pytest.raises(AuraValidationError, match="http_client: expected an httpx") as caught:
            facade(http_client=wrong)  # type: ignore[arg-type]
        assert "httpx2" in str(caught.value)
    if hasattr(other, "close"):
        other.close()


def test_import_aura_sdk_imports_no_httpx2() -> None:
    code = "import sys, aura_sdk; print('httpx2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


ALIASED = """
import httpx2; httpx2.alias_httpx()  # before anything imports httpx: the SDK's httpx is httpx2
import sys, anyio, httpx
from aura_sdk import AsyncAuraClient, AuraClient, StreamTimeoutError, APITimeoutError, Timeout, user
from aura_sdk.server import AuraServer, Fault
assert httpx.__name__ == "httpx2"
HI, STALL = [user("hi")], Fault(chunks=(b"a", b"b"), stall_after=1)


def raised(call):
    try:
        call()
    except Exception as error:
        return error
    raise AssertionError("nothing was raised")


async def araised(call):
    try:
        await call()
    except Exception as error:
        return error
    raise AssertionError("nothing was raised")


with AuraServer(pace=0, fault=Fault(chunks=(b"Hello", b", world"))) as server:
    with AuraClient(base_url=server.base_url, max_retries=0) as client:
        assert client.chat(HI) == "Hello, world"
        server.script(STALL)
        error = raised(lambda: client.chat(HI, timeout=Timeout(read=0.3)))
        assert isinstance(error, StreamTimeoutError), repr(error)
        assert (error.limit, error.text) == ("read", "a"), error
        server.script(Fault(delay=2))
        error = raised(lambda: client.chat(HI, timeout=Timeout(response=0.3)))
        assert isinstance(error, APITimeoutError) and error.limit == "response", repr(error)
        assert client.chat(HI) == "Hello, world"

    async def main() -> None:
        async with AsyncAuraClient(base_url=server.base_url, max_retries=0) as client:
            assert await client.chat(HI) == "Hello, world"
            server.script(STALL)
            error = await araised(lambda: client.chat(HI, timeout=Timeout(text=0.3)))
            assert isinstance(error, StreamTimeoutError), repr(error)
            assert (error.limit, error.text) == ("text", "a"), error
            assert await client.chat(HI) == "Hello, world"

    anyio.run(main)
    anyio.run(main, backend="trio")
print("ok")
"""


@NEEDS_HTTPX2
def test_the_sdk_works_where_alias_httpx_made_httpx_httpx2() -> None:
    # httpx2.alias_httpx() (for applications moving off httpx) makes `import httpx` give
    # httpx2 and `import httpcore` httpcore2, process-wide: the SDK's own client is
    # then an httpx2 one, and every limit still holds, each error still typed.
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", ALIASED],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (out.returncode, out.stdout.strip()) == (0, "ok"), out.stderr


def _in_a_thread(work: Any) -> list[object]:
    """``work()``'s outcome, from a daemon thread joined with a guard: a call that spins
    (at full CPU, holding its event loop) fails the test instead of hanging it."""
    import threading

    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as exc:  # the test says which
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(GUARD)
    assert not worker.is_alive(), "the call never returned"
    return outcome


@pytest.mark.parametrize("dialect", ["aura", "openai"])
@pytest.mark.parametrize("facade", ["sync", "asyncio", "trio"])
def test_a_response_hook_that_reads_the_body(
    aura_server_factory: Any, stack: ModuleType, dialect: DialectName, facade: str
) -> None:
    # httpx's logging recipe: a response event hook that reads the body. The SDK
    # used to iterate the spent stream again, spinning in the pool forever.
    server = aura_server_factory(dialect=dialect, fault=HELLO)
    base = server.base_url  # with /v1 in the openai dialect
    server.script(HELLO, Fault(status=500, body="boom"))

    def sync() -> object:
        with sync_client(stack, event_hooks={"response": [lambda r: r.read()]}) as http:
            client = AuraClient(base_url=base, dialect=dialect, http_client=http, max_retries=0)
            texts: list[object] = ["".join(client.stream(HI))]
            try:
                client.chat(HI)
            except InternalServerError as error:
                texts.append(error)
            return texts

    async def asynchronous() -> object:
        async def read(response: Any) -> None:
            await response.aread()

        async with async_client(stack, event_hooks={"response": [read]}) as http:
            client = AsyncAuraClient(
                base_url=base, dialect=dialect, http_client=http, max_retries=0
            )
            texts: list[object] = ["".join([t async for t in client.stream(HI)])]
            try:
                await client.chat(HI)
            except InternalServerError as error:
                texts.append(error)
            return texts

    work = sync if facade == "sync" else lambda: anyio.run(asynchronous, backend=facade)
    [outcome] = _in_a_thread(work)
    assert isinstance(outcome, list), repr(outcome)
    text, error = outcome
    assert text == "Hello, world"
    assert isinstance(error, InternalServerError), repr(error)
    assert "boom" in str(error)
