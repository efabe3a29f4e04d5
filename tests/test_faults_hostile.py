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
from tests._harness import Case, fault_tests

CASES = [
    Case(
        "invalid-utf8-replaced",
        (Fault(chunks=(b"ok \xff\xfe", b" end")),),
        None,
        text="ok \ufffd\ufffd end",
    ),
    Case(
        "invalid-utf8-strict",
        (Fault(chunks=(b"ok ", b"\xff end")),),
        AuraDecodeError,
        text="ok ",
        message="invalid UTF-8 at byte 3",
        call={"errors": "strict"},
    ),
    Case(
        "truncated-character-at-a-clean-end",
        (Fault(chunks=(b"end \xe2\x9c",)),),
        None,
        text="end \ufffd",  # reported as U+FFFD, not dropped
    ),
    Case(
        "truncated-character-strict",
        (Fault(chunks=(b"end \xe2\x9c",)),),
        AuraDecodeError,
        text="end ",
        call={"errors": "strict"},
    ),
    Case(
        "endless-body-hits-the-size-cap",
        (Fault(reply_bytes=50_000_000, chunk_size=65536),),
        ResponseTooLargeError,
        message="max_response_bytes=1000000",
        client={"max_response_bytes": 1_000_000},
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
]


test_sync, test_async = fault_tests(CASES)
