"""The local server's openai dialect: OpenChat's own server, quirks and faults, over real sockets.

Ground truth: ``openchat-protocol.md`` (ochat 3.6.1's ``openai_api_server``).
Everything here talks HTTP with httpx directly, never through the SDK.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import h11
import httpx
import pytest

from aura_sdk.server import FAULT_HEADER, AuraServer, Fault

TIMEOUT = httpx.Timeout(10.0)
CHAT = "/chat/completions"
HELLO = Fault(chunks=(b"Hello", b", world"))
Factory = Callable[..., AuraServer]


def body(**overrides: object) -> dict[str, Any]:
    data: dict[str, Any] = {
        "model": "openchat_3.6",
        "messages": [{"role": "user", "content": "Hi there"}],
        "stream": True,
    }
    data.update(overrides)
    return data


def post(
    server: AuraServer, content: dict[str, Any] | bytes, path: str = CHAT, **headers: str
) -> httpx.Response:
    raw = content if isinstance(content, bytes) else json.dumps(content).encode()
    return httpx.post(server.base_url + path, content=raw, headers=headers, timeout=TIMEOUT)


def events(response: httpx.Response) -> list[bytes]:
    """The ``data`` of each event, split on LF over bytes (never ``str.splitlines``)."""
    assert response.content.endswith(b"\n\n")
    out = []
    for event in response.content.split(b"\n\n")[:-1]:
        assert event.startswith(b"data: ")
        assert b"\n" not in event
        out.append(event[len(b"data: ") :])
    return out


def chunks(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON chunks of a stream, checking it ends with ``[DONE]``."""
    data = events(response)
    assert data[-1] == b"[DONE]"
    return [json.loads(item) for item in data[:-1]]


def text_of(parsed: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content", "") for c in parsed)


def flat(message: str) -> dict[str, Any]:
    return {
        "object": "error",
        "message": message,
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


# --- construction ----------------------------------------------------------------


def test_base_url_ends_in_v1_and_root_url_does_not(openai_server: AuraServer) -> None:
    assert openai_server.base_url == f"http://127.0.0.1:{openai_server.port}/v1"
    assert openai_server.root_url == f"http://127.0.0.1:{openai_server.port}"
    assert openai_server.dialect == "openai"


def test_the_aura_dialect_is_the_default_and_unchanged(aura_server: AuraServer) -> None:
    assert aura_server.dialect == "aura"
    assert aura_server.base_url == aura_server.root_url
    response = httpx.get(aura_server.base_url + "/v1/models", timeout=TIMEOUT)
    assert response.status_code == 404
    assert response.text == "Error"


@pytest.mark.parametrize("dialect", ["OpenAI", "", "vllm", None, 3])
def test_a_bad_dialect_is_a_value_error(dialect: object) -> None:
    with pytest.raises(ValueError, match="dialect must be one of"):
        AuraServer(dialect=dialect)  # type: ignore[arg-type]


def test_enable_sys_prompt_is_checked() -> None:
    with pytest.raises(TypeError, match="enable_sys_prompt"):
        AuraServer(dialect="openai", enable_sys_prompt="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only for dialect='openai'"):
        AuraServer(enable_sys_prompt=True)


def test_default_models_are_openchats_served_ids() -> None:
    assert AuraServer(dialect="openai").models == (
        "openchat_3.6",
        "openchat_3.5",
        "openchat_v3.2_mistral",
    )


# --- routes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "detail", "allow"),
    [
        ("GET", "/v1/chat/completions", 405, "Method Not Allowed", "POST"),
        ("POST", "/v1/models", 405, "Method Not Allowed", "GET"),
        ("GET", "/", 404, "Not Found", None),
        ("POST", "/api/chat", 404, "Not Found", None),
        ("POST", "/v1/completions", 404, "Not Found", None),
        ("POST", "/chat/completions", 404, "Not Found", None),
        ("GET", "/v1/models/openchat_3.6", 404, "Not Found", None),
    ],
)
def test_only_two_routes_exist(
    openai_server: AuraServer,
    method: str,
    path: str,
    status: int,
    detail: str,
    allow: str | None,
) -> None:
    response = httpx.request(
        method, openai_server.root_url + path, content=json.dumps(body()), timeout=TIMEOUT
    )
    assert response.status_code == status
    assert response.reason_phrase == detail
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": detail}
    assert response.headers.get("allow") == allow


# --- streaming success ------------------------------------------------------------


def test_a_stream_is_openchats_sse(openai_server: AuraServer) -> None:
    response = post(openai_server, body())
    assert response.status_code == 200
    assert response.reason_phrase == "OK"
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["transfer-encoding"] == "chunked"
    parsed = chunks(response)
    ids = {c["id"] for c in parsed}
    assert len(ids) == 1
    (ident,) = ids
    assert ident.startswith("cmpl-")
    assert int(ident[len("cmpl-") :], 16) >= 0
    for chunk in parsed:
        assert list(chunk) == ["id", "model", "choices"]  # no object, no created, no usage
        assert chunk["model"] == "openchat_3.6"
        (choice,) = chunk["choices"]
        assert list(choice) == ["index", "delta", "finish_reason"]
    assert parsed[0]["choices"][0] == {
        "index": 0,
        "delta": {"role": "assistant"},
        "finish_reason": None,
    }
    assert parsed[-1]["choices"][0] == {
        "index": 0,
        "delta": {"content": ""},
        "finish_reason": "stop",
    }
    middle = [c["choices"][0] for c in parsed[1:-1]]
    assert all(set(c["delta"]) == {"content"} and c["finish_reason"] is None for c in middle)
    text = text_of(parsed)
    assert "You said: “Hi there”." in text
    assert "emulator" in text


def test_content_comes_in_batches_of_six_words(openai_server: AuraServer) -> None:
    parsed = chunks(post(openai_server, body()))
    deltas = [c["choices"][0]["delta"]["content"] for c in parsed[1:-1]]
    assert len(deltas) > 2
    assert all(delta.count(" ") == 6 for delta in deltas[:-1])
    assert 0 < deltas[-1].count(" ") + 1 <= 6


def test_the_first_delta_loses_one_leading_space(aura_server_factory: Factory) -> None:
    server = aura_server_factory(dialect="openai", fault=Fault(chunks=(b"  Hello", b" world")))
    parsed = chunks(post(server, body()))
    assert [c["choices"][0]["delta"].get("content") for c in parsed[1:-1]] == [" Hello", " world"]


def test_json_is_not_ascii_escaped(openai_server: AuraServer) -> None:
    response = post(openai_server, body(messages=[{"role": "user", "content": "a\u2028b é"}]))
    assert "a\u2028b é".encode() in response.content
    assert b"\\u2028" not in response.content
    # A reader that splits lines on U+2028 (str.splitlines) breaks the JSON.
    assert "You said: “a\u2028b é”" in text_of(chunks(response))


def test_a_stream_has_no_usage_and_stop_is_ignored(openai_server: AuraServer) -> None:
    plain = text_of(chunks(post(openai_server, body())))
    stopped = post(openai_server, body(stop=["emulator", "\n"], stream_options={"x": 1}))
    assert text_of(chunks(stopped)) == plain  # accepted, and ignored
    assert b"usage" not in stopped.content
    assert "emulator" in plain


def test_max_tokens_cuts_the_reply_with_finish_reason_length(openai_server: AuraServer) -> None:
    parsed = chunks(post(openai_server, body(max_tokens=5)))
    assert parsed[-1]["choices"][0]["finish_reason"] == "length"
    assert text_of(parsed) == "Hello! I am the loc"  # 4 characters a token, 5 tokens
    whole = post(openai_server, body(max_tokens=5, stream=False)).json()
    assert whole["choices"][0]["finish_reason"] == "length"
    assert whole["usage"]["completion_tokens"] == 5


def test_keep_alive_serves_requests_on_one_connection(openai_server: AuraServer) -> None:
    with httpx.Client(base_url=openai_server.base_url, timeout=TIMEOUT) as client:
        for _ in range(3):
            assert client.post(CHAT, json=body()).status_code == 200
        assert client.get("/models").status_code == 200
    assert openai_server.connections == 1


@pytest.mark.parametrize("dialect", ["aura", "openai"])
def test_head_gets_no_body_and_keeps_the_connection(
    aura_server_factory: Factory, dialect: str
) -> None:
    server = aura_server_factory(dialect=dialect)
    with httpx.Client(base_url=server.root_url, timeout=TIMEOUT) as client:
        for path in ("/v1/models", "/api/chat", "/nope"):
            response = client.head(path)
            assert response.status_code in (404, 405, 500)
            assert response.content == b""
            assert int(response.headers["content-length"]) > 0
    assert server.connections == 1


def test_n_choices_stream_their_role_chunks_first(openai_server: AuraServer) -> None:
    openai_server.script(HELLO)
    parsed = chunks(post(openai_server, body(n=2)))
    indexes = [(c["choices"][0]["index"], c["choices"][0]["delta"]) for c in parsed]
    assert indexes[:2] == [(0, {"role": "assistant"}), (1, {"role": "assistant"})]
    assert indexes[2:4] == [(0, {"content": "Hello"}), (1, {"content": "Hello"})]
    assert [c["choices"][0]["finish_reason"] for c in parsed[-2:]] == ["stop", "stop"]


# --- non-streaming ------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, None, "absent"])
def test_without_stream_it_is_a_chat_completion_with_usage(
    openai_server: AuraServer, stream: object
) -> None:
    request = body(stream=stream)
    if stream == "absent":
        del request["stream"]
    response = post(openai_server, request)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert list(data) == ["id", "object", "created", "model", "choices", "usage"]
    assert data["id"].startswith("cmpl-")
    assert data["object"] == "chat.completion"
    assert isinstance(data["created"], int)
    assert data["model"] == "openchat_3.6"
    (choice,) = data["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == text_of(chunks(post(openai_server, body())))
    usage = data["usage"]
    assert usage["prompt_tokens"] == len("Hi there") // 4 + 1
    assert usage["completion_tokens"] == len(choice["message"]["content"]) // 4 + 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_n_choices_without_stream(openai_server: AuraServer) -> None:
    data = post(openai_server, body(stream=False, n=2)).json()
    assert [c["index"] for c in data["choices"]] == [0, 1]
    assert data["choices"][0]["message"] == data["choices"][1]["message"]


def test_lax_values_are_read_as_pydantic_reads_them(openai_server: AuraServer) -> None:
    response = post(openai_server, body(stream="true", temperature="0.5", n=1.0, top_p=1))
    assert response.headers["content-type"].startswith("text/event-stream")
    assert post(openai_server, body(stream="no")).json()["object"] == "chat.completion"


# --- errors -------------------------------------------------------------------------


def test_an_unknown_model_is_a_flat_404(openai_server: AuraServer) -> None:
    response = post(openai_server, body(model="gpt-4"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == flat("The model `gpt-4` does not exist.")
    assert list(response.json()) == ["object", "message", "type", "param", "code"]


def test_only_served_models_are_accepted(aura_server_factory: Factory) -> None:
    server = aura_server_factory(dialect="openai", models=["my-model"])
    assert post(server, body(model="my-model")).status_code == 200
    assert post(server, body()).status_code == 404


MESSAGE = {"role": "user", "content": "Hi"}


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        b"[1, 2]",
        b'"a string"',
        json.dumps({"messages": [MESSAGE]}).encode(),
        json.dumps({"model": "openchat_3.6"}).encode(),
        body(model=36),
        body(messages="Hi"),
        body(messages=[]),
        body(messages=[{"role": "system", "content": "Only a system prompt."}]),
        body(messages=[{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]),
        body(messages=[{"role": "user", "content": None}]),
        body(messages=[{"role": "user", "content": 3}]),
        body(messages=[{"content": "Hi"}]),
        body(messages=[{"role": "user"}]),
        body(messages=["Hi"]),
        body(temperature=None),
        body(top_p=None),
        body(n=None),
        body(condition=None),
        body(presence_penalty=None),
        body(temperature="warm"),
        body(n=1.5),
        body(stream="maybe"),
        body(condition=1),
        body(stop=5),
        body(stop=["ok", 5]),
        body(logit_bias=[1]),
        body(user=7),
        body(temperature=10**400),
        body(max_tokens="1e400"),
        b'{"model": "openchat_3.6", "messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
)
def test_what_pydantic_or_the_tokenizer_refuse_is_a_plain_500(
    openai_server: AuraServer, content: dict[str, Any] | bytes
) -> None:
    response = post(openai_server, content)
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "Internal Server Error"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"temperature": -1}, "temperature must be non-negative, got -1.0."),
        ({"top_p": 0}, "top_p must be in (0, 1], got 0.0."),
        ({"top_p": 1.5}, "top_p must be in (0, 1], got 1.5."),
        ({"logit_bias": {"42": 5}}, "logit_bias is not currently supported"),
        ({"n": 0}, "n must be at least 1, got 0."),
        ({"presence_penalty": 3}, "presence_penalty must be in [-2, 2], got 3.0."),
        ({"frequency_penalty": -2.5}, "frequency_penalty must be in [-2, 2], got -2.5."),
        ({"max_tokens": 0}, "max_tokens must be at least 1, got 0."),
        ({"n": 2, "temperature": 0}, "best_of must be 1 when using greedy sampling.Got 2."),
        ({"n": 10**9}, "n must be at most 128, got 1000000000."),
    ],
)
def test_bad_sampling_values_are_a_flat_400(
    openai_server: AuraServer, overrides: dict[str, Any], message: str
) -> None:
    response = post(openai_server, body(**overrides))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == flat(message)


@pytest.mark.parametrize(
    "overrides",
    [{"tools": [], "response_format": {"type": "json_object"}}, {"logit_bias": {}}, {"seed": 7}],
)
def test_unknown_and_empty_fields_are_accepted(
    openai_server: AuraServer, overrides: dict[str, Any]
) -> None:
    assert post(openai_server, body(**overrides)).status_code == 200


# --- API keys -----------------------------------------------------------------------

UNAUTHORIZED = {
    "detail": {
        "error": {
            "message": "",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk-wrong"}, {"Authorization": "Basic sk-good"}],
    ids=["missing", "wrong", "not-bearer"],
)
@pytest.mark.parametrize(("method", "path"), [("POST", CHAT), ("GET", "/models")])
def test_a_missing_or_wrong_key_is_openchats_401(
    aura_server_factory: Factory, headers: dict[str, str], method: str, path: str
) -> None:
    server = aura_server_factory(dialect="openai", api_keys={"sk-good"})
    response = httpx.request(
        method, server.base_url + path, json=body(), headers=headers, timeout=TIMEOUT
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json() == UNAUTHORIZED
    good = httpx.request(
        method,
        server.base_url + path,
        json=body(),
        headers={"Authorization": "bearer sk-good"},  # the scheme is case-insensitive
        timeout=TIMEOUT,
    )
    assert good.status_code == 200


def test_the_key_is_checked_before_the_body(aura_server_factory: Factory) -> None:
    server = aura_server_factory(dialect="openai", api_keys={"sk-good"})
    assert post(server, b"{not json").status_code == 401


def test_no_keys_means_no_check(aura_server_factory: Factory) -> None:
    server = aura_server_factory(dialect="openai", api_keys=())
    assert post(server, body()).status_code == 200


# --- system messages ------------------------------------------------------------------

WITH_SYSTEM = [
    {"role": "system", "content": "  First  "},
    {"role": "user", "content": "Hi"},
    {"role": "system", "content": "  Second\n"},
]


def test_system_messages_are_dropped_by_default(openai_server: AuraServer) -> None:
    data = post(openai_server, body(messages=WITH_SYSTEM, stream=False)).json()
    content = data["choices"][0]["message"]["content"]
    assert "First" not in content
    assert "Second" not in content
    assert "I can see 1 of the 3 messages" in content
    assert data["usage"]["prompt_tokens"] == len("Hi") // 4 + 1


def test_enable_sys_prompt_keeps_the_last_system_message_stripped(
    aura_server_factory: Factory,
) -> None:
    server = aura_server_factory(dialect="openai", enable_sys_prompt=True)
    data = post(server, body(messages=WITH_SYSTEM, stream=False)).json()
    content = data["choices"][0]["message"]["content"]
    assert "Your system prompt says: “Second”." in content
    assert "First" not in content
    assert "I can see 2 of the 3 messages" in content
    assert data["usage"]["prompt_tokens"] == (len("Second") // 4 + 1) + (len("Hi") // 4 + 1)


# --- context overflow -----------------------------------------------------------------

LONG = [{"role": "user", "content": "x" * 40_000}]  # 10001 tokens at four characters each


@pytest.mark.parametrize("stream", [True, False])
def test_overflow_with_max_tokens_is_a_200_json_array(
    openai_server: AuraServer, stream: bool
) -> None:
    response = post(openai_server, body(messages=LONG, max_tokens=100, stream=stream))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    ids, inner = response.json()
    assert len(ids) == 10_001
    assert all(isinstance(i, int) for i in ids)
    assert list(inner) == ["status_code", "background", "body", "raw_headers"]
    assert inner["status_code"] == 400
    assert inner["background"] is None
    assert json.loads(inner["body"]) == flat(
        "This model's maximum context length is 8192 tokens. However, you requested 10101 "
        "tokens (10001 in the messages, 100 in the completion). Please reduce the length of "
        "the messages or completion."
    )
    assert inner["raw_headers"] == [
        ["content-length", str(len(inner["body"].encode()))],
        ["content-type", "application/json"],
    ]


def test_overflow_counts_the_prompt_plus_max_tokens(openai_server: AuraServer) -> None:
    fits = [{"role": "user", "content": "x" * 4000}]  # 1001 tokens
    assert post(openai_server, body(messages=fits, max_tokens=7191)).status_code == 200
    over = post(openai_server, body(messages=fits, max_tokens=7192))
    assert over.headers["content-type"] == "application/json"
    assert isinstance(over.json(), list)


def test_overflow_without_max_tokens_is_a_flat_400(openai_server: AuraServer) -> None:
    response = post(openai_server, body(messages=LONG))
    assert response.status_code == 400
    assert response.json() == flat("max_tokens must be at least 1, got -1809.")


# --- models ---------------------------------------------------------------------------


def test_models_are_openchats_model_list(openai_server: AuraServer) -> None:
    response = httpx.get(openai_server.base_url + "/models", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert data["object"] == "list"
    assert [m["id"] for m in data["data"]] == list(openai_server.models)
    for card in data["data"]:
        assert card["object"] == "model"
        assert card["owned_by"] == "openchat"
        assert isinstance(card["created"], int)


# --- faults -----------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["aura", "openai"])
def test_fault_chunks_are_the_same_text_in_both_dialects(
    aura_server_factory: Factory, dialect: str
) -> None:
    server = aura_server_factory(dialect=dialect, fault=HELLO)
    if dialect == "aura":
        request = {
            "model": {"id": "openchat_3.6", "name": "x", "maxLength": 1, "tokenLimit": 8192},
            "messages": [MESSAGE],
            "key": "",
            "prompt": "",
        }
        assert post(server, request, path="/api/chat").text == "Hello, world"
    else:
        parsed = chunks(post(server, body()))
        assert [c["choices"][0]["delta"].get("content") for c in parsed] == [
            None,
            "Hello",
            ", world",
            "",
        ]


def stream_raw(server: AuraServer, fault: Fault, read: float = 10.0) -> tuple[bytes, str]:
    """The body bytes that arrived, and how the stream ended."""
    received = b""
    timeout = httpx.Timeout(10.0, read=read)
    with httpx.Client(timeout=timeout) as client:
        server.script(fault)
        try:
            with client.stream("POST", server.base_url + CHAT, json=body()) as response:
                for data in response.iter_raw():
                    received += data
        except httpx.RemoteProtocolError:
            return received, "dropped"
        except httpx.ReadTimeout:
            return received, "stalled"
    return received, "complete"


@pytest.mark.parametrize(("after", "sent"), [(0, []), (1, ["Hello"]), (2, ["Hello", ", world"])])
def test_drop_after_counts_content_deltas(
    openai_server: AuraServer, after: int, sent: list[str]
) -> None:
    received, end = stream_raw(openai_server, Fault(chunks=HELLO.chunks, drop_after=after))
    assert end == "dropped"
    parsed = [json.loads(e[len(b"data: ") :]) for e in received.split(b"\n\n")[:-1]]
    assert parsed[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert [c["choices"][0]["delta"]["content"] for c in parsed[1:]] == sent
    assert b"[DONE]" not in received
    assert b'"finish_reason":"stop"' not in received


def test_stall_after_falls_silent_with_the_connection_open(openai_server: AuraServer) -> None:
    received, end = stream_raw(openai_server, Fault(chunks=HELLO.chunks, stall_after=1), read=0.5)
    assert end == "stalled"
    assert b'"content":"Hello"' in received
    assert b", world" not in received


def h11_chunks(server: AuraServer, fault: Fault) -> list[bytes]:
    """The chunks of a chunked response, as the server framed them (each one write)."""
    server.script(fault)
    conn = h11.Connection(h11.CLIENT)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        payload = json.dumps(body()).encode()
        request = h11.Request(
            method="POST",
            target="/v1/chat/completions",
            headers=[("host", "x"), ("content-length", str(len(payload)))],
        )
        sock.sendall(conn.send(request) + conn.send(h11.Data(data=payload)))
        sock.sendall(conn.send(h11.EndOfMessage()))
        framed: list[bytes] = []
        current = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Data):
                current += event.data
                if event.chunk_end:
                    framed.append(current)
                    current = b""
            elif isinstance(event, h11.EndOfMessage):
                return framed


def test_each_event_is_one_write_and_split_multibyte_cuts_one(openai_server: AuraServer) -> None:
    whole = h11_chunks(openai_server, Fault(chunks=(b"caf\xc3\xa9",)))
    assert all(c.startswith(b"data: ") and c.endswith(b"\n\n") for c in whole)
    split = h11_chunks(openai_server, Fault(chunks=(b"caf\xc3\xa9",), split_multibyte=True))
    assert len(split) == len(whole) + 1
    cut = next(i for i, c in enumerate(split) if not c.endswith(b"\n\n"))
    assert split[cut].endswith(b"\xc3")
    assert split[cut + 1].startswith(b"\xa9")
    with pytest.raises(UnicodeDecodeError):
        split[cut].decode()
    event = json.loads((split[cut] + split[cut + 1])[len(b"data: ") :])
    assert event["choices"][0]["delta"] == {"content": "café"}


def test_bytes_cut_inside_a_character_wait_for_the_rest(openai_server: AuraServer) -> None:
    openai_server.script(Fault(chunks=(b"caf\xc3", b"\xa9!")))
    parsed = chunks(post(openai_server, body()))
    assert [c["choices"][0]["delta"].get("content") for c in parsed[1:-1]] == ["caf", "é!"]


def test_reply_bytes_streams_whole_characters(openai_server: AuraServer) -> None:
    openai_server.script(Fault(reply_bytes=100, chunk_size=7))
    text = text_of(chunks(post(openai_server, body())))
    assert len(text.encode()) == 100
    assert "\ufffd" not in text


def test_error_event_then_done_as_vllm_sends_it(openai_server: AuraServer) -> None:
    error = '{"message": "engine died", "type": "internal_error", "code": 500}'
    openai_server.script(Fault(chunks=HELLO.chunks, error_event=error, error_after=1))
    data = events(post(openai_server, body()))
    assert data[-1] == b"[DONE]"
    assert json.loads(data[-2]) == {"error": json.loads(error)}
    assert data[-2] == b'{"error": ' + error.encode() + b"}"
    assert text_of([json.loads(d) for d in data[:-2]]) == "Hello"
    assert b'finish_reason":"stop' not in b"".join(data)


def test_error_event_before_any_content(openai_server: AuraServer) -> None:
    openai_server.script(Fault(chunks=HELLO.chunks, error_event='"boom"', done=False))
    data = events(post(openai_server, body()))
    assert len(data) == 2
    assert json.loads(data[0])["choices"][0]["delta"] == {"role": "assistant"}
    assert json.loads(data[1]) == {"error": "boom"}


def test_done_false_ends_the_body_cleanly_with_no_done(openai_server: AuraServer) -> None:
    received, end = stream_raw(openai_server, Fault(chunks=HELLO.chunks, done=False))
    assert end == "complete"
    assert received.endswith(b'"finish_reason":"stop"}]}\n\n')
    assert b"[DONE]" not in received


@pytest.mark.parametrize(("reason", "last"), [(None, ", world"), ("length", "")])
def test_finish_reason_none_sends_no_finish_chunk(
    openai_server: AuraServer, reason: str | None, last: str
) -> None:
    openai_server.script(Fault(chunks=HELLO.chunks, finish_reason=reason))
    parsed = chunks(post(openai_server, body()))
    assert parsed[-1]["choices"][0]["delta"]["content"] == last
    assert parsed[-1]["choices"][0]["finish_reason"] == reason
    assert text_of(parsed) == "Hello, world"


def test_sse_sends_exactly_these_bytes(openai_server: AuraServer) -> None:
    sse = (b'\xef\xbb\xbfdata: {"a":1}\r', b"\r: comment\n", b"data: [DONE]\n\n")
    openai_server.script(Fault(sse=sse))
    response = post(openai_server, body())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.content == b"".join(sse)


def test_sse_with_drop_after_counts_its_chunks(openai_server: AuraServer) -> None:
    received, end = stream_raw(
        openai_server, Fault(sse=(b"data: 1\n\n", b"data: 2\n\n"), drop_after=1)
    )
    assert (received, end) == (b"data: 1\n\n", "dropped")


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault(status=503, body='{"error": {"message": "busy"}}'), "application/json"),
        (Fault(status=502), "text/plain; charset=utf-8"),
        (Fault(status=429, body="{}", headers={"content-type": "text/html"}), "text/html"),
    ],
)
def test_a_status_fault_answers_json_or_text(
    openai_server: AuraServer, fault: Fault, kind: str
) -> None:
    openai_server.script(fault)
    response = post(openai_server, body())
    assert response.status_code == fault.status
    assert response.headers.get_list("content-type") == [kind]
    assert response.text == fault.body


def test_content_length_fault_sends_the_sse_unchunked(openai_server: AuraServer) -> None:
    with socket.create_connection(("127.0.0.1", openai_server.port), timeout=10) as sock:
        openai_server.script(Fault(chunks=HELLO.chunks, content_length=5))
        payload = json.dumps(body()).encode()
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n%s"
            % (len(payload), payload)
        )
        received = b""
        while data := sock.recv(65536):
            received += data
    head, _, rest = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"content-type: text/event-stream; charset=utf-8" in head
    assert b"content-length: 5" in head
    assert rest.endswith(b"data: [DONE]\n\n")


def test_raw_and_close_before_status_act_before_any_answer(openai_server: AuraServer) -> None:
    openai_server.script(Fault(raw=b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n"))
    assert post(openai_server, body()).status_code == 502
    openai_server.script(Fault(close_before_status=True))
    with pytest.raises(httpx.RemoteProtocolError):
        post(openai_server, body())


def test_delay_waits_then_answers(openai_server: AuraServer) -> None:
    openai_server.script(Fault(chunks=HELLO.chunks, delay=0.05))
    assert text_of(chunks(post(openai_server, body()))) == "Hello, world"


def test_a_non_streaming_request_takes_the_faults_text(openai_server: AuraServer) -> None:
    openai_server.script(Fault(chunks=HELLO.chunks, finish_reason=None, headers={"x-a": "1"}))
    response = post(openai_server, body(stream=False))
    assert response.headers["x-a"] == "1"
    choice = response.json()["choices"][0]
    assert choice["message"]["content"] == "Hello, world"
    assert choice["finish_reason"] is None


def test_faults_come_in_the_header_too(openai_server: AuraServer) -> None:
    header = json.dumps({"sse": ["data: hi\n\n"], "done": False})
    response = post(openai_server, body(), **{FAULT_HEADER: header})
    assert response.content == b"data: hi\n\n"
    header = json.dumps({"error_event": '{"message": "x"}', "chunks": ["A"], "error_after": 1})
    data = events(post(openai_server, body(), **{FAULT_HEADER: header}))
    assert data[-2:] == [b'{"error": {"message": "x"}}', b"[DONE]"]


def test_a_bad_fault_header_is_a_plain_500(openai_server: AuraServer) -> None:
    response = post(openai_server, body(), **{FAULT_HEADER: '{"error_event": "not json"}'})
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith(f"Bad {FAULT_HEADER} header: error_event must be JSON text")


@pytest.mark.parametrize(
    "fault",
    [
        Fault(sse=(b"data: x\n\n",)),
        Fault(error_event="{}"),
        Fault(error_after=1),
        Fault(done=False),
        Fault(finish_reason=None),
    ],
)
def test_the_aura_dialect_refuses_openai_only_faults(
    aura_server_factory: Factory, fault: Fault
) -> None:
    with pytest.raises(ValueError, match="only the openai dialect"):
        AuraServer(fault=fault)
    server = aura_server_factory()
    with pytest.raises(ValueError, match="only the openai dialect"):
        server.script(fault)
    assert server.scripted == 0


def test_the_aura_dialect_refuses_them_in_the_header(aura_server: AuraServer) -> None:
    response = httpx.post(
        aura_server.base_url + "/api/chat",
        content=b"{}",
        headers={FAULT_HEADER: '{"done": false}'},
        timeout=TIMEOUT,
    )
    assert response.status_code == 500
    assert "only the openai dialect" in response.reason_phrase


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"error_event": "not json"}, ValueError),
        ({"error_event": 3}, TypeError),
        ({"error_event": '{"a":\n1}'}, ValueError),
        ({"error_after": -1}, ValueError),
        ({"error_after": True}, ValueError),
        ({"done": "yes"}, TypeError),
        ({"finish_reason": 3}, TypeError),
        ({"sse": ["data: x"]}, TypeError),
        ({"sse": b"data: x"}, TypeError),
    ],
)
def test_new_fault_fields_are_checked(fields: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        Fault(**fields)


@pytest.mark.parametrize(
    "header",
    ['{"sse": [1]}', '{"sse": "data: x"}', '{"done": 1}', '{"finish_reason": []}'],
)
def test_new_fault_fields_from_json_are_checked(header: str) -> None:
    with pytest.raises(ValueError, match="must be"):
        Fault.from_json(header)


# --- the fixtures, sync and async -------------------------------------------------------


def test_openai_base_url_fixture_serves_sync_clients(openai_base_url: str) -> None:
    with httpx.Client(timeout=TIMEOUT) as client:
        response = client.post(openai_base_url + CHAT, json=body(stream=False))
    assert "emulator" in response.json()["choices"][0]["message"]["content"]


@pytest.mark.anyio
async def test_openai_server_fixture_serves_async_clients(openai_server: AuraServer) -> None:
    async with httpx.AsyncClient(base_url=openai_server.base_url, timeout=TIMEOUT) as client:
        openai_server.script(HELLO)
        async with client.stream("POST", CHAT, json=body()) as response:
            raw = b"".join([data async for data in response.aiter_raw()])
        models = await client.get("/models")
    assert b'"content":", world"' in raw
    assert raw.endswith(b"data: [DONE]\n\n")
    assert models.json()["object"] == "list"
