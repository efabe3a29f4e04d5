"""Fault family: servers that send what they should not. Each is a typed error, never a hang."""

from __future__ import annotations

from aura_sdk import (
    APIConnectionError,
    AuraDecodeError,
    RateLimitError,
    ResponseTooLargeError,
    StreamInterruptedError,
    StreamTimeoutError,
    Timeout,
)
from aura_sdk.server import Fault
from tests._harness import DONE, ROLE, Absent, Case, event, fault_tests

# In the openai dialect, the local server sends the deltas of Fault(chunks=...) as
# JSON text (it holds back a cut character, then replaces what is invalid, as
# OpenChat does): raw invalid bytes inside an event's JSON string come from a
# server scripted byte for byte. Two events in ONE write: how the chunks fall
# changes nothing (the text of the events before a bad byte is kept).
BAD = (ROLE + event(b"ok ") + event(b"\xff\xfe end", "stop"), DONE)
CUT = (ROLE, event(b"end ") + event(b"\xe2\x9c", "stop"), DONE)

CASES = [
    Case(
        "invalid-utf8-replaced",
        (Fault(chunks=(b"ok \xff\xfe", b" end")),),
        None,
        text="ok \ufffd\ufffd end",
        openai={"faults": (Fault(sse=BAD),)},
    ),
    Case(
        "invalid-utf8-strict",
        (Fault(chunks=(b"ok ", b"\xff end")),),
        AuraDecodeError,
        text="ok ",
        message="invalid UTF-8 at byte 3",
        call={"errors": "strict"},
        openai={
            "faults": (Fault(sse=BAD),),
            "message": f"invalid UTF-8 at byte {BAD[0].index(bytes([0xFF]))}",
        },
    ),
    Case(
        "truncated-character-at-a-clean-end",
        (Fault(chunks=(b"end \xe2\x9c",)),),
        None,
        text="end \ufffd",  # reported as U+FFFD, not dropped
        # A character cut by the end of its JSON string (an event is whole or nothing).
        openai={"faults": (Fault(sse=CUT),)},
    ),
    Case(
        "truncated-character-strict",
        (Fault(chunks=(b"end \xe2\x9c",)),),
        AuraDecodeError,
        text="end ",
        call={"errors": "strict"},
        openai={"faults": (Fault(sse=CUT),)},
    ),
    Case(
        "bad-byte-after-the-end-strict",
        (Fault(sse=(ROLE + event(b"done", "stop") + DONE + b"\xff",)),),
        None,
        text="done",  # [DONE] ended the reply: what follows is no part of it
        call={"errors": "strict"},
        aura=Absent("plain text has no end marker: every byte of the body is the reply"),
    ),
    Case(
        "endless-body-hits-the-size-cap",
        (Fault(reply_bytes=50_000_000, chunk_size=65536),),
        ResponseTooLargeError,
        message="max_response_bytes=1000000",
        client={"max_response_bytes": 1_000_000},
        # The emulator builds its events in memory: 5 MB is as endless for a 1 MB cap.
        openai={"faults": (Fault(reply_bytes=5_000_000, chunk_size=65536),)},
    ),
    Case(
        "body-that-never-ends",
        (Fault(chunks=(b"tick",), stall_after=1),),
        StreamTimeoutError,
        text="tick",
        limit="total",
        timeout=Timeout(read=5, total=0.3),
    ),
    Case(
        "closes-before-headers",
        (Fault(close_before_status=True),),
        APIConnectionError,
        text="",
        message="connection error",
    ),
    Case(
        "not-http-at-all",
        (Fault(raw=b"SSH-2.0-OpenSSH_9.6\r\n"),),
        APIConnectionError,
        message="connection error",
    ),
    Case(
        "content-length-shorter-than-the-body",
        (Fault(chunks=(b"0123456789",), content_length=4),),
        None,
        text="0123",  # HTTP ends the message there; the rest is not part of it
        openai={
            "faults": (
                Fault(
                    sse=(ROLE, event(b"0123", "stop"), event(b"4567"), DONE),
                    content_length=len(ROLE + event(b"0123", "stop")),
                ),
            )
        },
    ),
    Case(
        "gzip-claimed-but-not-sent",
        (Fault(chunks=(b"plain text",), headers={"Content-Encoding": "gzip"}),),
        StreamInterruptedError,
        text="",
        message="could not be decoded as its Content-Encoding says",
    ),
    Case(
        "status-line-with-a-strange-reason",
        (Fault(status=500, reason="échec: quota épuisé"),),
        RateLimitError,  # the phrase says "quota"
        message="500 échec: quota épuisé",  # httpx's own reason_phrase would drop the é's
    ),
    Case(
        "keep-alive-comments-between-events",
        (
            Fault(
                sse=(
                    b": keep-alive\n\n",
                    ROLE,
                    b":\n\n",
                    event(b"Hel"),
                    b": ping\r\n\r\n",
                    event(b"lo", "stop"),
                    b": bye\n\n",
                    DONE,
                )
            ),
        ),
        text="Hello",
        aura=Absent("openchat-ui's body is plain text: it has no events"),
    ),
]


test_sync, test_async, test_table = fault_tests(CASES)
