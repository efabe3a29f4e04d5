"""The SSE decoder: the WHATWG rules one by one, then "any split gives the same events"."""

from __future__ import annotations

import ast
import copy
import pickle
import re
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import Optional, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aura_sdk import AuraUsageError, AuraValidationError, ResponseTooLargeError, _sse
from aura_sdk._sse import DEFAULT_MAX_EVENT_BYTES, ServerSentEvent, SSEDecoder
from tests._examples import examples

E = ServerSentEvent


def decode(chunks: list[bytes], max_event_bytes: int | None = None) -> list[ServerSentEvent]:
    decoder = SSEDecoder(max_event_bytes)
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in zip(points, points[1:])]


def one_by_one(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


# --- the rules, one table each --------------------------------------------------------

Case = tuple[list[bytes], list[ServerSentEvent]]

BOM: dict[str, Case] = {
    "stripped": ([b"\xef\xbb\xbfdata: a\n\n"], [E("a")]),
    "split 1+2": ([b"\xef", b"\xbb\xbfdata: a\n\n"], [E("a")]),
    "split 2+1": ([b"\xef\xbb", b"\xbfdata: a\n\n"], [E("a")]),
    "split 1+1+1": ([b"\xef", b"\xbb", b"\xbf", b"data: a\n\n"], [E("a")]),
    "alone in its chunk": ([b"\xef\xbb\xbf", b"data: a\n\n"], [E("a")]),
    # A second BOM belongs to the field name, so the line is an unknown field.
    "only one": ([b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n"], [E("b")]),
    "only at the start": (
        [b"data: a\n\n", b"\xef\xbb\xbfdata: b\n\ndata: c\n\n"],
        [E("a"), E("c")],
    ),
    "a BOM's first bytes, then not": ([b"\xef\xbb", b"\ndata: a\n\n"], [E("a")]),
    "kept inside a value": ([b"data: \xef\xbb\xbfa\n\n"], [E("\ufeffa")]),
}

LINE_ENDS: dict[str, Case] = {
    "LF": ([b"data: a\ndata: b\n\n"], [E("a\nb")]),
    "CR": ([b"data: a\rdata: b\r\r"], [E("a\nb")]),
    "CRLF": ([b"data: a\r\ndata: b\r\n\r\n"], [E("a\nb")]),
    "mixed": ([b"data: a\rdata: b\ndata: c\r\n\r"], [E("a\nb\nc")]),
    "LF then CR is two line ends": ([b"data: a\n\rdata: b\n\n"], [E("a"), E("b")]),
    "CR then CR is two line ends": ([b"data: a\r", b"\rdata: b\n\n"], [E("a"), E("b")]),
    # The LF after a chunk's last CR completes a CRLF, it is no empty line.
    "CRLF split": ([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"], [E("a\nb")]),
    "CRLF split by an empty chunk": ([b"data: a\r", b"", b"\ndata: b\n\n"], [E("a\nb")]),
    "CR, then a chunk of one LF": ([b"data: a\r", b"\n", b"data: b\n\n"], [E("a\nb")]),
    "CR at the end, LF later": ([b"data: a\r", b"data: b\r", b"\n\n"], [E("a\nb")]),
    "a split CRLF as the empty line": ([b"data: a\r\n\r", b"\ndata: b\n\n"], [E("a"), E("b")]),
}

# Only CR and LF end a line: str.splitlines() would also split on all of these.
SEPARATORS = "\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e"

FIELDS: dict[str, Case] = {
    "unicode separators kept": ([f"data: a{SEPARATORS}b\n\n".encode()], [E(f"a{SEPARATORS}b")]),
    "comment ignored": ([b": ping\n\ndata: a\n: mid\ndata: b\n\n"], [E("a\nb")]),
    "comment with no text": ([b":\ndata: a\n\n"], [E("a")]),
    "a space before the colon is no comment": ([b" : x\ndata: a\n\n"], [E("a")]),
    "no colon: empty value": ([b"data\n\n"], [E("")]),
    "no colon, twice": ([b"data\ndata\n\n"], [E("\n")]),
    "no space after the colon": ([b"data:a\n\n"], [E("a")]),
    "one space removed": ([b"data:  a \n\n"], [E(" a ")]),
    "nothing after the space": ([b"data: \n\n"], [E("")]),
    "later colons kept": ([b"data: a: b:c\n\n"], [E("a: b:c")]),
    "a tab is no space": ([b"data:\ta\n\n"], [E("\ta")]),
    "data lines joined with LF": ([b"data: a\ndata: b\ndata: c\n\n"], [E("a\nb\nc")]),
    "one trailing LF removed": ([b"data: a\ndata:\n\n"], [E("a\n")]),
    "only one trailing LF removed": ([b"data: a\ndata:\ndata:\n\n"], [E("a\n\n")]),
    "empty data buffer: no event": ([b"\n\n\r\n: c\n\nid: 1\n\n"], []),
    "event type reset without dispatch": ([b"event: x\n\ndata: a\n\n"], [E("a")]),
    "event type": ([b"event: x\ndata: a\n\ndata: b\n\n"], [E("a", "x"), E("b")]),
    "last event type wins": ([b"event: x\nevent: y\ndata: a\n\n"], [E("a", "y")]),
    "empty event type is message": ([b"event\ndata: a\n\n"], [E("a")]),
    "id persists": ([b"id: 1\ndata: a\n\ndata: b\n\n"], [E("a", id="1"), E("b", id="1")]),
    "id set without dispatch": ([b"id: 1\n\ndata: a\n\n"], [E("a", id="1")]),
    "id cleared": ([b"id: 1\ndata: a\n\nid\ndata: b\n\n"], [E("a", id="1"), E("b", id="")]),
    "id with NUL ignored": ([b"id: 1\n\nid: 2\x003\ndata: a\n\n"], [E("a", id="1")]),
    "NUL kept in data": ([b"data: a\x00b\n\n"], [E("a\x00b")]),
    "retry": ([b"retry: 1500\ndata: a\n\ndata: b\n\n"], [E("a", retry=1500), E("b")]),
    "retry of zero": ([b"retry: 0\ndata: a\n\n"], [E("a", retry=0)]),
    "retry not digits": ([b"retry: 15x\nretry: -1\nretry: 1.5\nretry: +1\ndata: a\n\n"], [E("a")]),
    "retry with space": ([b"retry:  15\nretry: 15 \ndata: a\n\n"], [E("a")]),
    "retry empty": ([b"retry\nretry:\ndata: a\n\n"], [E("a")]),
    "retry in non-ASCII digits": (["retry: \u0661\u0662\ndata: a\n\n".encode()], [E("a")]),
    "retry: the last valid one": ([b"retry: 1\nretry: x\ndata: a\n\n"], [E("a", retry=1)]),
    "unknown field ignored": ([b"foo: bar\ndata: a\n\n"], [E("a")]),
    "field names are case-sensitive": ([b"Data: a\nEVENT: x\n\ndata: b\n\n"], [E("b")]),
    "no space before the colon": ([b"data : a\n\ndata: b\n\n"], [E("b")]),
}

UTF8: dict[str, Case] = {
    "two bytes split": ([b"data: caf\xc3", b"\xa9\n\n"], [E("caf\u00e9")]),
    "four bytes split everywhere": (
        [b"data: \xf0", b"\x9f", b"\x99", b"\x82!\n\n"],
        [E("\U0001f642!")],
    ),
    "split in an event type": ([b"event: \xc3", b"\xa9\ndata: a\n\n"], [E("a", "\u00e9")]),
    "split in an id": ([b"id: \xe2\x9c", b"\x93\ndata: a\n\n"], [E("a", id="\u2713")]),
    "invalid byte replaced": ([b"data: a\xffb\n\n"], [E("a\ufffdb")]),
    "truncated before the line end": ([b"data: a\xe2\x9c\n\n"], [E("a\ufffd")]),
    "no character across lines": ([b"data: \xe2\ndata: \x9c\x93\n\n"], [E("\ufffd\n\ufffd\ufffd")]),
    "surrogate replaced": ([b"data: \xed\xa0\x80\n\n"], [E("\ufffd\ufffd\ufffd")]),
    "invalid in an event type": ([b"event: \xff\ndata: a\n\n"], [E("a", "\ufffd")]),
    "invalid in a field name": ([b"dat\xff: a\n\ndata: b\n\n"], [E("b")]),
}


def cases(table: dict[str, Case]) -> list[object]:
    return [pytest.param(chunks, events, id=name) for name, (chunks, events) in table.items()]


@pytest.mark.parametrize(
    ("chunks", "expected"), cases(BOM) + cases(LINE_ENDS) + cases(FIELDS) + cases(UTF8)
)
def test_rule(chunks: list[bytes], expected: list[ServerSentEvent]) -> None:
    assert decode(chunks) == expected
    # Every case also holds whole and one byte at a time.
    whole = b"".join(chunks)
    assert decode([whole]) == expected
    assert decode(one_by_one(whole)) == expected


@pytest.mark.parametrize(
    ("chunks", "comments"),
    [
        ([b"data: a\n\n"], 0),
        ([b": ping\n\n"], 1),
        ([b":\n:\r:\r\n"], 3),
        ([b": pi", b"ng\n", b"data: a\n: x\n\n"], 2),
        ([b": unfinished"], 0),
        ([b"data: : not a comment\n\n"], 0),
    ],
)
def test_comments_are_counted(chunks: list[bytes], comments: int) -> None:
    decoder = SSEDecoder()
    for chunk in chunks:
        decoder.feed(chunk)
    assert decoder.comments == comments


def test_a_keep_alive_shows_in_the_counter_only() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\n") == [E("a")]
    before = decoder.comments
    assert decoder.feed(b": keep-alive\n\n") == []
    assert decoder.comments == before + 1


def test_decoder_remembers_id_and_retry() -> None:
    decoder = SSEDecoder()
    assert (decoder.last_event_id, decoder.retry) == (None, None)
    # A retry field takes effect even in a block that dispatches nothing.
    assert decoder.feed(b"id: 5\nretry: 300\n\n") == []
    assert (decoder.last_event_id, decoder.retry) == ("5", 300)
    assert decoder.feed(b"retry: x\ndata: a\n\n") == [E("a", id="5")]
    assert decoder.retry == 300
    # The id counts for reconnecting once its event ends, as in the spec.
    assert decoder.feed(b"id: 6\nretry: 9\n") == []
    assert (decoder.last_event_id, decoder.retry) == ("5", 9)
    assert decoder.feed(b"\n") == []
    assert decoder.last_event_id == "6"


def test_a_retry_beyond_int_digits_is_ignored() -> None:
    assert decode([b"retry: " + b"9" * 5000 + b"\ndata: a\n\n"]) == [E("a")]


# --- end of stream ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "pending"),
    [
        (b"", 0),
        (b"data: a\n\n", 0),
        (b"data: a\n\n: bye\n", 0),
        (b"data: a\n\r\n", 0),
        (b"data: a", 7),  # the last line never ended
        (b"data: a\n", 7),  # the event never ended
        (b"data: a\r\ndata: b", 14),
        (b"event: x\n", 8),  # nothing to dispatch, but the server meant something
        (b": unfinished", 12),
        (b"\xef\xbb", 2),  # a BOM's first bytes
        (b"\xef\xbb\xbf", 0),
        (b"data: a\r", 7),  # the CR ended the line, not the event
    ],
)
def test_close_discards_an_unfinished_event_and_says_so(stream: bytes, pending: int) -> None:
    for chunks in ([stream], one_by_one(stream)):
        decoder = SSEDecoder()
        for chunk in chunks:
            decoder.feed(chunk)
        assert decoder.close() == []
        assert decoder.pending == pending


def test_close_is_final() -> None:
    decoder = SSEDecoder()
    assert decoder.close() == []
    assert decoder.close() == []
    with pytest.raises(AuraUsageError, match="after close"):
        decoder.feed(b"data: a\n\n")


# --- limits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "limit", "expected"),
    [
        # The size of an event is the bytes of its lines, without line ends.
        (b"data: 1234\n\n", 10, [E("1234")]),
        (b"data: 12345\n\n", 10, None),
        (b"data: 1\r\ndata: 2\r\n\r\n", 14, [E("1\n2")]),
        (b"data: 1\r\ndata: 2\r\n\r\n", 13, None),
        (b"event: abc\ndata: 1\n\n", 17, [E("1", "abc")]),
        (b"event: abc\ndata: 1\n\n", 16, None),
        (b"data: 1234\n\ndata: 1234\n\n", 10, [E("1234"), E("1234")]),  # per event
        # A comment line counts alone: it is never kept.
        (b"data: 1234\n: 67890123\n\n", 10, [E("1234")]),
        (b": 678901234\n\n", 10, None),
        (b"12345678901\n\n", 10, None),  # an unknown field is still held until its end
    ],
)
def test_max_event_bytes(stream: bytes, limit: int, expected: list[ServerSentEvent] | None) -> None:
    for chunks in ([stream], one_by_one(stream)):
        if expected is None:
            with pytest.raises(ResponseTooLargeError, match=f"max_event_bytes={limit}"):
                decode(chunks, limit)
        else:
            assert decode(chunks, limit) == expected


def test_an_endless_line_is_refused_while_it_arrives() -> None:
    decoder = SSEDecoder(max_event_bytes=4096)
    decoder.feed(b"data: a\n\n")
    with pytest.raises(ResponseTooLargeError):
        for _ in range(5):
            decoder.feed(b"x" * 1024)
            assert decoder.pending <= 4096
    assert decoder.pending == 0  # what was held is let go


def test_endless_data_lines_are_refused() -> None:
    decoder = SSEDecoder(max_event_bytes=4096)
    with pytest.raises(ResponseTooLargeError):
        for _ in range(1000):
            decoder.feed(b"data: " + b"x" * 10 + b"\n")
            assert decoder.pending <= 4096


def test_events_before_the_overflow_are_handed_out_first() -> None:
    decoder = SSEDecoder(max_event_bytes=50)
    assert decoder.feed(b"data: a\n\ndata: " + b"x" * 100) == [E("a")]
    # The stream is broken from here on: every later call says so.
    with pytest.raises(ResponseTooLargeError):
        decoder.feed(b"\n\n")
    with pytest.raises(ResponseTooLargeError):
        decoder.close()


def test_no_limit() -> None:
    big = b"x" * (DEFAULT_MAX_EVENT_BYTES + 1)
    assert decode([b"data: ", big, b"\n\n"], None) == [E(big.decode())]
    with pytest.raises(ResponseTooLargeError):
        SSEDecoder().feed(b"data: " + big)


@pytest.mark.parametrize("limit", [0, -1, True, 1.5, "10"])
def test_max_event_bytes_is_validated(limit: object) -> None:
    with pytest.raises(AuraValidationError, match="max_event_bytes"):
        SSEDecoder(limit)  # type: ignore[arg-type]


# --- the event -------------------------------------------------------------------------


def test_event_is_a_frozen_slotted_value() -> None:
    event = E("a", "x", "1", 5)
    assert (event.data, event.event, event.id, event.retry) == ("a", "x", "1", 5)
    assert E("a") == E("a", "message", None, None)
    assert hash(E("a")) == hash(E("a"))
    assert not hasattr(event, "__dict__")
    with pytest.raises(FrozenInstanceError):
        event.data = "b"  # type: ignore[misc]
    assert copy.copy(event) == event
    assert pickle.loads(pickle.dumps(event)) == event


def test_the_module_does_no_io() -> None:
    tree = ast.parse(Path(_sse.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"httpx", "anyio", "asyncio", "socket", "trio"}


# --- properties ------------------------------------------------------------------------

TEXT = st.text(
    st.one_of(
        st.characters(codec="utf-8", exclude_characters="\r\n"),
        st.sampled_from(["\u2028", "\u2029", "\x85", "\U0001f642", "\u00e9", "\ufeff", ":", " "]),
    ),
    max_size=12,
)

Line = tuple[str, str]  # (content, line end)
Field = tuple[str, str]
Block = tuple[list[Field], Optional[ServerSentEvent]]
Value = Union[str, int]


@st.composite
def blocks(draw: st.DrawFn) -> list[Block]:
    """Random events as the fields that make them, plus blocks that dispatch nothing."""
    out: list[Block] = []
    last_id: str | None = None
    for _ in range(draw(st.integers(0, 6))):
        fields: list[Field] = []
        if draw(st.booleans()):  # a block with no data: a keep-alive or a lone field
            for _ in range(draw(st.integers(0, 2))):
                fields.append((":", draw(TEXT)))
            if draw(st.booleans()):
                fields.append((draw(st.sampled_from(["event", "retry", "foo"])), draw(TEXT)))
            out.append((fields, None))
            continue
        data = draw(st.lists(TEXT, min_size=1, max_size=3))
        event = draw(st.one_of(st.none(), TEXT))
        id_ = draw(st.one_of(st.none(), TEXT.filter(lambda s: "\0" not in s)))
        retry = draw(st.one_of(st.none(), st.integers(0, 10**12)))
        fields = [("data", value) for value in data]
        others: list[Field] = []
        if event is not None:
            others.append(("event", event))
        if id_ is not None:
            others.append(("id", id_))
            last_id = id_
        if retry is not None:
            others.append(("retry", str(retry)))
        others += [(":", draw(TEXT)) for _ in range(draw(st.integers(0, 1)))]
        others += [("foo", draw(TEXT)) for _ in range(draw(st.integers(0, 1)))]
        for other in others:  # anywhere among the data lines, which keep their order
            fields.insert(draw(st.integers(0, len(fields))), other)
        expected = E("\n".join(data), event or "message", last_id, retry)
        out.append((fields, expected))
    return out


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[ServerSentEvent]]:
    """A valid stream, with a line end chosen per line, and the events it must give."""
    lines: list[str] = []
    expected: list[ServerSentEvent] = []
    for fields, event in draw(blocks()):
        for name, value in fields:
            if name == ":":
                lines.append(":" + value)
            elif value == "" and draw(st.booleans()):
                lines.append(name)  # no colon: an empty value
            elif value.startswith(" ") or draw(st.booleans()):
                lines.append(f"{name}: {value}")
            else:
                lines.append(f"{name}:{value}")
        lines.append("")
        if event is not None:
            expected.append(event)
    text = ""
    previous = ""
    for line in lines:
        end = draw(st.sampled_from(["\n", "\r", "\r\n"]))
        if previous == "\r" and not line and end == "\n":
            end = "\r"  # "\r" + "\n" would be one CRLF, not an empty line
        text += line + end
        previous = end
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + text.encode(), expected


@settings(max_examples=examples(200), deadline=None)
@given(streams(), st.lists(st.integers(min_value=0), max_size=20))
def test_any_split_gives_the_same_events(
    stream: tuple[bytes, list[ServerSentEvent]], cuts: list[int]
) -> None:
    data, _ = stream
    whole = decode([data])
    assert decode(split(data, cuts)) == whole
    assert decode(one_by_one(data)) == whole


@settings(max_examples=examples(200), deadline=None)
@given(streams())
def test_the_events_are_the_ones_sent(stream: tuple[bytes, list[ServerSentEvent]]) -> None:
    data, expected = stream
    assert decode([data]) == expected


def outcome(chunks: list[bytes], limit: int | None) -> tuple[list[ServerSentEvent], bool, int]:
    """The events handed out, whether the limit was passed, and the comments seen."""
    decoder = SSEDecoder(limit)
    events: list[ServerSentEvent] = []
    try:
        for chunk in chunks:
            events += decoder.feed(chunk)
        events += decoder.close()
    except ResponseTooLargeError:
        return events, True, decoder.comments
    return events, False, decoder.comments


VALUE_BYTES = st.sampled_from(
    [
        b"1",
        b"x",
        b" ",
        b":",
        b"-",
        b"\x00",
        b"\xff",
        b"\xe2\x9c",
        b"\x93",
        b"\xef\xbb\xbf",
        b"\xf0\x9f\x99\x82",
        b"\xc2\x85",
        b"\xe2\x80\xa8",
    ]
)
LINE_END = st.sampled_from([b"\n", b"\r", b"\r\n"])
NOISE_LINE = st.tuples(
    st.sampled_from([b"data", b"data:", b"data: ", b"event: ", b"id: ", b"retry: ", b":", b""]),
    st.lists(st.one_of(st.sampled_from([b"1", b"42"]), VALUE_BYTES), max_size=4).map(b"".join),
    LINE_END,
).map(b"".join)
NOISE_BLOCK = st.tuples(st.lists(NOISE_LINE, max_size=4).map(b"".join), LINE_END).map(b"".join)
NOISE = st.tuples(
    st.sampled_from([b"", b"\xef\xbb\xbf", b"\xef\xbb"]),
    st.lists(st.one_of(NOISE_BLOCK, NOISE_BLOCK, st.binary(max_size=4)), max_size=8).map(b"".join),
).map(b"".join)
"""Bytes that are mostly SSE lines, valid or not."""


@settings(max_examples=examples(200), deadline=None)
@given(NOISE, st.lists(st.integers(min_value=0), max_size=20), st.none() | st.integers(1, 40))
def test_any_split_of_any_bytes_gives_the_same_outcome(
    data: bytes, cuts: list[int], limit: int | None
) -> None:
    whole = outcome([data], limit)
    assert outcome(split(data, cuts), limit) == whole
    assert outcome(one_by_one(data), limit) == whole


def spec(stream: bytes) -> list[ServerSentEvent]:
    """The WHATWG algorithm transcribed literally: decode everything, then parse lines."""
    text = stream.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split("\r\n|\r|\n", text)
    lines.pop()  # the last line never ended (or is "")
    events: list[ServerSentEvent] = []
    data, event, last_id, retry = "", "", None, None
    for line in lines:
        if not line:
            if data:
                events.append(
                    E(
                        data[:-1] if data.endswith("\n") else data,
                        event or "message",
                        last_id,
                        retry,
                    )
                )
            data, event, retry = "", "", None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data += value + "\n"
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return events


@settings(max_examples=examples(200), deadline=None)
@given(NOISE, st.lists(st.integers(min_value=0), max_size=20))
def test_any_bytes_decode_as_the_spec_says(data: bytes, cuts: list[int]) -> None:
    assert decode(split(data, cuts)) == spec(data)
