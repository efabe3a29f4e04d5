"""Fault family: replies that break off. Every character received reaches the caller."""

from __future__ import annotations

import pytest

from aura_sdk import (
    AsyncAuraClient,
    AuraClient,
    InternalServerError,
    ResponseTooLargeError,
    StreamInterruptedError,
)
from aura_sdk.server import AuraServer, Fault
from tests._harness import (
    DIALECTS,
    DONE,
    HI,
    NO_WAIT,
    ROLE,
    Absent,
    Case,
    event,
    fault_tests,
    sse_bytes,
)

# The first 64 bytes of the aura reply, and an SSE body whose cap falls inside its third event.
CAPPED = (ROLE, event("Aura ✓ ".encode()), event("café 🙂 ".encode()), event(b"more"), DONE)
INCLUSIVE = (ROLE, event(b"x" * 64, "stop"), DONE)

# The tests below meet the body mid-stream: in both dialects.
both = pytest.mark.parametrize("dialect", DIALECTS)

CASES = [
    Case(
        "drop-after-2-chunks",
        (Fault(chunks=(b"one ", b"two ", b"three"), drop_after=2),),
        StreamInterruptedError,
        text="one two ",
        message="reply interrupted after 8 characters (8 bytes)",
        max_retries=NO_WAIT,
        # The bytes are the body's: the role chunk and two events.
        openai={
            "message": "reply interrupted after 8 characters "
            f"({sse_bytes((b'one ', b'two '), None, False)} bytes)"
        },
    ),
    Case(
        "drop-inside-a-character",
        (Fault(chunks=(b"caf\xc3\xa9 \xe2\x9c",), drop_after=1),),
        StreamInterruptedError,
        text="café ",
        message="the cut split a character, 2 byte(s) kept in .truncated",
        attrs={"truncated": b"\xe2\x9c"},
        # The cut falls inside a character of the next event's JSON: that event is
        # incomplete, so nothing of it is text; the events before it are.
        openai={
            "faults": (
                Fault(sse=(ROLE, event(b"caf\xc3\xa9 "), event(b"\xe2\x9c")[:-8]), drop_after=3),
            ),
            "message": "reply interrupted after 5 characters",
            "attrs": {"truncated": b""},
        },
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
        # A body cut before its [DONE] (one that has it is complete: read no further).
        openai={
            "faults": (
                Fault(chunks=(b"short",), content_length=100_000, done=False, finish_reason=None),
            ),
            "message": "expected 100000",
        },
    ),
    Case(
        "over-max-response-bytes",
        (Fault(reply_bytes=5000, chunk_size=100),),
        ResponseTooLargeError,
        text=("Aura ✓ café 🙂 " * 4).encode()[:64].decode(),  # exactly the first 64 bytes
        message="max_response_bytes=64",
        client={"max_response_bytes": 64},
        # The text of the events whole within the cap; the one it cuts is not text.
        openai={
            "faults": (Fault(sse=CAPPED),),
            "text": "Aura ✓ café 🙂 ",
            "message": f"max_response_bytes={sum(map(len, CAPPED[:3])) + 10}",
            "client": {"max_response_bytes": sum(map(len, CAPPED[:3])) + 10},
        },
    ),
    Case(
        "max-response-bytes-is-inclusive",
        (Fault(chunks=(b"x" * 64,)),),
        None,
        text="x" * 64,
        client={"max_response_bytes": 64},
        openai={
            "faults": (Fault(sse=INCLUSIVE),),
            "client": {"max_response_bytes": sum(map(len, INCLUSIVE))},
        },
    ),
    Case(
        "one-byte-over-max-response-bytes",
        (Fault(chunks=(b"x" * 65,)),),
        ResponseTooLargeError,
        text="x" * 64,
        client={"max_response_bytes": 64},
        # [DONE] is the last byte: one byte less, and the reply never ended.
        openai={
            "faults": (Fault(sse=INCLUSIVE),),
            "text": "x" * 64,
            "client": {"max_response_bytes": sum(map(len, INCLUSIVE)) - 1},
        },
    ),
    # --- the openai dialect's own ways to end ------------------------------------
    Case(
        "error-event-mid-stream",
        (
            Fault(
                chunks=(b"Hel", b"lo"),
                error_event='{"message": "engine died", "code": 500}',
                error_after=1,
            ),
        ),
        InternalServerError,
        text="Hel",
        message="the server sent an error event after 3 characters: engine died (code 500)",
        max_retries=NO_WAIT,  # text was handed out: never retried
        aura=Absent("openchat-ui's body is plain text: it has no events"),
    ),
    Case(
        "end-without-done-or-finish-reason",
        (Fault(chunks=(b"Hel", b"lo"), done=False, finish_reason=None),),
        StreamInterruptedError,
        text="Hello",
        message="neither data: [DONE] nor a finish_reason",
        max_retries=NO_WAIT,
        aura=Absent("openchat-ui's body is plain text: it has no events"),
    ),
    Case(
        "done-without-finish-reason",
        (Fault(chunks=(b"Hel", b"lo"), finish_reason=None),),
        text="Hello",
        reply={"finish_reason": None},
        aura=Absent("openchat-ui's body is plain text: it has no events"),
    ),
    Case(
        "finish-reason-then-the-end",
        (Fault(chunks=(b"Hel", b"lo"), finish_reason="length", done=False),),
        text="Hello",
        reply={"finish_reason": "length"},
        aura=Absent("openchat-ui's body is plain text: it has no events"),
    ),
    Case(
        "stop-string-across-chunks-ends-the-reply",
        # The server goes on (OpenChat ignores stop), then stalls: the reply ends
        # at the stop string, without waiting for it, and the connection is freed.
        (Fault(chunks=(b"Hello\n", b"\nUser: more"), stall_after=2),),
        text="Hello",
        call={"stop": ["\n\nUser:"]},
        reply={"finish_reason": "stop", "stop_sequence": "\n\nUser:"},
        aura=Absent("openchat-ui takes no stop strings: the aura dialect refuses stop="),
    ),
]


test_sync, test_async, test_table = fault_tests(CASES)


@both
def test_sync_chat_raises_with_the_partial_reply(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"Hel", b"lo"), drop_after=1))
    with AuraClient(base_url=server.base_url, dialect=server.dialect) as client:
        with pytest.raises(StreamInterruptedError) as info:
            client.chat(HI)
    assert info.value.text == "Hel"
    assert isinstance(info.value.__cause__, Exception)


@pytest.mark.anyio
@both
async def test_async_chat_raises_with_the_partial_reply(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"Hel", b"lo"), drop_after=1))
    async with AsyncAuraClient(base_url=server.base_url, dialect=server.dialect) as client:
        with pytest.raises(StreamInterruptedError) as info:
            await client.chat(HI)
    assert info.value.text == "Hel"


@both
def test_stream_text_matches_the_error_text(server: AuraServer) -> None:
    server.script(Fault(chunks=(b"a", b"b", b"c"), drop_after=2))
    with AuraClient(base_url=server.base_url, dialect=server.dialect) as client:
        stream = client.stream(HI)
        seen = []
        with pytest.raises(StreamInterruptedError) as info:
            for chunk in stream:
                seen.append(chunk)
    assert "".join(seen) == stream.text == info.value.text == "ab"
