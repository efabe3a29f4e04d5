"""Fault family: servers that trickle. Every limit is a deadline, not a per-read timeout.

Each hostile script trickles its bytes, each well within the per-read limit, for
far longer than the limit under test; it records whether it got to send them
all. A limit that holds ends the call first, so the script never finishes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from types import ModuleType
from typing import Any

import pytest

from aura_sdk import (
    APIStatusError,
    APITimeoutError,
    AsyncAuraClient,
    AuraClient,
    AuraValidationError,
    DialectName,
    InternalServerError,
    RetryPolicy,
    StreamTimeoutError,
    Timeout,
)
from aura_sdk.server import AuraServer, Fault
from tests._harness import DIALECTS, HI, NO_WAIT, OK, ROLE, event
from tests._hostile import HostileServer, Peer, chunked, head, hostile
from tests._stacks import HTTP_CLIENTS, async_client, sync_client

EVERY = 0.02  # seconds between two trickled bytes: far within every per-read limit
PAD = {"X-Pad": "p" * 100}  # a head of ~150 bytes: ~3 s when trickled
Script = Callable[[Peer], bool]  # True: it sent everything (the limit did not hold)


def drip(peer: Peer, data: bytes) -> bool:
    """``data`` a byte at a time; True once the last byte is out (the limit did not hold)."""
    for i in range(len(data)):
        if (i and peer.sleep(EVERY)) or not peer.send(data[i : i + 1]):
            return False
    return True


def trickled_head(peer: Peer) -> bool:
    done = drip(peer, head(headers=PAD))
    peer.send(chunked(b"late"))
    return done


def trickled_error_body(peer: Peer) -> bool:
    status = head("500 Internal Server Error", {"Content-Length": "100"}, chunked=False)
    return peer.send(status) and drip(peer, b"e" * 100)


def silent_error_body(peer: Peer) -> bool:
    status = head("500 Internal Server Error", {"Content-Length": "4"}, chunked=False)
    return peer.send(status) and not peer.sleep(1.5) and peer.send(b"late")


def trickled_models_body(peer: Peer) -> bool:
    ok = head(headers={"Content-Length": "100", "Content-Type": "application/json"}, chunked=False)
    return peer.send(ok) and drip(peer, b"[" + b" " * 98 + b"]")


def silent_models_body(peer: Peer) -> bool:
    ok = head(headers={"Content-Length": "2"}, chunked=False)
    return peer.send(ok) and not peer.sleep(1.5) and peer.send(b"[]")


def trickled_chunk_header(peer: Peer) -> bool:
    # No body bytes reach the caller while a chunk's header line trickles (here a
    # long chunk extension), so only a deadline on each socket read can end it.
    if not peer.send(head() + chunked(b"Hel", end=False)):
        return False
    done = drip(peer, b"5;" + b"a" * 100 + b"\r\n")
    peer.send(b"world\r\n" + chunked())
    return done


SSE = {"Content-Type": "text/event-stream; charset=utf-8"}


def trickled_event(peer: Peer) -> bool:
    # An event that never completes: bytes keep coming, no text does.
    if not peer.send(head(headers=SSE) + chunked(ROLE + event(b"Hel"), end=False)):
        return False
    return drip(peer, chunked(event(b"lo " * 40), end=False))


def keep_alive_forever(peer: Peer) -> bool:
    # A server that pings (": keep-alive" comments) and never answers.
    if not peer.send(head(headers=SSE) + chunked(ROLE + event(b"Hel"), end=False)):
        return False
    return all(
        not peer.sleep(EVERY) and peer.send(chunked(b": keep-alive\n\n", end=False))
        for _ in range(150)
    )


def trickled_openai_models_body(peer: Peer) -> bool:
    ok = head(headers={"Content-Length": "100", "Content-Type": "application/json"}, chunked=False)
    return peer.send(ok) and drip(peer, b'{"object":"list","data":[' + b" " * 73 + b"]}")


@dataclass(frozen=True)
class Trickle:
    """A trickling server and what the caller must see, long before it is done."""

    id: str
    script: Script
    error: type[BaseException]
    timeout: Timeout
    limit: str | None = None
    message: str | None = None
    text: str | None = None
    call: str = "chat"
    max_retries: int | RetryPolicy = 0
    retries: int = 0
    attrs: dict[str, Any] = field(default_factory=dict)
    dialect: DialectName = "aura"  # the client's; the trickling peer speaks it

    def url(self, server: HostileServer) -> str:
        return server.base_url + ("/v1" if self.dialect == "openai" else "")


QUICK = {"connect": 2.0, "write": 2.0, "pool": 1.0}
CASES = [
    Trickle(
        "head-trickled",
        trickled_head,
        APITimeoutError,
        Timeout(response=0.3, read=5, **QUICK),
        limit="response",
        message="response timeout after 0.3s",
    ),
    Trickle(
        "head-trickled-is-retried",
        trickled_head,
        APITimeoutError,
        Timeout(response=0.3, read=5, **QUICK),
        limit="response",
        max_retries=NO_WAIT,
        retries=2,
    ),
    Trickle(
        "head-trickled-total",
        trickled_head,
        APITimeoutError,
        Timeout(response=5, read=5, total=0.4, **QUICK),
        limit="total",
        message="total timeout after 0.4s",
    ),
    Trickle(
        "error-body-trickled-total",
        trickled_error_body,
        InternalServerError,  # the status line says what went wrong
        Timeout(response=5, read=5, total=0.4, **QUICK),
        message="500 Internal Server Error",
    ),
    Trickle(
        "error-body-silent-read",
        silent_error_body,
        InternalServerError,
        Timeout(response=5, read=0.3, **QUICK),
        attrs={"body": ""},  # not the "late" that came after the read limit
    ),
    Trickle(
        "models-body-trickled-total",
        trickled_models_body,
        APITimeoutError,
        Timeout(response=5, read=5, total=0.4, **QUICK),
        limit="total",
        message="total timeout after 0.4s",
        call="models",
    ),
    Trickle(
        "models-body-silent-read",
        silent_models_body,
        APITimeoutError,
        Timeout(response=5, read=0.3, **QUICK),
        limit="read",
        message="read timeout after 0.3s",
        call="models",
    ),
    Trickle(
        "reply-chunk-header-trickled-total",
        trickled_chunk_header,
        StreamTimeoutError,
        Timeout(response=5, read=1, total=0.4, **QUICK),
        limit="total",
        text="Hel",
    ),
    # The openai dialect's bodies: server-sent events, and /v1/models' JSON object.
    Trickle(
        "openai-event-trickled-total",
        trickled_event,
        StreamTimeoutError,
        Timeout(response=5, read=1, total=0.4, **QUICK),
        limit="total",
        text="Hel",
        dialect="openai",
    ),
    Trickle(
        "openai-keep-alive-comments-forever-total",
        keep_alive_forever,
        StreamTimeoutError,
        Timeout(response=5, read=1, total=0.4, **QUICK),
        limit="total",
        text="Hel",
        dialect="openai",
    ),
    Trickle(
        "openai-models-body-trickled-total",
        trickled_openai_models_body,
        APITimeoutError,
        Timeout(response=5, read=5, total=0.4, **QUICK),
        limit="total",
        message="total timeout after 0.4s",
        call="models",
        dialect="openai",
    ),
]
cases = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


class Recorder:
    """Runs a script on each connection, and keeps whether each ran to its end."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.finished: list[bool] = []

    def __call__(self, peer: Peer) -> None:
        self.finished.append(self.script(peer))


def _check(case: Trickle, error: BaseException, server: HostileServer, rec: Recorder) -> None:
    assert isinstance(error, case.error), f"expected {case.error.__name__}, got {error!r}"
    if case.limit is not None:
        assert getattr(error, "limit", None) == case.limit
    if case.message is not None:
        assert case.message in str(error)
    if case.text is not None:
        assert getattr(error, "text", None) == case.text
    for name, value in case.attrs.items():
        assert getattr(error, name) == value, name
    assert getattr(error, "retries", 0) == case.retries
    server.close()  # ends the scripts still trickling, then records them
    assert len(rec.finished) == case.retries + 1
    assert not any(rec.finished), "the server trickled to its end: the limit did not hold"


@cases
def test_sync(case: Trickle) -> None:
    rec = Recorder(case.script)
    with hostile(rec) as server:
        client = AuraClient(
            base_url=case.url(server),
            dialect=case.dialect,
            timeout=case.timeout,
            max_retries=case.max_retries,
        )
        with client, pytest.raises(case.error) as info:
            client.models() if case.call == "models" else client.chat(HI)
        _check(case, info.value, server, rec)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("case", "caller"),
    [
        pytest.param(case, *caller.values, id=f"{case.id}-{caller.id}", marks=caller.marks)
        for case in CASES
        # A caller's own AsyncClient, of either stack, is bounded the same way in
        # either dialect.
        for caller in (HTTP_CLIENTS if case.dialect == "aura" else HTTP_CLIENTS[:1])
    ],
)
async def test_async(case: Trickle, caller: str | None) -> None:
    # A cancel scope bounds any transport, so a caller's own AsyncClient too.
    rec = Recorder(case.script)
    with hostile(rec) as server:
        async with async_client(caller or "httpx") as http:
            client = AsyncAuraClient(
                base_url=case.url(server),
                dialect=case.dialect,
                timeout=case.timeout,
                max_retries=case.max_retries,
                http_client=None if caller is None else http,
            )
            with pytest.raises(case.error) as info:
                await (client.models() if case.call == "models" else client.chat(HI))
            await client.aclose()
        _check(case, info.value, server, rec)


def short_trickled_head(peer: Peer) -> bool:
    return drip(peer, head()) and peer.send(chunked(b"late"))


def test_sync_caller_http_client_head_is_checked_when_it_arrives(stack: ModuleType) -> None:
    # The narrowed guarantee: a caller's own httpx.Client (or httpx2.Client) bounds
    # each socket read, so a trickled head is waited for; but a head later than its
    # limit is still the response timeout (and retried as one), never a success.
    rec = Recorder(short_trickled_head)
    with hostile(rec) as server, sync_client(stack) as http:
        url = server.base_url
        client = AuraClient(
            base_url=url, http_client=http, timeout=Timeout(response=0.3), max_retries=0
        )
        with pytest.raises(APITimeoutError) as info:
            client.chat(HI)
    assert (info.value.limit, str(info.value)) == (
        "response",
        f"response timeout after 0.3s (POST {url}/api/chat, not retried)",
    )


# -- the chunk that arrives with the deadline is kept ------------------------------


def head_and_first_chunk(peer: Peer) -> bool:
    # One segment: the chunk is buffered with the head, there before it is asked for.
    if b"/v1/" in peer.request.head:  # the openai dialect: the same, as events
        first = head(headers=SSE) + chunked(ROLE + event(b"kept"), end=False)
    else:
        first = head() + chunked(b"kept", end=False)
    return peer.send(first) and not peer.sleep(5)


def _url(server: HostileServer, dialect: DialectName) -> str:
    return server.base_url + ("/v1" if dialect == "openai" else "")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sync_chunk_that_arrives_with_the_deadline_is_kept(dialect: DialectName) -> None:
    with hostile(Recorder(head_and_first_chunk)) as server:
        client = AuraClient(
            base_url=_url(server, dialect),
            dialect=dialect,
            timeout=Timeout(total=0.3),
            max_retries=0,
        )
        with client, client.stream(HI) as stream:
            time.sleep(0.5)  # the deadline passes before the first chunk is read
            with pytest.raises(StreamTimeoutError) as info:
                list(stream)
            assert stream.text == "kept"
    assert (info.value.limit, info.value.text) == ("total", "kept")


@pytest.mark.anyio
@pytest.mark.parametrize("dialect", DIALECTS)
async def test_async_chunk_that_arrives_with_the_deadline_is_kept(dialect: DialectName) -> None:
    with hostile(Recorder(head_and_first_chunk)) as server:
        client = AsyncAuraClient(
            base_url=_url(server, dialect),
            dialect=dialect,
            timeout=Timeout(total=0.3),
            max_retries=0,
        )
        async with client, client.stream(HI) as stream:
            time.sleep(0.5)  # blocking on purpose: nothing may be read meanwhile
            with pytest.raises(StreamTimeoutError) as info:
                [chunk async for chunk in stream]
            assert stream.text == "kept"
    assert (info.value.limit, info.value.text) == ("total", "kept")


# -- redirects are never followed ---------------------------------------------------


def redirect_to(status: str, target: HostileServer) -> Callable[[Peer], None]:
    location = f"http://bob:hunter2@127.0.0.1:{target.port}/api/chat"
    answer = head(status, {"Location": location, "Content-Length": "0"}, chunked=False)

    def script(peer: Peer) -> None:
        peer.send(answer)

    return script


REDIRECTS = ["301 Moved Permanently", "302 Found", "303 See Other", "307 Temporary Redirect"]


def _check_redirect(error: APIStatusError, status: str, target: HostileServer) -> None:
    assert type(error) is APIStatusError
    assert error.status_code == int(status[:3])
    message = str(error)
    assert f"to http://***@127.0.0.1:{target.port}/api/chat" in message
    assert "does not follow redirects" in message
    assert "hunter2" not in message
    assert "hunter2" not in repr(error)
    assert target.requests == [], "the redirect was followed"


@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("follow", [True, False], ids=["follows", "default"])
def test_sync_redirect_is_an_error_never_followed(
    status: str, follow: bool, stack: ModuleType
) -> None:
    with hostile(lambda peer: None) as target, hostile(redirect_to(status, target)) as origin:
        with sync_client(stack, follow_redirects=follow) as http:
            client = AuraClient(base_url=origin.base_url, http_client=http, max_retries=NO_WAIT)
            with pytest.raises(APIStatusError) as info:
                client.chat(HI)
        _check_redirect(info.value, status, target)
        assert info.value.retries == 0


@pytest.mark.anyio
@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("follow", [True, False], ids=["follows", "default"])
async def test_async_redirect_is_an_error_never_followed(
    status: str, follow: bool, stack: ModuleType
) -> None:
    with hostile(lambda peer: None) as target, hostile(redirect_to(status, target)) as origin:
        async with async_client(stack, follow_redirects=follow) as http:
            client = AsyncAuraClient(
                base_url=origin.base_url, http_client=http, max_retries=NO_WAIT
            )
            with pytest.raises(APIStatusError) as info:
                await client.chat(HI)
        _check_redirect(info.value, status, target)
        assert info.value.retries == 0


# -- limits that no clock holds -----------------------------------------------------

FIELDS = ["connect", "response", "read", "write", "pool", "total"]
REFUSED: list[object] = [
    1e12,
    1e300,
    10**400,
    -(10**400),
    1_000_001,
    True,
    False,
    "5",
    b"5",
    1j,
    Decimal("5"),
    Fraction(1, 2),
    math.nan,
    -math.inf,
    0,
    -1.0,
    [5],
]


@pytest.mark.parametrize("name", FIELDS)
@pytest.mark.parametrize("value", REFUSED, ids=lambda v: repr(v)[:40])
def test_limit_that_no_clock_holds_is_refused(name: str, value: object) -> None:
    kwargs: dict[str, Any] = {name: value}
    with pytest.raises(AuraValidationError, match=f"timeout.{name}"):
        Timeout(**kwargs)


@pytest.mark.parametrize("value", [*REFUSED, math.inf, None], ids=lambda v: repr(v)[:40])
def test_bare_timeout_that_no_clock_holds_is_refused(value: object) -> None:
    with pytest.raises(AuraValidationError, match="timeout"):
        AuraClient(timeout=value)  # type: ignore[arg-type]
    with pytest.raises(AuraValidationError, match="timeout"):
        AsyncAuraClient(timeout=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", FIELDS)
def test_inf_is_no_limit(name: str) -> None:
    assert getattr(Timeout(**{name: math.inf}), name) is None
    assert getattr(Timeout(**{name: 1e6}), name) == 1e6  # the largest finite limit


HUGE = Timeout(connect=math.inf, response=math.inf, read=1e6, write=1e6, pool=math.inf, total=1e6)


def test_sync_largest_limits_work(server: AuraServer) -> None:
    with AuraClient(base_url=server.base_url, timeout=HUGE) as client:
        assert client.chat(HI) == OK
        assert client.chat(HI, timeout=Timeout(read=math.inf, total=math.inf)) == OK


@pytest.mark.anyio
async def test_async_largest_limits_work(server: AuraServer) -> None:
    async with AsyncAuraClient(base_url=server.base_url, timeout=HUGE) as client:
        assert await client.chat(HI) == OK
        assert await client.chat(HI, timeout=Timeout(read=math.inf, total=math.inf)) == OK


@pytest.mark.parametrize("value", [1e12, "5", math.inf], ids=lambda v: repr(v)[:40])
def test_per_call_limit_refused_before_anything_is_sent(server: AuraServer, value: object) -> None:
    server.script(Fault(chunks=(b"x",)))
    with AuraClient(base_url=server.base_url) as client:
        with pytest.raises(AuraValidationError):
            client.chat(HI, timeout=value)  # type: ignore[arg-type]
    assert server.requests == []


def test_sync_connect_ends_by_the_deadline() -> None:
    # The request's connect limit is clamped to the total when it is built; a
    # wait in the pool's queue first must not let the connect outlast the total.
    import httpcore

    from aura_sdk._http import deadline

    def answer(peer: Peer) -> None:
        peer.send(head() + chunked(b"ok"))

    with hostile(answer) as server:
        with AuraClient(base_url=server.base_url, max_retries=0) as client:
            backend = client._http._transport._pool._network_backend  # type: ignore[attr-defined]
            with deadline(time.monotonic() - 1), pytest.raises(httpcore.ConnectTimeout):
                backend.connect_tcp("127.0.0.1", server.port, timeout=30.0)
            with deadline(time.monotonic() + 30):
                backend.connect_tcp("127.0.0.1", server.port, timeout=None).close()
            assert client.chat(HI) == "ok"
