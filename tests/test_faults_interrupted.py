"""Fault family: replies that break off. Every character received reaches the caller."""

from __future__ import annotations

import pytest

from aura_sdk import AsyncAuraClient, AuraClient, ResponseTooLargeError, StreamInterruptedError
from aura_sdk.server import AuraServer, Fault
from tests._harness import HI, NO_WAIT, Case, fault_tests

CASES = [
    Case(
        "drop-after-2-chunks",
        (Fault(chunks=(b"one ", b"two ", b"three"), drop_after=2),),
        StreamInterruptedError,
        text="one two ",
        message="reply interrupted after 8 characters (8 bytes)",
        max_retries=NO_WAIT,
    ),
    Case(
        "drop-inside-a-character",
        (Fault(chunks=(b"caf\xc3\xa9 \xe2\x9c",), drop_after=1),),
        StreamInterruptedError,
        text="café ",
        message="the cut split a character, 2 byte(s) kept in .truncated",
        attrs={"truncated": b"\xe2\x9c"},
    ),
    Case(
        "drop-before-any-chunk",
        (Fault(drop_after=0),),
        StreamInterruptedError,
        text="",
    ),
    Case(
        "content-length-longer-than-the-body",
        (Fault(chunks=(b"short",), content_length=100),),
        StreamInterruptedError,
        text="short",
    ),
    Case(
        "over-max-response-bytes",
        (Fault(reply_bytes=5000, chunk_size=100),),
        ResponseTooLargeError,
        text=("Aura ✓ café 🙂 " * 4).encode()[:64].decode(),  # exactly the first 64 bytes
        message="max_response_bytes=64",
        client={"max_response_bytes": 64},
    ),
    Case(
        "max-response-bytes-is-inclusive",
        (Fault(chunks=(b"x" * 64,)),),
        None,
        text="x" * 64,
        client={"max_response_bytes": 64},
    ),
]


test_sync, test_async = fault_tests(CASES)


def test_sync_chat_raises_with_the_partial_reply(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"Hel", b"lo"), drop_after=1))
    with AuraClient(base_url=server.base_url) as client:
        with pytest.raises(StreamInterruptedError) as info:
            client.chat(HI)
    assert info.value.text == "Hel"
    assert isinstance(info.value.__cause__, Exception)


@pytest.mark.anyio
async def test_async_chat_raises_with_the_partial_reply(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"Hel", b"lo"), drop_after=1))
    async with AsyncAuraClient(base_url=server.base_url) as client:
        with pytest.raises(StreamInterruptedError) as info:
            await client.chat(HI)
    assert info.value.text == "Hel"


def test_stream_text_matches_the_error_text(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"a", b"b", b"c"), drop_after=2))
    with AuraClient(base_url=server.base_url) as client:
        stream = client.stream(HI)
        seen = []
        with pytest.raises(StreamInterruptedError) as info:
            for chunk in stream:
                seen.append(chunk)
    assert "".join(seen) == stream.text == info.value.text == "ab"
