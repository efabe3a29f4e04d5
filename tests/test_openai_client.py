"""The OpenAI-compatible dialect end to end: both clients (async under asyncio and trio)
against the local server's openai dialect on real sockets, trap by trap."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from aura_sdk import (
    APIError,
    AsyncAuraClient,
    AuraClient,
    AuraValidationError,
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    InternalServerError,
    NotFoundError,
    StreamInterruptedError,
    system,
    user,
)
from aura_sdk.server import AuraServer, Fault

MODES = ["sync", "asyncio", "trio"]
KEY = "sk-openai-test-0123456789"


@dataclass
class Outcome:
    """What a caller saw: the pieces, the stream's attributes, or the error."""

    pieces: list[str] = field(default_factory=list)
    text: str = ""
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    id: str | None = None
    stop_sequence: str | None = None
    error: APIError | None = None


def converse(mode: str, client_kwargs: dict[str, Any], messages: Any, **params: Any) -> Outcome:
    """One streamed call through the chosen facade, on a fresh client."""
    out = Outcome()
    kwargs = {"dialect": "openai", "max_retries": 0, **client_kwargs}
    if mode == "sync":
        with AuraClient(**kwargs) as client:
            stream = client.stream(messages, **params)
            try:
                out.pieces = list(stream)
            except APIError as exc:
                out.error = exc
    else:

        async def run() -> Any:
            async with AsyncAuraClient(**kwargs) as client:
                stream = client.stream(messages, **params)
                try:
                    out.pieces = [piece async for piece in stream]
                except APIError as exc:
                    out.error = exc
                return stream

        stream = anyio.run(run, backend=mode)
    out.text = stream.text
    out.finish_reason, out.usage, out.id = stream.finish_reason, stream.usage, stream.id
    out.stop_sequence = stream.stop_sequence
    return out


@pytest.fixture
def server(aura_server_factory: Callable[..., AuraServer]) -> AuraServer:
    return aura_server_factory(dialect="openai")


def on(server: AuraServer, **extra: Any) -> dict[str, Any]:
    return {"base_url": server.base_url, **extra}


@pytest.mark.parametrize("mode", MODES)
def test_a_reply_streams_as_text_with_its_finish(server: AuraServer, mode: str) -> None:
    server.script(Fault(chunks=(b"Hello", b", world \xe2\x9c\x93")))
    out = converse(mode, on(server), [user("hi")])
    assert out.error is None
    assert "".join(out.pieces) == out.text == "Hello, world ✓"
    assert out.finish_reason == "stop"
    assert out.usage is None  # OpenChat's server sends none in a stream
    assert out.id is not None
    assert out.id.startswith("cmpl-")


@pytest.mark.parametrize("mode", MODES)
def test_the_request_is_what_openchat_takes(server: AuraServer, mode: str) -> None:
    converse(
        mode,
        on(server, api_key=KEY),
        [system("second"), user("hi"), system("third")],
        system="first",
        temperature=None,
        top_p=0.9,
        seed=3,
        condition="Math Correct",
    )
    request = server.requests[-1]
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.json()
    assert body == {
        "model": "openchat_3.6",
        "messages": [
            {"role": "system", "content": "first\nsecond\nthird"},
            {"role": "user", "content": "hi"},
        ],
        "stream": True,
        "top_p": 0.9,
        "seed": 3,
        "condition": "Math Correct",
    }


@pytest.mark.parametrize("mode", MODES)
def test_system_text_reaches_a_server_that_keeps_one_message(
    aura_server_factory: Callable[..., AuraServer], mode: str
) -> None:
    # OpenChat (with --enable-sys-prompt) keeps only the last system message.
    keeper = aura_server_factory(dialect="openai", enable_sys_prompt=True)
    out = converse(mode, on(keeper), [system("Be kind."), user("hi")], system="Be brief.")
    assert "Your system prompt says: “Be brief.\nBe kind.”" in out.text


@pytest.mark.parametrize("mode", MODES)
def test_the_overflow_trap_is_a_context_length_error(server: AuraServer, mode: str) -> None:
    long_prompt = "token " * 9000
    out = converse(mode, on(server), [user(long_prompt)], max_tokens=100)
    assert isinstance(out.error, ContextLengthError)
    assert isinstance(out.error, BadRequestError)
    assert out.error.status_code == 400
    assert "maximum context length is 8192 tokens" in str(out.error)
    # Nothing of the echoed prompt tokens (thousands of ids in the answer).
    assert "[[" not in str(out.error)
    assert out.error.body.startswith('{"object":"error"')
    assert len(out.error.body) < 1000
    assert len(server.requests) == 1  # deterministic: not retried


@pytest.mark.parametrize("mode", MODES)
def test_without_max_tokens_the_trap_does_not_fire(server: AuraServer, mode: str) -> None:
    out = converse(mode, on(server), [user("a short question")])
    assert out.error is None
    assert "max_tokens" not in server.requests[-1].json()


@pytest.mark.parametrize("mode", MODES)
def test_a_real_400_about_the_context_is_a_context_length_error(
    server: AuraServer, mode: str
) -> None:
    out = converse(mode, on(server), [user("token " * 40000)])  # no max_tokens: a real 400
    assert isinstance(out.error, ContextLengthError), out.error
    assert "max_tokens must be at least 1" in str(out.error)


@pytest.mark.parametrize("mode", MODES)
def test_stop_is_enforced_on_the_client(server: AuraServer, mode: str) -> None:
    server.script(Fault(chunks=(b"one two\n", b"\nUser: three", b" four")))
    out = converse(mode, on(server), [user("hi")], stop=["\n\nUser:"])
    assert out.error is None
    assert out.text == "".join(out.pieces) == "one two"
    assert (out.finish_reason, out.stop_sequence) == ("stop", "\n\nUser:")
    assert server.requests[-1].json()["stop"] == ["\n\nUser:"]


@pytest.mark.parametrize("mode", MODES)
def test_u2028_inside_the_json_is_text(server: AuraServer, mode: str) -> None:
    server.script(Fault(chunks=("a\u2028b\u2029c\x85d".encode(),)))
    out = converse(mode, on(server), [user("hi")])
    assert out.text == "a\u2028b\u2029c\x85d"
    assert out.finish_reason == "stop"


@pytest.mark.parametrize("mode", MODES)
def test_done_without_finish_reason_keeps_the_text(server: AuraServer, mode: str) -> None:
    # OpenChat's server after a cut inside a multibyte character: [DONE], no finish_reason.
    server.script(Fault(chunks=(b"caf", b"\xc3\xa9"), finish_reason=None))
    out = converse(mode, on(server), [user("hi")])
    assert out.error is None
    assert (out.text, out.finish_reason) == ("café", None)


@pytest.mark.parametrize("mode", MODES)
def test_an_end_with_neither_done_nor_finish_is_an_interruption(
    server: AuraServer, mode: str
) -> None:
    server.script(Fault(chunks=(b"Hello", b" there"), finish_reason=None, done=False))
    out = converse(mode, on(server), [user("hi")])
    assert isinstance(out.error, StreamInterruptedError)
    assert out.error.text == out.text == "Hello there"
    assert "neither data: [DONE] nor a finish_reason" in str(out.error)


@pytest.mark.parametrize("mode", MODES)
def test_an_error_event_mid_stream_carries_the_text(server: AuraServer, mode: str) -> None:
    error = json.dumps({"message": "engine died", "type": "InternalServerError", "code": 500})
    server.script(Fault(chunks=(b"one ", b"two ", b"three"), error_event=error, error_after=2))
    out = converse(mode, on(server, max_retries=2), [user("hi")])
    assert isinstance(out.error, InternalServerError)
    assert out.error.text == out.text == "one two "
    assert "engine died" in str(out.error)
    assert len(server.requests) == 1  # text was handed out: never retried


@pytest.mark.parametrize(
    ("server_keys", "key", "needle"),
    [({"sk-right-0123456789"}, KEY, "invalid API key"), ({"sk-right-0123456789"}, "", "invalid")],
)
@pytest.mark.parametrize("mode", MODES)
def test_openchats_401_says_invalid_api_key(
    aura_server_factory: Callable[..., AuraServer],
    mode: str,
    server_keys: set[str],
    key: str,
    needle: str,
) -> None:
    guarded = aura_server_factory(dialect="openai", api_keys=server_keys)
    out = converse(mode, on(guarded, api_key=key), [user("hi")])
    assert isinstance(out.error, AuthenticationError)
    assert needle in str(out.error)
    assert not key or key not in str(out.error)


@pytest.mark.parametrize("mode", MODES)
def test_an_unknown_model_is_the_flat_404(server: AuraServer, mode: str) -> None:
    out = converse(mode, on(server), [user("hi")], model="gpt-4")
    assert isinstance(out.error, NotFoundError)
    assert "The model `gpt-4` does not exist." in str(out.error)


@pytest.mark.parametrize("mode", MODES)
def test_a_text_plain_500_is_not_retried(server: AuraServer, mode: str) -> None:
    server.script(Fault(status=500, body="Internal Server Error"))
    out = converse(mode, on(server, max_retries=2), [user("hi")])
    assert isinstance(out.error, InternalServerError)
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_503_is_retried(server: AuraServer, mode: str) -> None:
    from aura_sdk import RetryPolicy

    server.script(Fault(status=503), Fault(chunks=(b"ok",)))
    policy = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_cap=0.02)
    out = converse(mode, on(server, max_retries=policy), [user("hi")])
    assert (out.error, out.text) == (None, "ok")
    assert len(server.requests) == 2


@pytest.mark.parametrize("mode", MODES)
def test_the_wrong_url_convention_says_what_to_try(server: AuraServer, mode: str) -> None:
    out = converse(mode, {"base_url": server.root_url}, [user("hi")])
    assert isinstance(out.error, NotFoundError)
    assert f"try base_url='{server.root_url}/v1'" in str(out.error)
    aura = converse(mode, {"base_url": server.base_url, "dialect": "aura"}, [user("hi")])
    assert isinstance(aura.error, NotFoundError)
    assert "try dialect='openai'" in str(aura.error)


def test_models_sync(server: AuraServer) -> None:
    with AuraClient(base_url=server.base_url, dialect="openai", api_key=KEY) as client:
        ids = [m.id for m in client.models()]
    assert set(ids) == {"openchat_3.6", "openchat_3.5", "openchat_v3.2_mistral"}
    request = server.requests[-1]
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert request.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.anyio
async def test_models_async(server: AuraServer) -> None:
    async with AsyncAuraClient(base_url=server.base_url, dialect="openai") as client:
        models = await client.models()
    assert "openchat_3.6" in [m.id for m in models]


def test_the_dialect_comes_from_the_environment(
    server: AuraServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AURA_DIALECT", "openai")
    with AuraClient(base_url=server.base_url) as client:
        assert client.dialect == "openai"
        assert client.chat([user("hi")]).startswith("Hello!")
    monkeypatch.setenv("AURA_DIALECT", "open-ai")
    with pytest.raises(AuraValidationError, match=r"\$AURA_DIALECT"):
        AuraClient(base_url=server.base_url)


def test_chat_returns_str_on_both_clients(server: AuraServer) -> None:
    with AuraClient(base_url=server.base_url, dialect="openai") as client:
        text = client.chat([user("hi")], max_tokens=5)
    assert isinstance(text, str)
    assert text

    async def run() -> str:
        async with AsyncAuraClient(base_url=server.base_url, dialect="openai") as client:
            return await client.chat([user("hi")], max_tokens=5)

    assert anyio.run(run) == text


def test_the_key_is_never_in_a_repr_or_message(server: AuraServer) -> None:
    with AuraClient(base_url=server.base_url, dialect="openai", api_key=KEY) as client:
        stream = client.stream([user("hi")])
        assert KEY not in repr(client) + repr(stream) + repr(stream._spec)
        list(stream)
        assert KEY not in repr(stream.response)
