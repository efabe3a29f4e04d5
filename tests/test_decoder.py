"""Incremental UTF-8 decoding: any split of the bytes gives the same text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aura_sdk import AuraDecodeError, UTF8Decoder
from aura_sdk._reply import Reply


def decode_split(data: bytes, cuts: list[int], errors: str = "replace") -> str:
    decoder = UTF8Decoder(errors)  # type: ignore[arg-type]
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    parts = [decoder.decode(data[a:b]) for a, b in zip(points, points[1:])]
    return "".join(parts) + decoder.flush()


@given(st.text(), st.lists(st.integers(min_value=0)))
def test_any_split_of_valid_utf8_gives_the_same_text(text: str, cuts: list[int]) -> None:
    assert decode_split(text.encode(), cuts) == text


@given(st.binary(), st.lists(st.integers(min_value=0)))
def test_any_split_of_any_bytes_matches_one_shot_replace(data: bytes, cuts: list[int]) -> None:
    assert decode_split(data, cuts) == data.decode("utf-8", "replace")


@given(st.text(min_size=1))
def test_one_byte_at_a_time(text: str) -> None:
    data = text.encode()
    assert decode_split(data, list(range(len(data)))) == text


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([b"caf\xc3", b"\xa9"], "café"),
        ([b"\xe2", b"\x9c", b"\x93"], "✓"),
        ([b"\xf0\x9f", b"\x99\x82!"], "🙂!"),
        ([b"a\xffb"], "a\ufffdb"),
        ([b"a\xe2\x9c"], "a\ufffd"),  # truncated at the end: reported, not dropped
        ([b"\xed\xa0\x80"], "\ufffd\ufffd\ufffd"),  # a surrogate is not UTF-8
    ],
)
def test_replace(chunks: list[bytes], expected: str) -> None:
    decoder = UTF8Decoder()
    assert "".join(decoder.decode(c) for c in chunks) + decoder.flush() == expected


@pytest.mark.parametrize(
    ("chunks", "position"),
    [
        ([b"ab", b"c\xff"], 3),
        ([b"ok\xe2\x9c", b"x"], 2),
        ([b"\x80"], 0),
    ],
)
def test_strict_raises_with_position(chunks: list[bytes], position: int) -> None:
    decoder = UTF8Decoder("strict")
    with pytest.raises(AuraDecodeError) as info:
        for chunk in chunks:
            decoder.decode(chunk)
    assert info.value.position == position
    assert f"byte {position}" in str(info.value)


def test_strict_flush_of_a_truncated_character_raises() -> None:
    decoder = UTF8Decoder("strict")
    assert decoder.decode(b"ok\xe2\x9c") == "ok"
    assert decoder.pending == b"\xe2\x9c"
    with pytest.raises(AuraDecodeError):
        decoder.flush()


def test_reply_keeps_text_and_reports_the_cut() -> None:
    reply = Reply()
    assert reply.feed(b"Hello \xe2") == "Hello "
    assert reply.text == "Hello "
    assert reply.bytes_received == 7
    error = reply.interrupted("connection reset")
    assert error.text == "Hello "
    assert error.truncated == b"\xe2"
    assert "connection reset" in str(error)
    assert "split a character" in str(error)


def test_reply_strict_error_carries_the_text_before_it() -> None:
    reply = Reply("strict")
    reply.feed(b"good ")
    with pytest.raises(AuraDecodeError) as info:
        reply.feed(b"\xff")
    assert info.value.text == "good "


def test_reply_timeout_error() -> None:
    reply = Reply()
    reply.feed(b"part")
    error = reply.timed_out("read", 2.5)
    assert (error.text, error.limit, error.seconds) == ("part", "read", 2.5)
    assert "after 2.5s" in str(error)


@given(st.lists(st.text()), st.lists(st.booleans()))
def test_reading_text_during_the_loop_changes_nothing(parts: list[str], reads: list[bool]) -> None:
    """``Reply.text`` read between any chunks of ``texts`` (the sync loop) loses nothing."""
    reply = Reply()
    seen = []
    for i, chunk in enumerate(reply.texts(p.encode() for p in parts)):
        seen.append(chunk)
        if reads[i] if i < len(reads) else True:
            assert reply.text == "".join(seen)
    assert reply.text == "".join(seen) == "".join(parts)


def test_reading_text_during_the_loop_keeps_it_in_the_interruption() -> None:
    reply = Reply()
    loop = reply.texts(iter([b"one ", b"two ", b"thr\xc3"]))
    assert next(loop) == "one "
    assert reply.text == "one "
    assert next(loop) == "two "
    assert reply.text == "one two "
    assert next(loop) == "thr"
    error = reply.interrupted("cut")
    assert error.text == "one two thr"
    assert error.truncated == b"\xc3"
