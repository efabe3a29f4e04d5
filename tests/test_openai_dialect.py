"""The OpenAI-compatible dialect's core, without I/O: the request body, the event
stream as text, client-side stop strings, and every error shape servers send."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aura_sdk import (
    APIResponseValidationError,
    AsyncAuraClient,
    AuraClient,
    AuraDecodeError,
    AuraValidationError,
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ResponseTooLargeError,
    StreamInterruptedError,
    UnprocessableEntityError,
    system,
    user,
)
from aura_sdk._config import ClientConfig
from aura_sdk._dialects import DIALECTS, resolve_dialect
from aura_sdk._dialects.openai import chat_completion_body
from aura_sdk._dialects.openai_reply import EventReply, StopMatcher
from aura_sdk._params import check_params
from aura_sdk._timeouts import DEFAULT_TIMEOUT
from tests._examples import examples

OPENAI = DIALECTS["openai"]
AURA = DIALECTS["aura"]


def config(**kwargs: Any) -> ClientConfig:
    base: dict[str, Any] = {
        "base_url": "http://127.0.0.1:18888/v1",
        "api_key": "sk-test-1234",
        "model": "openchat_3.6",
        "timeout": DEFAULT_TIMEOUT,
        "max_retries": 2,
        "headers": None,
        "environ": {},
    }
    base.update(kwargs)
    return ClientConfig.resolve(**base)


def body(messages: Any, **params: Any) -> dict[str, Any]:
    return chat_completion_body(config(), messages, check_params(params))


def event(obj: object) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"


def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> bytes:
    delta: dict[str, Any] = {} if content is None else {"content": content}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return event({"id": "cmpl-1", "model": "openchat_3.6", "choices": [choice], **extra})


ROLE = event({"id": "cmpl-1", "choices": [{"index": 0, "delta": {"role": "assistant"}}]})
DONE = b"data: [DONE]\n\n"


def read(chunks: list[bytes], **kwargs: Any) -> tuple[list[str], EventReply]:
    reply = EventReply(**kwargs)
    texts = [t for t in reply.texts(chunks) if t]
    return texts, reply


# --- the request ----------------------------------------------------------------------


def test_body_fields_and_no_nulls() -> None:
    assert body([user("hi")]) == {
        "model": "openchat_3.6",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "temperature": 0.5,
    }
    sent = body([user("hi")], temperature=None, model="openchat_3.5")
    assert "temperature" not in sent
    assert sent["model"] == "openchat_3.5"
    assert None not in sent.values()


def test_max_tokens_only_when_given() -> None:
    assert "max_tokens" not in body([user("hi")])
    assert body([user("hi")], max_tokens=100)["max_tokens"] == 100


def test_optional_fields() -> None:
    sent = body([user("hi")], top_p=0.9, seed=7, stop="\n\n", condition="Math Correct")
    assert sent["top_p"] == 0.9
    assert sent["seed"] == 7
    assert sent["stop"] == ["\n\n"]
    assert sent["condition"] == "Math Correct"
    assert body([user("hi")], stop=["a", "b"])["stop"] == ["a", "b"]


def test_all_system_text_is_one_message_at_the_front() -> None:
    sent = body([user("hi"), system("second"), system("third")], system="first")
    assert sent["messages"] == [
        {"role": "system", "content": "first\nsecond\nthird"},
        {"role": "user", "content": "hi"},
    ]
    assert body([system("only"), user("x")])["messages"][0] == {
        "role": "system",
        "content": "only",
    }


def test_request_spec_has_the_bearer_key_and_the_path() -> None:
    spec = OPENAI.chat_request(config(), [user("hi")], check_params({}))
    assert spec.method == "POST"
    assert spec.url == "http://127.0.0.1:18888/v1/chat/completions"
    assert spec.headers["Authorization"] == "Bearer sk-test-1234"
    assert "sk-test-1234" not in repr(spec)
    models = OPENAI.models_request(config())
    assert (models.method, models.url) == ("GET", "http://127.0.0.1:18888/v1/models")
    assert "Authorization" not in OPENAI.headers(config(api_key=""))
    # The caller's own Authorization header wins (a gateway's).
    own = config(headers={"Authorization": "Basic abc"})
    assert OPENAI.headers(own)["Authorization"] == "Basic abc"


def test_a_non_ascii_key_is_refused_without_showing_it() -> None:
    with pytest.raises(AuraValidationError, match="ASCII") as info:
        OPENAI.headers(config(api_key="sk-caf\u00e9-secret"))
    assert "secret" not in str(info.value)


@pytest.mark.parametrize("userinfo", ["bob:s3cret@", "s3cret@", "u:***@", "***@"])
@pytest.mark.parametrize("own_http", [False, True])
def test_userinfo_beside_a_key_is_refused_when_the_client_is_built(
    userinfo: str, own_http: bool
) -> None:
    """httpx would send the userinfo as Basic auth in place of the Bearer key."""
    url = f"http://{userinfo}127.0.0.1:18888/v1"
    for cls, http_cls in ((AuraClient, httpx.Client), (AsyncAuraClient, httpx.AsyncClient)):
        http = http_cls() if own_http else None
        with pytest.raises(AuraValidationError, match="Basic auth") as info:
            cls(base_url=url, dialect="openai", api_key="sk-key", http_client=http)  # type: ignore[arg-type]
        assert "s3cret" not in str(info.value)
        assert "sk-key" not in str(info.value)  # also user info that reads like the mask
    # Userinfo alone is fine (Basic auth is what the caller asked for), as in the Aura dialect.
    AuraClient(base_url=url, dialect="openai", api_key="").close()
    AuraClient(base_url=url, dialect="aura", api_key="sk-key").close()


def test_a_non_ascii_key_is_refused_when_the_client_is_built() -> None:
    with pytest.raises(AuraValidationError, match="ASCII") as info:
        AuraClient(dialect="openai", api_key="sk-caf\u00e9-secret")
    assert "secret" not in str(info.value)


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"tmperature": 1}, "did you mean 'temperature'"),
        ({"stop": ""}, "empty stop string"),
        ({"stop": 3}, "stop: expected a str or a list of str"),
        ({"stop": ["a"] * 17}, "at most 16"),
        ({"stop": ["\ud800"]}, "lone surrogate"),
        ({"top_p": 0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_p": True}, "top_p"),
        ({"seed": 1.5}, "seed"),
        ({"seed": 2**70}, "seed"),
        ({"condition": 5}, "condition"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"errors": "ignore"}, "errors"),
    ],
)
def test_bad_params_are_refused(params: dict[str, Any], needle: str) -> None:
    with pytest.raises(AuraValidationError, match=needle.replace("(", r"\(")):
        checked = check_params(params)
        OPENAI.chat_request(config(), [user("hi")], checked)
        OPENAI.reply(checked, None)


@pytest.mark.parametrize("name", ["stop", "top_p", "seed", "condition"])
def test_the_aura_dialect_refuses_what_it_cannot_send(name: str) -> None:
    value = {"stop": "x", "top_p": 0.5, "seed": 1, "condition": "Math Correct"}[name]
    with pytest.raises(AuraValidationError, match=f"{name}: openchat-ui's request has no such"):
        AURA.chat_request(config(base_url="http://h"), [user("hi")], check_params({name: value}))


def test_dialect_resolution() -> None:
    assert resolve_dialect(None, {}).name == "aura"
    assert resolve_dialect(None, {"AURA_DIALECT": "openai"}).name == "openai"
    assert resolve_dialect("aura", {"AURA_DIALECT": "openai"}).name == "aura"
    with pytest.raises(AuraValidationError, match=r"\$AURA_DIALECT \(dialect\)"):
        resolve_dialect(None, {"AURA_DIALECT": "OpenAI"})
    with pytest.raises(AuraValidationError, match="expected 'aura'"):
        resolve_dialect(3, {})


# --- events to text ---------------------------------------------------------------------


OPENCHAT = [ROLE, chunk("Hello"), chunk(", world"), chunk("", "stop"), DONE]


def test_openchat_stream() -> None:
    texts, reply = read(OPENCHAT)
    assert texts == ["Hello", ", world"]
    assert (reply.text, reply.finish_reason, reply.id, reply.usage) == (
        "Hello, world",
        "stop",
        "cmpl-1",
        None,
    )
    assert reply.ended


def test_usage_and_empty_choices() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    chunks = [chunk("a"), chunk(None, "length"), event({"choices": [], "usage": usage}), DONE]
    texts, reply = read(chunks)
    assert texts == ["a"]
    assert reply.usage == usage
    assert reply.finish_reason == "length"


@pytest.mark.parametrize(
    "noise",
    [
        b"data: null\n\n",
        event({"choices": [{"delta": None}]}),
        event({"choices": None}),
        event({"choices": [{"delta": {"content": None, "role": "assistant"}}]}),
        event({"choices": [{"delta": {"content": ""}, "finish_reason": ""}]}),
        b": keep-alive\n\n",
        event({"choices": [{"delta": {"content": "", "role": "assistant"}, "logprobs": None}]}),
    ],
)
def test_noise_yields_nothing_and_breaks_nothing(noise: bytes) -> None:
    texts, reply = read([ROLE, noise, chunk("a"), noise, chunk(None, "stop"), DONE])
    assert texts == ["a"]
    assert reply.finish_reason == "stop"


def test_u2028_and_split_multibyte_come_out_whole() -> None:
    stream = b"".join(
        [ROLE, chunk("a\u2028b\u0085c caf\u00e9 \U0001f642"), chunk("", "stop"), DONE]
    )
    for size in (1, 2, 3, 7, len(stream)):
        pieces = [stream[i : i + size] for i in range(0, len(stream), size)]
        _texts, reply = read(pieces)
        assert reply.text == "a\u2028b\u0085c caf\u00e9 \U0001f642"


def test_an_end_without_done_or_finish_reason_is_an_interruption() -> None:
    with pytest.raises(
        StreamInterruptedError, match="neither data: \\[DONE\\] nor a finish_reason"
    ) as info:
        read([ROLE, chunk("Hello"), chunk(" there")])
    assert info.value.text == "Hello there"


def test_an_end_inside_an_event_is_an_interruption() -> None:
    with pytest.raises(StreamInterruptedError, match="inside an event") as info:
        read([ROLE, chunk("Hello"), chunk(None, "stop")[:-1]])
    assert info.value.text == "Hello"


def test_a_finish_reason_then_the_end_is_complete() -> None:
    texts, reply = read([ROLE, chunk("Hi"), chunk(None, "stop")])
    assert (texts, reply.finish_reason) == (["Hi"], "stop")


def test_done_without_finish_reason_keeps_the_text_and_says_none() -> None:
    # OpenChat's server after a cut inside a multibyte character.
    _texts, reply = read([ROLE, chunk("Hello"), DONE])
    assert (reply.text, reply.finish_reason) == ("Hello", None)


def test_nothing_after_done_is_read() -> None:
    reply = EventReply()
    assert reply.feed(chunk("a") + DONE + chunk("late")) == "a"
    assert reply.ended
    assert reply.feed(chunk("later")) == ""
    assert reply.text == "a"


@pytest.mark.parametrize(
    ("error", "cls", "status"),
    [
        ({"message": "overloaded", "type": "server_error", "code": 503}, InternalServerError, 503),
        ({"message": "slow down", "code": 429}, RateLimitError, 429),
        (
            {"message": "This model's maximum context length is 8192 tokens", "code": 400},
            ContextLengthError,
            400,
        ),
        ({"message": "boom"}, InternalServerError, 500),
        ("Unauthorized", AuthenticationError, 401),
    ],
)
def test_an_error_event_mid_stream(error: object, cls: type[Exception], status: int) -> None:
    with pytest.raises(cls) as info:
        read([ROLE, chunk("Hello"), event({"error": error}), DONE])
    exc: Any = info.value
    assert exc.text == "Hello"
    assert exc.status_code == status
    assert "after 5 characters" in str(exc)
    message = error["message"] if isinstance(error, dict) else error
    assert isinstance(message, str)
    assert message in str(exc)


LLAMA_OVERFLOW = {
    "code": 400,
    "message": "the request exceeds the available context size, try increasing it",
    "type": "exceed_context_size_error",
    "n_prompt_tokens": 4120,
    "n_ctx": 4096,
}


@pytest.mark.parametrize(
    ("error", "cls", "status"),
    [
        # llama.cpp's llama-server (ggml-org/llama.cpp#14566), now and as first sent (#15780)
        (LLAMA_OVERFLOW, ContextLengthError, 400),
        ({**LLAMA_OVERFLOW, "code": 500, "message": "too big"}, ContextLengthError, 400),
        # SGLang (sgl-project/sglang#12081): a number and the message
        (
            {
                "message": "Input length (9000 tokens) exceeds the maximum context length",
                "code": 400,
            },
            ContextLengthError,
            400,
        ),
        ({"message": "x", "code": "context_length_exceeded"}, ContextLengthError, 400),
        ({"message": "slow down", "code": "rate_limit_exceeded"}, RateLimitError, 429),
        ({"message": "slow down", "type": "rate_limit_error"}, RateLimitError, 429),
        ({"message": "Rate limit reached for requests"}, RateLimitError, 429),
        ({"message": "busy", "type": "overloaded_error"}, InternalServerError, 503),
        ({"message": "The engine is currently overloaded"}, InternalServerError, 503),
        ({"message": "who?", "type": "authentication_error"}, AuthenticationError, 401),
        ({"message": "Invalid API key"}, AuthenticationError, 401),
        ({"message": "no", "type": "invalid_request_error"}, BadRequestError, 400),
        (
            {"message": "engine died", "type": "internal_error", "code": 500},
            InternalServerError,
            500,
        ),
    ],
)
def test_an_error_event_is_classified_as_its_status_would_be(
    error: dict[str, Any], cls: type[Exception], status: int
) -> None:
    for before in ([ROLE], [ROLE, chunk("Hi")]):
        with pytest.raises(cls) as info:
            read([*before, event({"error": error}), DONE])
        assert type(info.value) is cls
        exc: Any = info.value
        assert exc.status_code == status
        assert exc.text == ("Hi" if len(before) == 2 else "")
        assert error["message"] in str(exc)
        if cls is ContextLengthError:
            numbers = (exc.n_prompt_tokens, exc.n_ctx)
            assert numbers == ((4120, 4096) if "n_ctx" in error else (None, None))


def test_llama_server_overflow_as_a_status_keeps_its_numbers() -> None:
    # The same error object, unstreamed: a 400 (once a 500) whose body names it.
    from aura_sdk._status import status_error

    for code in (400, 500):
        body = json.dumps({"error": {**LLAMA_OVERFLOW, "code": code}})
        exc = status_error(code, "Bad Request", body)
        assert isinstance(exc, ContextLengthError)
        assert (exc.n_prompt_tokens, exc.n_ctx) == (4120, 4096)
        assert "exceeds the available context size" in str(exc)
    other = status_error(400, "Bad Request", json.dumps({"error": {"message": "no"}}))
    assert not isinstance(other, ContextLengthError)


def test_a_flat_error_event() -> None:
    with pytest.raises(BadRequestError, match="bad things") as info:
        read([event({"object": "error", "message": "bad things", "code": 400})])
    assert info.value.text == ""
    assert "before any text" in str(info.value)


@pytest.mark.parametrize(
    ("data", "why"),
    [(b"data: {nope\n\n", "is not JSON"), (b"data: [1, 2]\n\n", "is not a JSON object")],
)
def test_an_event_that_is_no_chunk(data: bytes, why: str) -> None:
    with pytest.raises(APIResponseValidationError, match=why) as info:
        read([ROLE, chunk("Hi"), data])
    assert info.value.text == "Hi"


def test_deeply_nested_json_is_a_clean_error() -> None:
    with pytest.raises(APIResponseValidationError, match="is not JSON"):
        read([b"data: " + b"[" * 100_000 + b"\n\n"])


def test_max_bytes_bounds_the_body_and_each_event() -> None:
    with pytest.raises(ResponseTooLargeError) as info:
        read([ROLE, chunk("Hello"), b"data: " + b"x" * 5000], max_bytes=1000)
    assert info.value.text == "Hello"
    with pytest.raises(ResponseTooLargeError):
        read([ROLE] + [chunk("word ")] * 100, max_bytes=2000)


def test_strict_utf8() -> None:
    with pytest.raises(AuraDecodeError) as info:
        read(
            [ROLE, chunk("Hi"), b'data: {"choices":[{"delta":{"content":"\xff"}}]}\n\n'],
            errors="strict",
        )
    assert info.value.text == "Hi"
    texts, _ = read([chunk("a\xff".encode("latin-1").decode("latin-1")), chunk(None, "stop")])
    assert texts == ["a\xff"]


def test_strict_utf8_keeps_the_events_before_the_bad_byte_in_the_same_chunk() -> None:
    # However the network cuts the body: one chunk here, as in the test above in three.
    bad = b'data: {"choices":[{"delta":{"content":"\xff"}}]}\n\n'
    with pytest.raises(AuraDecodeError) as info:
        read([ROLE + chunk("Hi") + bad], errors="strict")
    assert info.value.text == "Hi"
    assert info.value.position == len(ROLE + chunk("Hi")) + bad.index(b"\xff")


def test_strict_utf8_after_the_end_is_no_error() -> None:
    texts, reply = read([chunk("Hi") + DONE + b"\xff"], errors="strict")
    assert (texts, reply.text, reply.ended) == (["Hi"], "Hi", True)
    stop = EventReply("strict", stop=("!",))
    assert stop.feed(chunk("Hi!") + b"\xff") == "Hi"
    assert stop.ended


# --- stop strings -----------------------------------------------------------------------


def test_stop_cuts_before_the_string_even_split_across_chunks() -> None:
    chunks = [ROLE, chunk("Hello\n"), chunk("\nUser"), chunk(": next"), chunk(None, "length"), DONE]
    texts, reply = read(chunks, stop=("\n\nUser:",))
    assert reply.text == "Hello"
    assert "".join(texts) == "Hello"
    assert reply.finish_reason == "stop"
    assert reply.ended


def test_stop_held_text_is_released_at_the_end() -> None:
    texts, reply = read([ROLE, chunk("Hello\n"), chunk(None, "stop"), DONE], stop=("\n\nUser:",))
    assert "".join(texts) == "Hello\n" == reply.text


def test_stop_held_text_is_in_an_interruption() -> None:
    with pytest.raises(StreamInterruptedError) as info:
        read([ROLE, chunk("Hello\n")], stop=("\n\nUser:",))
    assert info.value.text == "Hello\n"


@settings(max_examples=examples(300), deadline=None)
@given(
    text=st.text(alphabet="ab\n\u00e9", max_size=40),
    stops=st.lists(st.text(alphabet="ab\n\u00e9", min_size=1, max_size=4), min_size=1, max_size=3),
    cuts=st.lists(st.integers(0, 40), max_size=8),
)
def test_stop_matches_as_if_the_text_came_whole(
    text: str, stops: list[str], cuts: list[int]
) -> None:
    points = sorted({0, len(text), *(min(c, len(text)) for c in cuts)})
    matcher = StopMatcher(tuple(stops))
    out = ""
    for a, b in zip(points, points[1:]):
        out += matcher.push(text[a:b])
        if matcher.hit:
            break
    if not matcher.hit:
        out += matcher.release()
    first = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    assert out == (text if first < 0 else text[:first])
    assert matcher.hit == (first >= 0)


# --- error answers ----------------------------------------------------------------------


def status(code: int, reason: str, body: str, base_url: str = "http://h:1/v1") -> Any:
    return OPENAI.status_error(
        code,
        reason,
        body,
        response=None,
        secret="sk-test-1234",
        retry_after=None,
        location=None,
        base_url=base_url,
    )


FLAT_404 = json.dumps(
    {
        "object": "error",
        "message": "The model `x` does not exist.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
)
OPENCHAT_401 = json.dumps(
    {
        "detail": {
            "error": {
                "message": "",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }
    }
)


@pytest.mark.parametrize(
    ("code", "reason", "text", "cls", "needle"),
    [
        (404, "Not Found", FLAT_404, NotFoundError, "The model `x` does not exist."),
        (401, "Unauthorized", OPENCHAT_401, AuthenticationError, "invalid API key"),
        (401, "Unauthorized", '{"error":"Unauthorized"}', AuthenticationError, "401 Unauthorized"),
        (
            400,
            "Bad Request",
            '{"error":{"message":"temperature must be >= 0","type":"BadRequestError","code":400}}',
            BadRequestError,
            "temperature must be >= 0",
        ),
        (
            400,
            "Bad Request",
            '{"object":"error","message":"max_tokens must be at least 1, got -12.","code":400}',
            ContextLengthError,
            "max_tokens must be at least 1",
        ),
        (
            400,
            "Bad Request",
            '{"error":{"message":"This model\'s maximum context length is 4096 tokens."}}',
            ContextLengthError,
            "maximum context length is 4096",
        ),
        (500, "Internal Server Error", "Internal Server Error", InternalServerError, "500"),
        (
            400,
            "Bad Request",
            '{"object":"error","message":"max_tokens must be at least 1, got 0.","code":400}',
            BadRequestError,
            "got 0",
        ),
        (
            422,
            "Unprocessable Entity",
            '{"detail":"field required"}',
            UnprocessableEntityError,
            "field required",
        ),
    ],
)
def test_every_error_shape(
    code: int, reason: str, text: str, cls: type[Exception], needle: str
) -> None:
    exc = status(code, reason, text)
    assert type(exc) is cls
    assert needle in str(exc)


def test_openchat_text_plain_500_is_not_retried() -> None:
    from aura_sdk import RetryPolicy

    assert not RetryPolicy().is_retryable(
        status(500, "Internal Server Error", "Internal Server Error")
    )
    assert RetryPolicy().is_retryable(status(503, "Service Unavailable", "busy"))


def test_the_overflow_array_is_a_context_length_error_without_the_token_ids() -> None:
    inner = json.dumps(
        {
            "object": "error",
            "message": "This model's maximum context length is 8192 tokens. However, you "
            "requested 8300 tokens (8200 in the messages, 100 in the completion). Please "
            "reduce the length of the messages or completion.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    )
    ids = list(range(987_650, 987_650 + 8200))
    answer = json.dumps(
        [ids, {"status_code": 400, "background": None, "body": inner, "raw_headers": []}]
    )
    exc = status(200, "OK", answer)
    assert isinstance(exc, ContextLengthError)
    assert exc.status_code == 400
    assert "maximum context length is 8192 tokens" in str(exc)
    for shown in (str(exc), exc.body, repr(exc.args)):
        assert "987650" not in shown


def test_a_cut_overflow_array_shows_no_token_ids() -> None:
    exc = status(200, "OK", "[[987650, 987651, 987652")
    assert isinstance(exc, APIResponseValidationError)
    assert "987650" not in str(exc)
    assert "max_response_bytes" in str(exc)


def test_an_error_object_in_a_200() -> None:
    exc = status(200, "OK", '{"error":{"message":"Rate limit reached","code":429}}')
    assert isinstance(exc, RateLimitError)
    assert "Rate limit reached" in str(exc)


def test_a_json_answer_that_is_no_stream() -> None:
    exc = status(200, "OK", '{"choices":[{"message":{"content":"hi"}}]}')
    assert isinstance(exc, APIResponseValidationError)
    assert "expected an event stream" in str(exc)


def test_a_404_says_which_dialect_to_try() -> None:
    exc = status(404, "Not Found", '{"detail":"Not Found"}', base_url="http://h:18888")
    assert "try base_url='http://h:18888/v1'" in str(exc)
    assert "try base_url" not in str(status(404, "Not Found", FLAT_404))
    aura = AURA.status_error(
        404,
        "Not Found",
        "",
        response=None,
        secret="",
        retry_after=None,
        location=None,
        base_url="http://h:18888/v1",
    )
    assert "try dialect='openai'" in str(aura)


def test_the_key_never_shows_in_an_error() -> None:
    exc = status(401, "Unauthorized", '{"error":{"message":"Incorrect API key sk-test-1234"}}')
    assert "sk-test-1234" not in str(exc)
    assert "sk-test-1234" not in exc.body


def test_streams_only_what_is_no_json() -> None:
    assert OPENAI.streams("text/event-stream; charset=utf-8")
    assert OPENAI.streams("")
    assert not OPENAI.streams("application/json")
    assert AURA.streams("application/json")


# --- models -----------------------------------------------------------------------------


def test_models() -> None:
    answer = {
        "object": "list",
        "data": [
            {"id": "openchat_3.5", "object": "model", "owned_by": "openchat"},
            {"id": "TheBloke/openchat-3.5-GGUF", "object": "model"},
        ],
    }
    models = OPENAI.parse_models(json.dumps(answer).encode(), "")
    assert [m.id for m in models] == ["openchat_3.5", "TheBloke/openchat-3.5-GGUF"]


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (b"[]", "'data' list"),
        (b"{nope", "not JSON"),
        (b'{"data":[{"name":"x"}]}', "no string 'id'"),
        (b'{"data":[{"id":""}]}', "item 0"),
        (b"[" * 100_000, "nested too deep"),
    ],
)
def test_models_that_make_no_sense(answer: bytes, why: str) -> None:
    with pytest.raises(APIResponseValidationError, match=why):
        OPENAI.parse_models(answer, "")


def test_a_stop_string_before_an_error_event_in_one_chunk_wins() -> None:
    _texts, reply = read(
        [ROLE + chunk("Hi. END more") + event({"error": {"message": "x"}})], stop=("END",)
    )
    assert (reply.text, reply.finish_reason) == ("Hi. ", "stop")


def test_a_stop_string_complete_in_the_held_text_at_the_end() -> None:
    # "\na" may still become "\naa": held; the body ends, and "a" is a stop string too.
    _texts, reply = read([ROLE, chunk("x\na"), chunk(None, "length")], stop=("a", "\naa"))
    assert (reply.text, reply.finish_reason) == ("x\n", "stop")


# --- what each server sends, tolerated without losing anything (issue 12) ----------

TOLERATED = {
    # vLLM (vllm-project/vllm#35705): the reason on the last content chunk
    "vllm-finish-on-content": ([ROLE, chunk("Hel"), chunk("lo", "stop"), DONE], "stop", None),
    # ollama (ollama/ollama#4357): "" for none, and the role in every delta
    "ollama-empty-finish": (
        [
            event(
                {
                    "choices": [
                        {"delta": {"role": "assistant", "content": "Hel"}, "finish_reason": ""}
                    ]
                }
            ),
            event(
                {
                    "choices": [
                        {"delta": {"role": "assistant", "content": "lo"}, "finish_reason": ""}
                    ]
                }
            ),
            event(
                {
                    "choices": [
                        {"delta": {"role": "assistant", "content": ""}, "finish_reason": "stop"}
                    ]
                }
            ),
            DONE,
        ],
        "stop",
        None,
    ),
    # llama.cpp's server: usage after the finish chunk, before [DONE]
    "llama-server-usage-after-finish": (
        [
            ROLE,
            chunk("Hello"),
            chunk(None, "stop"),
            event({"choices": [], "usage": {"total_tokens": 9}}),
            DONE,
        ],
        "stop",
        {"total_tokens": 9},
    ),
    # vLLM and ollama with include_usage: a choices: [] chunk
    "usage-in-empty-choices": (
        [ROLE, chunk("Hello", "stop"), event({"choices": [], "usage": {"total_tokens": 3}}), DONE],
        "stop",
        {"total_tokens": 3},
    ),
    # seen across servers: delta null, data null, empty deltas, logprobs null
    "nulls-and-empties": (
        [
            ROLE,
            event({"choices": [{"delta": None}]}),
            b"data: null\n\n",
            chunk(""),
            chunk("Hel", logprobs=None),
            event(
                {"choices": [{"delta": {"content": "lo"}, "logprobs": None, "finish_reason": None}]}
            ),
            chunk(None, "length"),
            DONE,
        ],
        "length",
        None,
    ),
    # llama-cpp-python's interrupted stream: [DONE] after text, no finish chunk
    "done-without-finish-after-text": ([ROLE, chunk("Hello"), DONE], None, None),
}


@pytest.mark.parametrize("name", sorted(TOLERATED))
def test_what_servers_send_is_tolerated(name: str) -> None:
    chunks, finish, usage = TOLERATED[name]
    texts, reply = read(chunks)
    assert "".join(texts) == reply.text == "Hello"
    assert reply.complete
    assert reply.finish_reason == finish
    assert reply.usage == usage


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_deltas_are_kept_apart_from_the_text(field: str) -> None:
    thinking = [event({"choices": [{"delta": {field: part}}]}) for part in ("Let me ", "think.")]
    mixed = event({"choices": [{"delta": {"role": "assistant", field: " Yes.", "content": "Hi"}}]})
    texts, reply = read([ROLE, *thinking, mixed, chunk("!", "stop"), DONE])
    assert "".join(texts) == reply.text == "Hi!"
    assert reply.reasoning == "Let me think. Yes."


def test_reasoning_only_is_no_text_for_the_done_check_but_kept() -> None:
    thought = event({"choices": [{"delta": {"reasoning": "hmm"}}]})
    with pytest.raises(StreamInterruptedError, match="no text and no finish_reason"):
        read([ROLE, thought, DONE])


def test_an_empty_body_is_flagged_empty_not_a_reply() -> None:
    reply = EventReply()
    with pytest.raises(StreamInterruptedError, match="empty stream"):
        list(reply.texts([b": ping - 2026-12-02\n\n"]))
    assert reply.empty
    other = EventReply()
    with pytest.raises(StreamInterruptedError, match="neither data: \\[DONE\\]"):
        list(other.texts([ROLE]))
    assert not other.empty


def test_the_probe_is_the_same_request_unstreamed_with_one_token() -> None:
    spec = OPENAI.chat_request(
        config(), [user("Hi")], check_params({"max_tokens": 50, "stop": ["x"]})
    )
    probe = OPENAI.probe(spec)
    assert probe is not None
    assert AURA.probe(spec) is None
    sent, asked = json.loads(spec.content), json.loads(probe.content)
    assert asked == {**sent, "stream": False, "max_tokens": 1}
    assert (probe.method, probe.url, probe.headers) == (spec.method, spec.url, spec.headers)


def test_only_an_error_event_or_an_empty_stream_before_any_text_may_be_asked_again() -> None:
    from aura_sdk import RateLimitError

    event_error = RateLimitError("429", status_code=429, reason="", body="")
    fresh = EventReply()
    assert fresh.may_ask_again(event_error)
    assert not fresh.may_ask_again(StreamInterruptedError("cut"))  # a cut: never
    texts, after_text = read([ROLE, chunk("Hi"), DONE])
    assert texts == ["Hi"]
    assert not after_text.may_ask_again(event_error)  # text was handed out
    empty = EventReply()
    with pytest.raises(StreamInterruptedError):
        list(empty.texts([b""]))
    assert empty.may_ask_again(StreamInterruptedError("empty"))
