"""The local Aura server: openchat-ui's wire behaviour, its faults, and the pytest plugin."""

from __future__ import annotations

import json
from collections.abc import Callable

import anyio
import httpx
import pytest

from aura_sdk import (
    APITimeoutError,
    AsyncAuraClient,
    AuraClient,
    AuthenticationError,
    InternalServerError,
    RateLimitError,
    StreamInterruptedError,
    StreamTimeoutError,
    Timeout,
    assistant,
    chat_body,
    system,
    user,
)
from aura_sdk.server import FAULT_HEADER, AuraServer, Fault, LocalResponder, mask_key
from aura_sdk.server._responder import sized_reply, split_inside_character

HI = [user("Hi")]


def post(server: AuraServer, path: str, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(server.base_url + path, content=content, headers=headers)


def chat_json(**overrides: object) -> bytes:
    body = chat_body([system("Be kind."), user("Hi there")], model="openchat_3.6")
    body.update(overrides)
    return json.dumps(body).encode()


# --- the protocol ------------------------------------------------------------


def test_success_is_chunked_plain_text_with_no_content_type(aura_server: AuraServer) -> None:
    response = post(aura_server, "/api/chat", chat_json())
    assert response.status_code == 200
    assert "content-type" not in response.headers
    assert response.headers["transfer-encoding"] == "chunked"
    assert "You said: “Hi there”" in response.text
    assert "Your system prompt says: “Be kind.”" in response.text
    assert "emulator" in response.text


def test_reply_is_deterministic_and_uses_the_conversation(aura_server: AuraServer) -> None:
    with AuraClient(base_url=aura_server.base_url) as client:
        first = client.chat([user("one"), assistant("ok"), user("two")])
        again = client.chat([user("one"), assistant("ok"), user("two")])
        other = client.chat([user("three")], system="Speak French.")
    assert first == again
    assert "“two”" in first
    assert "No system prompt was sent" in first
    assert "“three”" in other
    assert "Speak French." in other


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "Internal Server Error"),
        (
            chat_json(model={"id": "gpt-4", "name": "x", "maxLength": 1, "tokenLimit": 8192}),
            "Internal Server Error",
        ),
        (
            chat_json(messages=[{"role": "user", "content": ["not", "a", "string"]}]),
            "Internal Server Error",
        ),
        (chat_json(messages="Hi"), "Internal Server Error"),
        (b'{"messages": []}', "Internal Server Error"),
    ],
)
def test_bad_requests_get_openchat_ui_500s(
    aura_server: AuraServer, content: bytes, reason: str
) -> None:
    response = post(aura_server, "/api/chat", content)
    assert (response.status_code, response.reason_phrase, response.text) == (500, reason, "Error")
    assert response.headers["content-type"] == "text/plain;charset=UTF-8"


def test_get_is_a_500_and_other_paths_404(aura_server: AuraServer) -> None:
    assert httpx.get(aura_server.base_url + "/api/chat").status_code == 500
    assert httpx.get(aura_server.base_url + "/api/models").status_code == 500
    assert post(aura_server, "/nope", b"").status_code == 404


def test_unknown_key_is_rejected_in_the_reason_phrase(
    aura_server_factory: Callable[..., AuraServer],
) -> None:
    server = aura_server_factory(api_keys={"sk-good-key-0001"})
    with AuraClient(base_url=server.base_url, api_key="sk-good-key-0001") as client:
        assert "You said" in client.chat(HI)
    with AuraClient(base_url=server.base_url, api_key="sk-wrong-key-9999") as client:
        with pytest.raises(AuthenticationError) as info:
            client.chat(HI)
        assert str(info.value) == (
            f"500 Incorrect API key provided: sk-***9999. (POST {server.base_url}/api/chat, "
            "not retried)"
        )
        with pytest.raises(AuthenticationError) as models_info:
            client.models()
    assert models_info.value.body.startswith('{"error"')
    with AuraClient(base_url=server.base_url) as client:  # "" means the server's own key
        assert "You said" in client.chat(HI)


def test_mask_key() -> None:
    assert mask_key("sk-abcdefghijklmnop") == "sk-***mnop"
    assert mask_key("short") == "***"


def test_models(aura_server_factory: Callable[..., AuraServer]) -> None:
    server = aura_server_factory(models=["openchat_3.6", "mine"])
    response = post(server, "/api/models", b'{"key": ""}')
    assert response.headers["content-type"] == "text/plain;charset=UTF-8"
    assert response.json() == [
        {"id": "openchat_3.6", "name": "OpenChat 3.6 (latest)"},
        {"id": "mine", "name": "mine"},
    ]
    with AuraClient(base_url=server.base_url, model="mine") as client:
        assert [m.id for m in client.models()] == ["openchat_3.6", "mine"]
        assert "You said" in client.chat(HI)


def test_long_history_is_trimmed_oldest_first(aura_server: AuraServer) -> None:
    long = "word " * 4000  # about 5000 "tokens" at four characters each
    with AuraClient(base_url=aura_server.base_url) as client:
        text = client.chat([user(long), assistant(long), user("last")], max_tokens=8192)
    assert "I can see 2 of the 3 messages" in text


def test_requests_are_recorded(aura_server: AuraServer) -> None:
    with AuraClient(base_url=aura_server.base_url, api_key="", headers={"X-Trace": "7"}) as client:
        client.chat([system("S"), user("Hi")], temperature=0.1)
    recorded = aura_server.requests[-1]
    assert (recorded.method, recorded.path) == ("POST", "/api/chat")
    assert recorded.headers["x-trace"] == "7"
    assert recorded.json() == chat_body(
        [system("S"), user("Hi")], model="openchat_3.6", temperature=0.1
    )
    aura_server.reset()
    assert aura_server.requests == []


# --- fault injection ----------------------------------------------------------


def test_delay_before_the_status_line(aura_server: AuraServer) -> None:
    aura_server.script(Fault(delay=5))
    with AuraClient(
        base_url=aura_server.base_url, timeout=Timeout(response=0.2), max_retries=0
    ) as client:
        with pytest.raises(APITimeoutError) as info:
            client.chat(HI)
    assert not isinstance(info.value, StreamInterruptedError)
    assert info.value.limit == "response"


def test_stall_after_n_chunks(aura_server: AuraServer) -> None:
    aura_server.script(Fault(stall_after=3))
    with AuraClient(
        base_url=aura_server.base_url, timeout=Timeout(read=0.2), max_retries=0
    ) as client:
        with pytest.raises(StreamTimeoutError) as info:
            client.chat(HI)
    assert info.value.text == "Hello! I am "


def test_drop_after_n_chunks(aura_server: AuraServer) -> None:
    aura_server.script(Fault(drop_after=2))
    with AuraClient(base_url=aura_server.base_url, max_retries=0) as client:
        with pytest.raises(StreamInterruptedError) as info:
            client.chat(HI)
    assert info.value.text == "Hello! I "


def test_any_status_reason_and_headers(aura_server: AuraServer) -> None:
    aura_server.script(
        Fault(status=429, reason="Slow Down", headers={"Retry-After": "120"}, body="later")
    )
    response = post(aura_server, "/api/chat", chat_json())
    assert (response.status_code, response.reason_phrase, response.text) == (
        429,
        "Slow Down",
        "later",
    )
    assert response.headers["retry-after"] == "120"


def test_fail_first_k_then_succeed(aura_server: AuraServer) -> None:
    aura_server.script(
        Fault(status=503, reason="Service Unavailable", headers={"Retry-After": "0"}, repeat=2)
    )
    with AuraClient(base_url=aura_server.base_url, max_retries=2) as client:
        stream = client.stream(HI)
        assert "You said" in "".join(stream)
    assert stream.retries == 2
    assert len(aura_server.requests) == 3


def test_rate_limit_500(aura_server: AuraServer) -> None:
    aura_server.script(Fault(status=500, reason="Rate limit reached for requests"))
    with AuraClient(base_url=aura_server.base_url, max_retries=0) as client:
        with pytest.raises(RateLimitError, match="500 Rate limit reached for requests"):
            client.chat(HI)


def test_split_multibyte() -> None:
    chunks = LocalResponder.words("a “b” c")
    split = split_inside_character(chunks)
    assert b"".join(split) == b"".join(chunks)
    assert any(_cut_inside_a_character(chunk) for chunk in split)


def _cut_inside_a_character(chunk: bytes) -> bool:
    try:
        chunk.decode()
    except UnicodeDecodeError:
        return True
    return False


def test_split_multibyte_end_to_end(aura_server: AuraServer) -> None:
    with AuraClient(base_url=aura_server.base_url) as client:
        plain = client.chat(HI)
        aura_server.script(Fault(split_multibyte=True))
        assert client.chat(HI) == plain


@pytest.mark.parametrize("size", [0, 1, 7, 100, 4097])
def test_reply_of_n_bytes(aura_server: AuraServer, size: int) -> None:
    aura_server.script(Fault(reply_bytes=size, chunk_size=5))
    with AuraClient(base_url=aura_server.base_url) as client:
        assert len(client.chat(HI).encode()) == size
    assert len(b"".join(sized_reply(size, 5))) == size


def test_fault_per_request_header(aura_server: AuraServer) -> None:
    fault = json.dumps({"status": 502, "reason": "Bad Gateway"})
    with AuraClient(
        base_url=aura_server.base_url, headers={FAULT_HEADER: fault}, max_retries=0
    ) as client:
        with pytest.raises(InternalServerError, match="502 Bad Gateway"):
            client.chat(HI)
    chunks = json.dumps({"chunks": ["a", "b"]})
    with AuraClient(base_url=aura_server.base_url, headers={FAULT_HEADER: chunks}) as client:
        assert client.chat(HI) == "ab"


def test_bad_fault_header_is_a_500(aura_server: AuraServer) -> None:
    response = post(aura_server, "/api/chat", chat_json(), **{FAULT_HEADER: '{"nope": 1}'})
    assert response.status_code == 500
    assert "unknown fault fields" in response.reason_phrase


def test_per_server_fault(aura_server_factory: Callable[..., AuraServer]) -> None:
    server = aura_server_factory(fault=Fault(chunks=(b"x",)))
    with AuraClient(base_url=server.base_url) as client:
        assert [client.chat(HI), client.chat(HI)] == ["x", "x"]


@pytest.mark.parametrize(
    "kwargs",
    [{"delay": -1}, {"status": 99}, {"drop_after": -1}, {"chunk_size": 0}, {"repeat": 0}],
)
def test_bad_faults(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Fault(**kwargs)  # type: ignore[arg-type]


# --- in your own event loop, and the plugin's fixtures -------------------------


@pytest.mark.anyio
async def test_serve_in_a_task_group() -> None:
    server = AuraServer(pace=0)
    async with anyio.create_task_group() as tasks:
        await tasks.start(server.serve)
        async with AsyncAuraClient(base_url=server.base_url) as client:
            assert "You said: “Hi”" in await client.chat(HI)
        tasks.cancel_scope.cancel()


def test_plugin_fixtures(aura_base_url: str, aura_server: AuraServer) -> None:
    assert aura_base_url == aura_server.base_url
    assert aura_base_url.startswith("http://127.0.0.1:")


def test_pace_streams_word_by_word(aura_server_factory: Callable[..., AuraServer]) -> None:
    server = aura_server_factory(pace=0.01)
    with AuraClient(base_url=server.base_url) as client:
        chunks = list(client.stream(HI))
    assert len(chunks) > 10
    assert chunks[:3] == ["Hello! ", "I ", "am "]
