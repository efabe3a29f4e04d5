"""The server's request id (``x-request-id``, or ``request-id``) on streams and errors.

vLLM, llama-cpp-python and OpenAI send ``x-request-id``; Anthropic ``request-id``.
Support desks ask for it: it is kept on the stream (``stream.request_id``) and on
every error that came with or after a response head (``.request_id``), and named
in the error's message. Real servers on 127.0.0.1, both dialects, both clients.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aura_sdk import (
    APIError,
    AsyncAuraClient,
    AuraClient,
    BadRequestError,
    InternalServerError,
    StreamInterruptedError,
    user,
)
from aura_sdk._dialects import DialectName
from aura_sdk._retry import request_id
from aura_sdk.server import AuraServer, Fault

HI = [user("Hi")]
dialects = pytest.mark.parametrize("dialect", ["aura", "openai"])
# (the fault, the error it gives, the request id it should carry)
CASES = {
    "status": (Fault(status=400, headers={"x-request-id": "req-400"}), BadRequestError, "req-400"),
    "anthropic-style": (
        Fault(status=500, headers={"request-id": "req_01"}),
        InternalServerError,
        "req_01",
    ),
    "mid-stream": (
        Fault(headers={"x-request-id": "req-cut"}, drop_after=2),
        StreamInterruptedError,
        "req-cut",
    ),
}
cases = pytest.mark.parametrize("case", sorted(CASES))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("X-Request-ID", " abc ")], "abc"),
        ([("request-id", "r1"), ("x-request-id", "x1")], "x1"),  # x-request-id first
        ([("x-request-id", "")], None),
        ([("content-type", "text/plain")], None),
        ([("x-request-id", "r" * 500)], "r" * 200),
        ([("x-request-id", "req\x1b[31mRED\x07")], "req\\x1b[31mRED\\x07"),  # escapes shown
    ],
)
def test_the_request_id_header(headers: list[tuple[str, str]], expected: str | None) -> None:
    assert request_id(headers) == expected


@dialects
@cases
def test_sync_errors_carry_the_request_id(
    aura_server_factory: Callable[..., AuraServer], dialect: DialectName, case: str
) -> None:
    fault, kind, rid = CASES[case]
    error: APIError
    server = aura_server_factory(dialect=dialect)
    server.script(fault)
    with AuraClient(base_url=server.base_url, dialect=dialect, max_retries=0) as client:
        stream = client.stream(HI)
        with pytest.raises(kind) as info:
            list(stream)
        error = info.value  # type: ignore[assignment]
    assert error.request_id == rid
    assert f"request id {rid})" in str(error)
    if case == "mid-stream":  # the reply's head came: the stream has it too
        assert stream.request_id == rid


@pytest.mark.anyio
@dialects
@cases
async def test_async_errors_carry_the_request_id(
    aura_server_factory: Callable[..., AuraServer], dialect: DialectName, case: str
) -> None:
    fault, kind, rid = CASES[case]
    error: APIError
    server = aura_server_factory(dialect=dialect)
    server.script(fault)
    async with AsyncAuraClient(base_url=server.base_url, dialect=dialect, max_retries=0) as client:
        stream = client.stream(HI)
        with pytest.raises(kind) as info:
            async with stream:
                async for _ in stream:
                    pass
        error = info.value  # type: ignore[assignment]
    assert error.request_id == rid
    assert f"request id {rid})" in str(error)
    if case == "mid-stream":  # the reply's head came: the stream has it too
        assert stream.request_id == rid


@dialects
def test_a_complete_stream_has_it_and_an_answer_without_one_has_none(
    aura_server_factory: Callable[..., AuraServer], dialect: DialectName
) -> None:
    server = aura_server_factory(dialect=dialect)
    with AuraClient(base_url=server.base_url, dialect=dialect, max_retries=0) as client:
        server.script(Fault(headers={"x-request-id": "req-ok"}))
        stream = client.stream(HI)
        assert stream.request_id is None  # not sent yet
        with stream:
            assert "".join(stream)
        assert stream.request_id == "req-ok"
        with client.stream(HI) as plain:
            assert "".join(plain)
        assert plain.request_id is None
        server.script(Fault(status=400))
        with pytest.raises(APIError) as info:
            client.chat(HI)
        assert info.value.request_id is None
        assert "request id" not in str(info.value)


@dialects
def test_a_request_id_that_echoes_the_key_is_masked(
    aura_server_factory: Callable[..., AuraServer], dialect: DialectName
) -> None:
    key = "sk-secret-key-1234"
    server = aura_server_factory(dialect=dialect)
    server.script(Fault(status=400, headers={"x-request-id": f"req-{key}"}))
    with AuraClient(
        base_url=server.base_url, dialect=dialect, api_key=key, max_retries=0
    ) as client:
        with pytest.raises(BadRequestError) as info:
            client.chat(HI)
    assert key not in str(info.value)
    assert key not in repr(info.value)
    assert info.value.request_id is not None
    assert key not in info.value.request_id


@dialects
def test_a_key_across_the_cut_of_a_long_id_is_masked(
    aura_server_factory: Callable[..., AuraServer], dialect: DialectName
) -> None:
    """Masked before the cut at 200 characters: no piece of the key is left."""
    key = "sk-SECRETKEY0123456789abcdefghij"
    server = aura_server_factory(dialect=dialect)
    server.script(Fault(status=400, headers={"x-request-id": "A" * 185 + key}))
    with AuraClient(
        base_url=server.base_url, dialect=dialect, api_key=key, max_retries=0
    ) as client:
        with pytest.raises(BadRequestError) as info:
            client.chat(HI)
    assert key[:12] not in str(info.value)
    assert info.value.request_id is not None
    assert key[:12] not in info.value.request_id


@dialects
def test_a_retried_request_names_the_last_attempts_id(
    aura_server_factory: Callable[..., AuraServer], dialect: DialectName
) -> None:
    server = aura_server_factory(dialect=dialect)
    server.script(Fault(status=503, headers={"x-request-id": "first", "Retry-After": "0"}))
    server.script(Fault(status=503, headers={"x-request-id": "second", "Retry-After": "0"}))
    with AuraClient(base_url=server.base_url, dialect=dialect, max_retries=1) as client:
        with pytest.raises(APIError) as info:
            client.chat(HI)
    assert info.value.request_id == "second"
    assert "after 1 retry, request id second)" in str(info.value)
