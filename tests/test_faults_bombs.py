"""Fault family: bodies built to exhaust memory or the parser. Each ends in a typed error.

Every case is played by a raw-socket peer on 127.0.0.1 (``tests/_hostile.py``)
against both clients, async under asyncio and trio: compression bombs (gzip,
deflate, brotli, chained), encodings the SDK cannot bound, bodies long on the
wire but short decoded, oversized error and ``/api/models`` bodies, and JSON
nested deep enough to blow the parser's stack. ``test_peak_memory`` measures,
in a fresh interpreter, that a 1 GiB bomb never makes the process hold more
than a small multiple of the cap.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aura_sdk import (
    APIResponseValidationError,
    AsyncAuraClient,
    AuraClient,
    BadRequestError,
    DialectName,
    InternalServerError,
    Model,
    ResponseTooLargeError,
    StreamInterruptedError,
    Timeout,
    user,
)
from aura_sdk._content import (
    PIECE,
    BodyDecoder,
    BodyError,
    BodyTooLarge,
    CorruptBody,
    UnsupportedEncoding,
    accept_encoding,
    content_codings,
)
from tests._examples import examples
from tests._harness import DONE, ROLE, event
from tests._hostile import Peer, chunked, empty_blocks, gzip_bomb, head, hostile
from tests._stacks import HTTP_CLIENTS, async_client, sync_client

HI = [user("Hi")]
CAP = 1 << 20
FAST = Timeout(connect=2, response=2, read=2, write=2, pool=2)
BOMB = 64 << 20  # 64 MiB of zeros, about 64 KiB on the wire: one httpcore read

try:
    import brotli  # type: ignore[import-not-found,import-untyped,unused-ignore]
except ImportError:  # pragma: no cover - brotli comes with the dev extras
    brotli = None
BROTLI = "br" in accept_encoding()  # a brotli that decodes with bounded output


def _pieces(data: bytes, size: int = 16384) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def response(status: str, body: bytes, encoding: str | None = None) -> bytes:
    headers = {} if encoding is None else {"Content-Encoding": encoding}
    return head(status, headers) + chunked(*_pieces(body))


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data)


def sse_response(
    body: bytes, encoding: str | None = None, kind: str = "text/event-stream"
) -> bytes:
    """A ``200`` of the openai dialect: ``kind`` (an event stream), chunked, maybe encoded."""
    headers = {"Content-Type": kind, **({} if encoding is None else {"Content-Encoding": encoding})}
    return head("200 OK", headers) + chunked(*_pieces(body))


ZERO = event(b"zero ")
ZEROS_EVENTS = (CAP - len(ROLE)) // len(ZERO)  # the events whole within the cap


@cache
def _event_bomb() -> bytes:
    """16 MiB of events (16 times the cap), gzipped to some 50 KiB."""
    import gzip

    return gzip.compress(ROLE + ZERO * ((16 << 20) // len(ZERO)) + DONE, compresslevel=6)


@cache
def _huge_event() -> bytes:
    return _gzip(ROLE + event(b"Hel") + event(b"x" * (2 * CAP), "stop") + DONE)


def _brotli_bomb() -> bytes:
    assert brotli is not None
    data: bytes = brotli.compress(bytes(BOMB), quality=5)
    return data


@dataclass(frozen=True)
class Bomb:
    """A hostile answer, the call it answers, and what the caller must see."""

    id: str
    wire: Callable[[], bytes]  # the whole response, built when the case runs
    error: type[BaseException] | None
    text: str | None = None  # error.text, or the chat reply
    message: str | None = None  # a part of str(error)
    call: str = "chat"  # or "models"
    cap: int = CAP
    body: str | None = None  # an APIStatusError's .body
    models: list[Model] | None = None
    dialect: DialectName = "aura"  # the client's (the peer answers in it)
    hidden: str | None = None  # in none of str(error), repr(error), error.body


ZEROS = "\0" * CAP  # the text a zero bomb leaves at the cap
NOISE = random.Random(8).randbytes(20_000)  # incompressible

CASES = [
    # The reply: cut at the cap with the text up to it, however it was encoded.
    Bomb(
        "gzip-bomb",
        lambda: response("200 OK", gzip_bomb(BOMB), "gzip"),
        ResponseTooLargeError,
        ZEROS,
        f"max_response_bytes={CAP}",
    ),
    Bomb(
        "gzip-gzip-bomb",
        lambda: response("200 OK", _gzip(gzip_bomb(BOMB)), "gzip, gzip"),
        ResponseTooLargeError,
        ZEROS,
        f"max_response_bytes={CAP}",
    ),
    Bomb(
        "deflate-bomb",
        lambda: response("200 OK", gzip_bomb(BOMB, wbits=15), "deflate"),
        ResponseTooLargeError,
        ZEROS,
    ),
    Bomb(
        "raw-deflate-bomb",
        lambda: response("200 OK", gzip_bomb(BOMB, wbits=-15), "deflate"),
        ResponseTooLargeError,
        ZEROS,
    ),
    Bomb(
        "br-bomb",
        lambda: response("200 OK", _brotli_bomb(), "br"),
        ResponseTooLargeError if BROTLI else StreamInterruptedError,
        ZEROS if BROTLI else "",
        f"max_response_bytes={CAP}" if BROTLI else "'br'",
    ),
    Bomb(
        "long-on-the-wire-short-decoded",
        lambda: response("200 OK", empty_blocks(2 * CAP), "gzip"),
        ResponseTooLargeError,
        "hi",
        "as received",
    ),
    Bomb(
        "zstd-refused-by-name",
        lambda: response("200 OK", b"(\xb5/\xfd" + bytes(64), "zstd"),
        StreamInterruptedError,
        "",
        "Content-Encoding 'zstd'",
    ),
    Bomb(
        "unknown-encoding-refused-not-passed-on",
        lambda: response("200 OK", b"\x1f\x9d garbled", "compress"),
        StreamInterruptedError,
        "",
        "Content-Encoding 'compress'",
    ),
    Bomb(
        "gzip-cut-short-is-not-a-clean-end",
        lambda: response("200 OK", _gzip(NOISE)[:-10], "gzip"),
        StreamInterruptedError,
        message="gzip: the body ended before the compressed data did",
    ),
    Bomb(
        "br-cut-short-is-not-a-clean-end",
        lambda: response("200 OK", _encode(NOISE, "br")[:-10], "br"),
        StreamInterruptedError,
        message="br: the body ended before" if BROTLI else "'br'",
    ),
    Bomb(
        "gzip-empty-body",
        lambda: head("200 OK", {"Content-Encoding": "gzip", "Content-Length": "0"}, chunked=False),
        None,
        "",
    ),
    Bomb(
        "gzip-decoded",
        lambda: response("200 OK", _gzip(b"Hello, world"), "gzip"),
        None,
        "Hello, world",
    ),
    Bomb(
        "gzip-gzip-decoded",
        lambda: response("200 OK", _gzip(_gzip(b"Hello, world")), "gzip, gzip"),
        None,
        "Hello, world",
    ),
    Bomb(
        "gzip-members-decoded",
        lambda: response("200 OK", _gzip(b"Hello, ") + _gzip(b"world"), "gzip"),
        None,
        "Hello, world",
    ),
    # Error bodies: the status is the error; its body is bounded raw and decoded.
    Bomb(
        "error-gzip-bomb",
        lambda: response("500 Internal Server Error", gzip_bomb(BOMB), "gzip"),
        InternalServerError,
        message="500 Internal Server Error",
        body="\0" * 65536,
    ),
    Bomb(
        "error-bomb-under-a-small-cap",
        lambda: response("500 Internal Server Error", gzip_bomb(BOMB), "gzip"),
        InternalServerError,
        cap=1000,
        body="\0" * 1000,
    ),
    Bomb(
        "error-body-over-a-small-cap",
        lambda: response("502 Bad Gateway", b"x" * 200_000),
        InternalServerError,
        cap=1000,
        body="x" * 1000,
    ),
    Bomb(
        "error-body-in-zstd",
        lambda: response("503 Service Unavailable", b"(\xb5/\xfd" + bytes(64), "zstd"),
        InternalServerError,
        message="503 Service Unavailable",
        body="",
    ),
    Bomb(
        "error-body-nested-json",
        lambda: response("500 Internal Server Error", b"[" * 60_000),
        InternalServerError,
        message="500 Internal Server Error",
    ),
    Bomb(
        "error-body-nested-json-object",
        lambda: response("400 Bad Request", b'{"error": ' + b'{"a": ' * 10_000),
        BadRequestError,
        message="400 Bad Request",
    ),
    # /api/models: bounded the same way, and any other shape is a validation error.
    Bomb(
        "models-gzip-bomb",
        lambda: response("200 OK", gzip_bomb(BOMB), "gzip"),
        ResponseTooLargeError,
        ZEROS,
        f"max_response_bytes={CAP}",
        call="models",
    ),
    Bomb(
        "models-list-over-the-cap",
        lambda: response("200 OK", json.dumps([{"id": "m"}] * 200_000).encode()),
        ResponseTooLargeError,
        json.dumps([{"id": "m"}] * 200_000)[:CAP],
        call="models",
    ),
    Bomb(
        "models-long-on-the-wire",
        lambda: response("200 OK", empty_blocks(2 * CAP), "gzip"),
        ResponseTooLargeError,
        message="as received",
        call="models",
    ),
    Bomb(
        "models-nested-json",
        lambda: response("200 OK", b"[" * 100_000),
        APIResponseValidationError,
        message="nested too deep",
        call="models",
    ),
    Bomb(
        "models-nested-closed-json",
        lambda: response("200 OK", b"[" * 100_000 + b"]" * 100_000),  # deep for 3.13 too
        APIResponseValidationError,
        message="nested too deep",
        call="models",
    ),
    Bomb(
        "models-wrong-shape",
        lambda: response("200 OK", b'{"id": "openchat_3.6"}'),
        APIResponseValidationError,
        message="expected a JSON list",
        call="models",
    ),
    Bomb(
        "models-gzip-decoded",
        lambda: response("200 OK", _gzip(b'[{"id": "m", "name": "M"}]'), "gzip"),
        None,
        call="models",
        models=[Model("m", "M")],
    ),
    # The openai dialect: bodies of server-sent events, and JSON where it reads JSON.
    Bomb(
        "openai-gzip-bomb-of-events",
        lambda: sse_response(_event_bomb(), "gzip"),
        ResponseTooLargeError,
        "zero " * ZEROS_EVENTS,  # every event whole within the cap, none cut
        f"max_response_bytes={CAP}",
        dialect="openai",
    ),
    Bomb(
        "openai-endless-line-past-the-cap",
        lambda: sse_response(b"data: " + b"x" * (3 * CAP)),
        ResponseTooLargeError,
        "",
        f"max_response_bytes={CAP}",
        dialect="openai",
    ),
    Bomb(
        "openai-huge-event",
        lambda: sse_response(_huge_event(), "gzip"),
        ResponseTooLargeError,
        "Hel",  # the text before it is kept
        f"max_response_bytes={CAP}",
        dialect="openai",
    ),
    Bomb(
        "openai-events-gzip-decoded",
        lambda: sse_response(_gzip(ROLE + event(b"Hello, world", "stop") + DONE), "gzip"),
        None,
        "Hello, world",
        dialect="openai",
    ),
    Bomb(
        "openai-json-200-gzip-bomb",
        # A 200 in JSON is read whole as the error it may hold: bounded too.
        lambda: sse_response(gzip_bomb(BOMB), "gzip", "application/json"),
        APIResponseValidationError,
        message="expected an event stream",
        dialect="openai",
    ),
    Bomb(
        "openai-overflow-array-over-the-cap",
        # OpenChat's overflow answer, its token ids past the cap: none of them is quoted.
        lambda: sse_response(b"[[" + b"31337," * (CAP // 3), kind="application/json"),
        APIResponseValidationError,
        message="too long to read whole",
        dialect="openai",
        hidden="31337",
    ),
    Bomb(
        "openai-models-gzip-bomb",
        lambda: sse_response(gzip_bomb(BOMB), "gzip", "application/json"),
        ResponseTooLargeError,
        message=f"max_response_bytes={CAP}",
        call="models",
        dialect="openai",
    ),
    Bomb(
        "openai-models-nested-json",
        lambda: sse_response(b'{"data": ' + b"[" * 100_000, kind="application/json"),
        APIResponseValidationError,
        message="nested too deep",
        call="models",
        dialect="openai",
    ),
]
cases = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


def _play(wire: bytes) -> Callable[[Peer], None]:
    def script(peer: Peer) -> None:
        peer.send(wire)  # stops as soon as the client hangs up

    return script


def _check(case: Bomb, result: Any, error: BaseException | None) -> None:
    if case.error is None:
        assert error is None, f"unexpected {error!r}"
        assert result == (case.models if case.call == "models" else case.text)
        return
    assert isinstance(error, case.error), f"expected {case.error.__name__}, got {error!r}"
    if case.text is not None:
        assert getattr(error, "text", None) == case.text
    if case.message is not None:
        assert case.message in str(error)
    if case.body is not None:
        assert getattr(error, "body", None) == case.body
    if case.hidden is not None:
        for shown in (str(error), repr(error), str(getattr(error, "body", ""))):
            assert case.hidden not in shown


def _kwargs(base_url: str, case: Bomb) -> dict[str, Any]:
    return {
        "base_url": base_url + ("/v1" if case.dialect == "openai" else ""),
        "dialect": case.dialect,
        "max_retries": 0,
        "max_response_bytes": case.cap,
        "timeout": FAST,
    }


# The SDK's own client, and a caller's of either stack: the SDK decodes the body
# itself, bounded, whoever's client carries it.
callers = pytest.mark.parametrize("caller", HTTP_CLIENTS)


@cases
@callers
def test_sync(case: Bomb, caller: str | None) -> None:
    with hostile(_play(case.wire())) as server:
        result: Any = None
        error: BaseException | None = None
        http = None if caller is None else sync_client(caller)
        with AuraClient(**_kwargs(server.base_url, case), http_client=http) as client:
            try:
                result = client.models() if case.call == "models" else client.chat(HI)
            except Exception as exc:  # the case says which
                error = exc
        if http is not None:
            http.close()
        _check(case, result, error)
        assert server.requests[0].header("accept-encoding") == accept_encoding()


@pytest.mark.anyio
@cases
@callers
async def test_async(case: Bomb, caller: str | None) -> None:
    with hostile(_play(case.wire())) as server:
        result: Any = None
        error: BaseException | None = None
        http = None if caller is None else async_client(caller)
        async with AsyncAuraClient(**_kwargs(server.base_url, case), http_client=http) as client:
            try:
                result = await client.models() if case.call == "models" else await client.chat(HI)
            except Exception as exc:  # the case says which
                error = exc
        if http is not None:
            await http.aclose()
        _check(case, result, error)
        assert server.requests[0].header("accept-encoding") == accept_encoding()


def test_only_boundable_encodings_are_offered() -> None:
    offered = [c.strip() for c in accept_encoding().split(",")]
    assert offered[:2] == ["gzip", "deflate"]
    assert "zstd" not in offered  # no bounded zstd decoder on every supported Python
    assert ("br" in offered) == BROTLI


PEAK_LIMIT = 8 * CAP
"""Generous: the cap's text, a copy of it as it is joined, decoder buffers."""


@pytest.mark.parametrize("client", ["sync", "asyncio", "trio"])
def test_peak_memory(client: str) -> None:
    """A 1 GiB gzip bomb, cap 1 MiB, in a fresh interpreter: reply, error body, models."""
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "tests._bomb_peak", client, str(CAP)],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    peaks = json.loads(result.stdout)
    assert set(peaks) == {"chat", "error", "models"}
    for call, seen in peaks.items():
        assert seen["outcome"] == seen["expected"], call
        assert seen["traced_peak"] < PEAK_LIMIT, (call, seen)


def _gzip_then_hang(peer: Peer) -> None:
    body = _gzip(b"Hello, world " * 50_000)
    peer.send(
        head("200 OK", {"Content-Encoding": "gzip"}) + chunked(*_pieces(body, 512), end=False)
    )
    peer.hang(5)


@pytest.mark.anyio
async def test_a_dropped_encoded_stream_is_closed_by_the_client_not_the_event_loop() -> None:
    """The decoding generator of a dropped stream is closed by the client's next call."""
    finalized_by_loop: list[str] = []
    hooks = sys.get_asyncgen_hooks()
    loop_finalizer = hooks.finalizer
    assert loop_finalizer is not None

    def spy(agen: Any) -> None:
        finalized_by_loop.append(getattr(agen, "__qualname__", ""))
        loop_finalizer(agen)

    sys.set_asyncgen_hooks(firstiter=hooks.firstiter, finalizer=spy)
    try:
        with hostile(_gzip_then_hang) as server:
            async with AsyncAuraClient(base_url=server.base_url, timeout=FAST) as client:
                async for _ in client.stream(HI):
                    break
                assert len(client._orphans) == 1
                await client._reap()
                assert client._orphans == []
    finally:
        sys.set_asyncgen_hooks(*hooks)
    # What the SDK iterates, it closes (httpx's own inner generators are httpx's).
    ours = ("_adecoded", "BoundAsyncStream.__aiter__")
    assert not [name for name in finalized_by_loop if name.endswith(ours)]


# --- the sans-IO decoder itself ----------------------------------------------


def _encode(data: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return _gzip(data)
    if coding == "br":
        assert brotli is not None
        encoded: bytes = brotli.compress(data, quality=1)
        return encoded
    compressor = zlib.compressobj(6, zlib.DEFLATED, 15 if coding == "deflate" else -15)
    return compressor.compress(data) + compressor.flush()


CODINGS = ["gzip", "deflate", "raw-deflate", *(["br"] if BROTLI else [])]


@given(
    data=st.binary(max_size=5000) | st.just(bytes(300_000)),
    codings=st.lists(st.sampled_from(CODINGS), min_size=1, max_size=3),
    cuts=st.lists(st.integers(min_value=1, max_value=4096), max_size=20),
)
@settings(max_examples=examples(60), deadline=None)
def test_decoder_round_trips_in_bounded_pieces(
    data: bytes, codings: list[str], cuts: list[int]
) -> None:
    wire = data
    for coding in codings:
        wire = _encode(wire, coding)
    chunks, start = [], 0
    for cut in cuts:
        chunks.append(wire[start : start + cut])
        start += cut
    chunks.append(wire[start:])
    names = ["deflate" if c == "raw-deflate" else c for c in codings]
    pieces = list(BodyDecoder(names, max_raw=None).chunks(chunks))
    assert b"".join(pieces) == data
    assert all(0 < len(p) <= 2 * PIECE for p in pieces)


def test_decoder_bounds_every_piece_of_a_bomb() -> None:
    decoder = BodyDecoder(["gzip", "gzip"], max_raw=None)
    total = 0
    for piece in decoder.decode(_gzip(gzip_bomb(BOMB))):
        assert len(piece) <= PIECE
        total += len(piece)
    assert total == BOMB


@pytest.mark.parametrize(
    ("codings", "wire", "error", "message"),
    [
        (["gzip"], b"plain text", CorruptBody, "gzip:"),
        (["deflate"], b"\xff" * 20, CorruptBody, "deflate:"),
        (["zstd"], b"", UnsupportedEncoding, "'zstd'"),
        (["gzip"] * 9, b"", UnsupportedEncoding, "9 Content-Encodings"),
        (["gzip"], empty_blocks(5000), BodyTooLarge, "4096 bytes as received"),
    ],
)
def test_decoder_errors(
    codings: list[str], wire: bytes, error: type[BodyError], message: str
) -> None:
    with pytest.raises(error) as info:
        list(BodyDecoder(codings, max_raw=4096).chunks([wire]))
    assert message in str(info.value)


def test_decoder_decodes_up_to_the_raw_cap_before_it_stops() -> None:
    wire = _gzip(b"x" * 100_000)[:-8]  # no trailer: the cap comes first anyway
    got = bytearray()
    with pytest.raises(BodyTooLarge):
        for piece in BodyDecoder(["gzip"], max_raw=len(wire) // 2).decode(wire):
            got += piece
    assert set(got) == {ord("x")}  # some, and only the body's bytes


def test_content_codings() -> None:
    assert content_codings("gzip, identity, BR ") == ["gzip", "br"]
    assert content_codings("") == content_codings("identity") == []


@pytest.mark.parametrize("data", [b"", b"a", b"hello" * 1000])
@pytest.mark.parametrize("wbits", [15, -15], ids=["zlib", "raw"])
def test_deflate_of_either_kind_fed_a_byte_at_a_time(data: bytes, wbits: int) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    wire = compressor.compress(data) + compressor.flush()
    chunks = [wire[i : i + 1] for i in range(len(wire))]
    assert b"".join(BodyDecoder(["deflate"], max_raw=None).chunks(chunks)) == data
