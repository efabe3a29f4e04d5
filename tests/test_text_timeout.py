"""``Timeout.text``: a stream that keeps sending bytes but no text ends, on real sockets.

Keep-alive comments (llama-cpp-python's ``: ping - <time>`` every 15 s), role-only,
empty and usage events reset ``read`` (any byte does) but not ``text``. Without
the text limit each of these streams would run until the test's own guard.
"""

from __future__ import annotations

import json

import anyio
import pytest

from aura_sdk import AsyncAuraClient, AuraClient, StreamTimeoutError, Timeout, user
from tests._hostile import Peer, chunked, head, hostile

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

LIMIT = 0.3  # the text limit of these tests; read stays at 5 s, far above it
GUARD = 10.0  # a hang guard, never a measure


def _event(obj: object) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


ROLE = _event({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})
HELLO = _event({"choices": [{"index": 0, "delta": {"content": "Hello"}}]})
# What a stalled server may keep sending: none of it is text.
NOT_TEXT = {
    "ping": b": ping - 2026-12-02 20:00:00.000000\n\n",
    "role": ROLE,
    "empty": _event({"choices": [{"index": 0, "delta": {"content": ""}}]}),
    "usage": _event({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 0}}),
    "null-delta": _event({"choices": [{"index": 0, "delta": None}]}),
}


def _pinging(first: bytes, filler: bytes) -> object:
    def script(peer: Peer) -> None:
        peer.send(head(headers={"Content-Type": "text/event-stream"}) + chunked(first, end=False))
        for _ in range(int(GUARD / 0.05)):  # bounded: at most the guard's length
            if not peer.send(chunked(filler, end=False)) or peer.sleep(0.05):
                return

    return script


def _silent(first: bytes) -> object:
    def script(peer: Peer) -> None:
        peer.send(head(headers={"Content-Type": "text/event-stream"}) + chunked(first, end=False))
        peer.hang(GUARD)

    return script


TIMEOUT = Timeout(read=5, text=LIMIT)


def _check(error: StreamTimeoutError, text: str) -> None:
    assert error.limit == "text"
    assert error.seconds == LIMIT
    assert error.text == text
    assert f"text timeout after {LIMIT:g}s" in str(error)


@pytest.mark.parametrize("filler", sorted(NOT_TEXT))
@pytest.mark.parametrize("first", [ROLE, ROLE + HELLO], ids=["before-text", "after-text"])
def test_sync_events_without_text_do_not_reset_the_text_limit(first: bytes, filler: str) -> None:
    with hostile(_pinging(first, NOT_TEXT[filler])) as server:  # type: ignore[arg-type]
        client = AuraClient(base_url=server.base_url + "/v1", dialect="openai", timeout=TIMEOUT)
        with client, pytest.raises(StreamTimeoutError) as caught:
            client.chat([user("hi")])
    _check(caught.value, "Hello" if HELLO in first else "")


@pytest.mark.anyio
@pytest.mark.parametrize("filler", ["ping", "usage"])
@pytest.mark.parametrize("first", [ROLE, ROLE + HELLO], ids=["before-text", "after-text"])
async def test_async_events_without_text_do_not_reset_the_text_limit(
    first: bytes, filler: str
) -> None:
    with hostile(_pinging(first, NOT_TEXT[filler])) as server:  # type: ignore[arg-type]
        client = AsyncAuraClient(
            base_url=server.base_url + "/v1", dialect="openai", timeout=TIMEOUT
        )
        async with client:
            with anyio.fail_after(GUARD), pytest.raises(StreamTimeoutError) as caught:
                await client.chat([user("hi")])
    _check(caught.value, "Hello" if HELLO in first else "")


def test_sync_a_silent_server_ends_by_the_text_limit_not_read() -> None:
    # The SDK's own client ends each read by the text's deadline (read is 5 s here).
    with hostile(_silent(ROLE + HELLO)) as server:  # type: ignore[arg-type]
        client = AuraClient(base_url=server.base_url + "/v1", dialect="openai", timeout=TIMEOUT)
        with client, pytest.raises(StreamTimeoutError) as caught:
            client.chat([user("hi")])
    _check(caught.value, "Hello")


@pytest.mark.anyio
async def test_async_a_silent_server_ends_by_the_text_limit_not_read() -> None:
    with hostile(_silent(ROLE + HELLO)) as server:  # type: ignore[arg-type]
        client = AsyncAuraClient(
            base_url=server.base_url + "/v1", dialect="openai", timeout=TIMEOUT
        )
        async with client:
            with anyio.fail_after(GUARD), pytest.raises(StreamTimeoutError) as caught:
                await client.chat([user("hi")])
    _check(caught.value, "Hello")


def test_text_that_keeps_coming_is_never_cut_by_the_text_limit() -> None:
    # Text every 0.1 s for 1 s: ten times the limit in all, never a gap as long.
    def script(peer: Peer) -> None:
        peer.send(head(headers={"Content-Type": "text/event-stream"}) + chunked(ROLE, end=False))
        for _ in range(10):
            if not peer.send(chunked(HELLO, end=False)) or peer.sleep(0.1):
                return
        peer.send(chunked(b"data: [DONE]\n\n"))

    with hostile(script) as server:
        client = AuraClient(
            base_url=server.base_url + "/v1", dialect="openai", timeout=Timeout(text=0.6)
        )
        with client:
            assert client.chat([user("hi")]) == "Hello" * 10


def test_the_aura_dialect_has_the_text_limit_too() -> None:
    # Plain text: nearly every chunk is text; the lead byte of a character whose
    # rest never comes is a chunk that decodes to none.
    def script(peer: Peer) -> None:
        peer.send(head(headers={"Content-Type": "text/plain"}) + chunked(b"Hi", end=False))
        peer.send(chunked(b"\xe2", end=False))
        peer.hang(GUARD)

    with hostile(script) as server:
        client = AuraClient(base_url=server.base_url, timeout=TIMEOUT)
        with client, pytest.raises(StreamTimeoutError) as caught:
            client.chat([user("hi")])
    assert caught.value.limit == "text"
    assert caught.value.text == "Hi"
    assert caught.value.truncated == b"\xe2"
