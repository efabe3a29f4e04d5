"""The ``openai`` dialect, as OpenChat's own server speaks it (ochat 3.6.1).

``python -m ochat.serving.openai_api_server`` is FastAPI over vLLM. It parses the
body by hand (``ChatCompletionRequest(**await request.json())``), so a body its
pydantic model refuses is an unhandled exception: ``500 text/plain``, not
FastAPI's 422. Its quirks are kept on purpose (``stop`` ignored, system
messages dropped, the overflow answered ``200`` with a JSON array, chunks with no
``object`` or ``created``): the SDK must survive the real server, so the
emulator must be as awkward. Sources: ochat's ``openai_api_server.py``,
``openai_api_protocol.py`` and ``async_tokenizer.py``, and vLLM's ``SamplingParams``.

Tokens are counted as about four characters each (``_protocol._tokens``); the
context is OpenChat's 8192 tokens.
"""

from __future__ import annotations

import codecs
import json
import math
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Callable, TypeVar

from ._answers import Answer, RecordedRequest, Route, Settings, Streamed, Whole, phrase
from ._faults import Fault
from ._flavors import FLAVORS, Flavor
from ._protocol import _tokens
from ._responder import sized_reply, split_inside_character, to_utf8

__all__ = [
    "CONTEXT",
    "DEFAULT_OPENAI_MODELS",
    "MAX_N",
    "STREAM_PERIOD",
    "ChatRequest",
    "OpenAIDialect",
    "parse_request",
    "sse_event",
]

CONTEXT = 8192
"""OpenChat's context, in tokens, for both of its models."""
STREAM_PERIOD = 6
"""Words per content delta (OpenChat's ``--stream-period``, in tokens there)."""
DEFAULT_OPENAI_MODELS = ("openchat_3.6", "openchat_3.5", "openchat_v3.2_mistral")
"""What the openai dialect serves by default (3.5 under both of its ids, as OpenChat lists it)."""

_JSON = "application/json"
_TEXT = "text/plain; charset=utf-8"  # Starlette's PlainTextResponse
_EVENT_STREAM = "text/event-stream; charset=utf-8"  # Starlette adds the charset to text/*
_GREEDY = 1e-5  # vLLM's _SAMPLING_EPS: below it, temperature means greedy sampling
MAX_N = 128
"""The most choices the emulator builds (vLLM has no limit; a huge ``n`` is a 400 here)."""
_T = TypeVar("_T")
_A = TypeVar("_A", Whole, Streamed)
OPENCHAT = FLAVORS["openchat"]


def _dumps(value: object) -> str:
    # FastAPI's JSONResponse and pydantic alike: compact, and not ASCII-escaped, so
    # U+2028 and the like go out raw.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json(status: int, value: object, headers: tuple[tuple[str, str], ...] = ()) -> Whole:
    return Whole(status, _dumps(value), _JSON, phrase(status), headers)


def _ascii_dumps(value: object) -> str:
    # llama-cpp-python's ``json.dumps``: ASCII-escaped, ", " and ": " separators.
    return json.dumps(value)


def _flat_error(message: str) -> dict[str, Any]:
    """OpenChat's ``ErrorResponse``: the flat shape, not OpenAI's ``{"error": {...}}``."""
    return {
        "object": "error",
        "message": message,
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def _error(status: int, message: str) -> Whole:
    return _json(status, _flat_error(message))


_INTERNAL = Whole(500, "Internal Server Error", _TEXT, "Internal Server Error")
"""Starlette's answer to an unhandled exception: what a body OpenChat cannot parse gets."""


# --- the request, as OpenChat's pydantic model reads it ----------------------


class _Invalid(Exception):
    """The body fails OpenChat's pydantic model (or its tokenizer): a 500."""


def _lax_float(value: object) -> float:
    # pydantic's lax mode: numbers, bools and numeric strings.
    try:
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str) and "_" not in value:
            return float(value)
    except (ValueError, OverflowError):  # OverflowError: an int too large for a float
        pass
    raise _Invalid


def _lax_int(value: object) -> int:
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and "_" not in value:
        try:
            return int(value)
        except ValueError:
            number = _lax_float(value)
            if math.isfinite(number) and number.is_integer():
                return int(number)
    raise _Invalid


_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}


def _lax_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise _Invalid


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid


def _stop(value: object) -> object:
    if isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(s, str) for s in value)
    ):
        return value
    raise _Invalid


def _logit_bias(value: object) -> dict[str, float]:
    if not isinstance(value, dict):
        raise _Invalid
    return {_text(k): _lax_float(v) for k, v in value.items()}


def _messages(value: object) -> list[dict[str, str]]:
    # Union[str, List[Dict[str, str]]]: a str passes the model, then breaks the tokenizer.
    if not isinstance(value, list):
        raise _Invalid
    for message in value:
        if not isinstance(message, dict) or not all(isinstance(v, str) for v in message.values()):
            raise _Invalid
    return value


@dataclass(frozen=True)
class ChatRequest:
    """A body that passed ``ChatCompletionRequest``; ``None`` is an explicit ``null``."""

    model: str
    messages: list[dict[str, str]]
    condition: str | None = ""
    temperature: float | None = 0.7
    top_p: float | None = 1.0
    n: int | None = 1
    max_tokens: int | None = None
    seed: int | None = None
    stream: bool = False
    presence_penalty: float | None = 0.0
    frequency_penalty: float | None = 0.0
    logit_bias: dict[str, float] | None = None


_FIELDS: dict[str, Callable[[object], object]] = {
    "condition": _text,
    "temperature": _lax_float,
    "top_p": _lax_float,
    "n": _lax_int,
    "max_tokens": _lax_int,
    "seed": _lax_int,
    "stream": _lax_bool,
    "presence_penalty": _lax_float,
    "frequency_penalty": _lax_float,
    "logit_bias": _logit_bias,
    "stop": _stop,
    "user": _text,
}


def parse_request(body: bytes) -> ChatRequest | None:
    """The body as OpenChat's pydantic model reads it, or ``None`` (its ``500``).

    Unknown fields are ignored; ``stop`` and ``user`` are checked, then ignored.
    """
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or "model" not in data or "messages" not in data:
        return None
    try:
        values: dict[str, Any] = {
            "model": _text(data["model"]),
            "messages": _messages(data["messages"]),
        }
        for name, check in _FIELDS.items():
            if name in data:
                value = data[name]
                values[name] = None if value is None else check(value)
    except _Invalid:
        return None
    values.pop("stop", None)
    values.pop("user", None)
    values["stream"] = bool(values.get("stream"))
    return ChatRequest(**values)


def _conversation(request: ChatRequest, enable_sys_prompt: bool) -> list[dict[str, str]] | None:
    """What the model sees (OpenChat's tokenizer), or ``None`` where that raises.

    System messages are dropped, unless ``enable_sys_prompt``: then the last one,
    stripped, goes first.
    """
    if request.condition is None:
        return None
    system: str | None = None
    items: list[dict[str, str]] = []
    for message in request.messages:
        role, content = message.get("role"), message.get("content")
        if role is None or content is None:
            return None
        if role == "system":
            if enable_sys_prompt:
                system = content.strip()
            continue
        items.append({"role": role, "content": content})
    if not items:
        return None
    return ([{"role": "system", "content": system}] if system is not None else []) + items


def _token_ids(conversation: list[dict[str, str]]) -> list[int]:
    """Stand-in token ids of the prompt: one per four characters or so, stable."""
    ids: list[int] = []
    for message in conversation:
        text = message["content"]
        ids.extend(sum(map(ord, text[4 * i : 4 * i + 4])) % 128000 for i in range(_tokens(text)))
    return ids


def _need(value: _T | None) -> _T:
    if value is None:
        raise TypeError  # vLLM compares it with a number: an unhandled TypeError, a 500
    return value


def _sampling_error(request: ChatRequest, max_tokens: int) -> Whole | None:
    """vLLM's ``SamplingParams`` checks, in its order, with its messages."""
    try:
        n = _need(request.n)
        presence, frequency = _need(request.presence_penalty), _need(request.frequency_penalty)
        if n < 1:
            return _error(400, f"n must be at least 1, got {n}.")
        if n > MAX_N:
            return _error(400, f"n must be at most {MAX_N}, got {n}.")  # the emulator's own
        if not -2.0 <= presence <= 2.0:
            return _error(400, f"presence_penalty must be in [-2, 2], got {presence}.")
        if not -2.0 <= frequency <= 2.0:
            return _error(400, f"frequency_penalty must be in [-2, 2], got {frequency}.")
        temperature = _need(request.temperature)
        if temperature < 0.0:
            return _error(400, f"temperature must be non-negative, got {temperature}.")
        top_p = _need(request.top_p)
        if not 0.0 < top_p <= 1.0:
            return _error(400, f"top_p must be in (0, 1], got {top_p}.")
        if max_tokens < 1:
            return _error(400, f"max_tokens must be at least 1, got {max_tokens}.")
        if temperature < _GREEDY and n > 1:
            return _error(400, f"best_of must be 1 when using greedy sampling.Got {n}.")
    except TypeError:
        return _INTERNAL
    return None


def _overflow(ids: list[int], max_tokens: int) -> Whole:
    """The overflow bug: the handler returns a tuple, and FastAPI serialises it whole.

    The tuple is (prompt token ids, a JSONResponse); FastAPI's encoder turns the
    response object into its attributes, the bytes into str.
    """
    prompt = len(ids)
    message = (
        f"This model's maximum context length is {CONTEXT} tokens. However, you requested "
        f"{prompt + max_tokens} tokens ({prompt} in the messages, {max_tokens} in the "
        "completion). Please reduce the length of the messages or completion."
    )
    body = _dumps(_flat_error(message))
    response = {
        "status_code": 400,
        "background": None,
        "body": body,
        "raw_headers": [["content-length", str(len(body.encode()))], ["content-type", _JSON]],
    }
    return _json(200, [ids, response])


# --- the reply ---------------------------------------------------------------


def sse_event(data: object) -> bytes:
    """One ``data: <json>`` event, as OpenChat writes it (one write each)."""
    return to_utf8(f"data: {_dumps(data)}\n\n")


_DONE = b"data: [DONE]\n\n"


def _batches(text: str, period: int = STREAM_PERIOD) -> Iterator[tuple[str, int]]:
    """The reply in deltas of ``period`` words, each with its word count."""
    parts = text.split(" ")
    words = [p + " " for p in parts[:-1]] + [parts[-1]]
    for i in range(0, len(words), period):
        batch = words[i : i + period]
        yield "".join(batch), len(batch)


def _decoded(chunks: Iterable[bytes]) -> Iterator[str]:
    """Each chunk as text; a chunk ending inside a character waits for the rest of it."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    for chunk in chunks:
        text = decoder.decode(chunk)
        if text or not chunk:
            yield text
    rest = decoder.decode(b"", final=True)
    if rest:
        yield rest


@dataclass(frozen=True)
class _Reply:
    deltas: list[tuple[str, float]]  # (content, pause before it)
    finish_reason: str | None
    completion_tokens: int


def _reply(
    request: ChatRequest,
    conversation: list[dict[str, str]],
    max_tokens: int,
    fault: Fault,
    settings: Settings,
) -> _Reply:
    """The deltas: ``fault.chunks``, ``fault.reply_bytes``, or the responder's reply
    in batches of words, cut to ``max_tokens`` (then ``finish_reason`` is "length")."""
    pace = settings.responder.pace
    finish = fault.finish_reason
    if fault.chunks is not None:
        deltas = [(text, pace if i else 0.0) for i, text in enumerate(_decoded(fault.chunks))]
    elif fault.reply_bytes is not None:
        pieces = _decoded(sized_reply(fault.reply_bytes, fault.chunk_size))
        deltas = [(text, 0.0) for text in pieces]
    else:
        system = conversation[0]["content"] if conversation[0]["role"] == "system" else ""
        text = settings.responder.reply(request.messages, system, len(conversation))
        if _tokens(text) > max_tokens:
            text = text[: 4 * max_tokens - 1]
            finish = None if finish is None else "length"
        deltas = [
            (batch, pace * words if i else 0.0) for i, (batch, words) in enumerate(_batches(text))
        ]
    if deltas and deltas[0][0].startswith(" "):
        deltas[0] = (deltas[0][0][1:], deltas[0][1])  # OpenChat strips one leading space
    text = "".join(content for content, _ in deltas)
    return _Reply(deltas, finish, _tokens(text) if text else 0)


def _completion(request: ChatRequest, reply: _Reply, prompt_tokens: int, fault: Fault) -> Whole:
    """The non-streaming answer: a ``chat.completion`` with ``usage``."""
    n = request.n or 1
    content = "".join(text for text, _ in reply.deltas)
    completion = {
        "id": f"cmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": _now(),
        "model": request.model,
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": content},
                "finish_reason": reply.finish_reason,
            }
            for i in range(n)
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "total_tokens": prompt_tokens + n * reply.completion_tokens,
            "completion_tokens": n * reply.completion_tokens,
        },
    }
    return _json(200, completion, tuple(fault.headers.items()))


def _now() -> int:
    return int(time.time())


_NO_FINISH: Any = object()


def _stream(
    request: ChatRequest,
    reply: _Reply,
    fault: Fault,
    flavor: Flavor = OPENCHAT,
    *,
    usage: dict[str, int] | None = None,
    reasoning: str | None = None,
) -> Streamed:
    """The SSE stream: role chunk, reasoning, content deltas, finish, usage, ``[DONE]``,
    framed as ``flavor``'s server frames them. ``usage``: the usage chunk to send
    (the flavor's habit and the request decide)."""
    ident, model, n = f"{flavor.id_prefix}{uuid.uuid4().hex}", request.model, request.n or 1
    created = _now()
    openchat = flavor.name == "openchat"
    dumps = _ascii_dumps if flavor.ascii else _dumps

    def event(obj: dict[str, Any]) -> bytes:
        return to_utf8(f"data: {dumps(obj)}\n\n")

    def head() -> dict[str, Any]:
        if not flavor.chunk_object:
            return {"id": ident, "model": model}
        return {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model}

    def chunk(index: int, delta: dict[str, str], finish: str | None = _NO_FINISH) -> bytes:
        choice: dict[str, Any] = {"index": index, "delta": delta}
        if flavor.logprobs:
            choice["logprobs"] = None
        choice["finish_reason"] = flavor.no_finish if finish is _NO_FINISH else finish
        return event({**head(), "choices": [choice]})

    role = {"role": "assistant"}
    pieces = [chunk(i, dict(role)) for i in range(n)]
    pauses = [0.0] * n
    for thought in [] if reasoning is None else _batches(reasoning, 1):
        pieces.extend(chunk(i, {flavor.reasoning_field: thought[0]}) for i in range(n))
        pauses.extend([0.0] * n)
    ends = [len(pieces)]  # ends[k]: where the pieces stand once k content deltas are out
    deltas = reply.deltas
    if fault.error_event is not None:
        deltas = deltas[: fault.error_after]
    finish = reply.finish_reason if fault.error_event is None else None
    inline = flavor.finish_on_last_content and finish is not None and bool(deltas)
    for number, (content, pause) in enumerate(deltas, 1):
        delta = {**role, "content": content} if flavor.role_in_every_delta else {"content": content}
        last = inline and number == len(deltas)
        for i in range(n):
            pieces.append(chunk(i, delta, finish) if last else chunk(i, delta))
            pauses.append(pause if i == 0 else 0.0)
        ends.append(len(pieces))
    if finish is not None and not inline:
        # The finish in its own chunk: empty content (OpenChat), an empty delta (the rest).
        delta = (
            {"content": ""}
            if openchat
            else ({**role, "content": ""} if flavor.role_in_every_delta else {})
        )
        pieces.extend(chunk(i, delta, finish) for i in range(n))
        pauses.extend([0.0] * n)
    if usage is not None and fault.error_event is None:
        pieces.append(event({**head(), "choices": [], "usage": usage}))
        pauses.append(0.0)
    if fault.error_event is not None:
        pieces.append(to_utf8(f'data: {{"error": {fault.error_event}}}\n\n'))
        pauses.append(0.0)
    if fault.done:
        pieces.append(_DONE)
        pauses.append(0.0)
    writes: list[tuple[bytes, ...]] = [(piece,) for piece in pieces]
    if fault.split_multibyte:
        writes = _split_first_multibyte(writes)

    def at(count: int | None) -> int | None:
        return None if count is None else ends[min(count, len(ends) - 1)]

    keepalive = None if flavor.keepalive is None else (flavor.keepalive, flavor.keepalive_comment)
    return Streamed(
        writes,
        pauses,
        (("content-type", _EVENT_STREAM),),
        "OK",
        drop_at=at(fault.drop_after),
        stall_at=at(fault.stall_after),
        keepalive=keepalive,
    )


def _split_first_multibyte(writes: list[tuple[bytes, ...]]) -> list[tuple[bytes, ...]]:
    """The first piece holding a multibyte character, sent as two writes cut inside it."""
    for index, piece in enumerate(writes):
        halves = split_inside_character(list(piece))
        if len(halves) > 1:
            return [*writes[:index], tuple(halves), *writes[index + 1 :]]
    return writes


def _sse_fault(fault: Fault, sse: tuple[bytes, ...]) -> Streamed:
    return Streamed(
        [(data,) for data in sse],
        [0.0] * len(sse),
        (("content-type", _EVENT_STREAM),),
        "OK",
        drop_at=fault.drop_after,
        stall_at=fault.stall_after,
    )


# --- the dialect ---------------------------------------------------------------


def _bearer(headers: Mapping[str, str]) -> str | None:
    """FastAPI's ``HTTPBearer(auto_error=False)``: the credentials, or ``None``."""
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, credentials = authorization.partition(" ")
    if not (authorization and scheme and credentials) or scheme.lower() != "bearer":
        return None
    return credentials


_UNAUTHORIZED = _json(
    401,
    {
        "detail": {
            "error": {
                "message": "",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }
    },
)

_ROUTES = {"/v1/chat/completions": ("POST", "chat"), "/v1/models": ("GET", "models")}


class OpenAIDialect:
    """An OpenAI-compatible server: ``/v1/chat/completions`` and ``/v1/models``.

    OpenChat's own by default; ``flavor`` plays another (``_flavors``).
    """

    prefix = "/v1"

    def __init__(self, flavor: Flavor = OPENCHAT) -> None:
        self.flavor = flavor

    def route(self, request: RecordedRequest, path: str, settings: Settings) -> Route:
        if path not in _ROUTES:
            return self._head(_json(404, {"detail": "Not Found"}))
        method, route = _ROUTES[path]
        if request.method != method:  # Starlette's router, before any dependency
            return _json(405, {"detail": "Method Not Allowed"}, (("allow", method),))
        if settings.api_keys and _bearer(request.headers) not in settings.api_keys:
            if self.flavor is OPENCHAT:
                return _UNAUTHORIZED  # check_api_key: a FastAPI dependency of both routes
            return self._head(_json(*self.flavor.unauthorized()))
        return "chat" if route == "chat" else "models"

    def _head(self, answer: _A) -> _A:
        """``answer`` with the flavor's ``x-request-id``, if it sends one."""
        if not self.flavor.request_id or answer is _INTERNAL:
            return answer
        return replace(answer, headers=(*answer.headers, ("x-request-id", uuid.uuid4().hex)))

    def models(self, request: RecordedRequest, settings: Settings) -> Whole:
        created = _now()
        cards = [
            {
                "id": model,
                "object": "model",
                "created": created,
                "owned_by": "openchat",
                "root": model,
                "parent": None,
                "permission": [_permission(created)],
            }
            for model in settings.models
        ]
        return self._head(_json(200, {"object": "list", "data": cards}))

    def check_fault(self, fault: Fault) -> None:
        """Every ``Fault`` field has a meaning here."""

    def fault_answer(self, fault: Fault) -> Whole:
        status = fault.status or 500
        custom = any(name.lower() == "content-type" for name in fault.headers)
        kind = None if custom else (_JSON if _is_json(fault.body) else _TEXT)
        return Whole(
            status, fault.body, kind, fault.reason or phrase(status), tuple(fault.headers.items())
        )

    def bad_fault(self, message: str) -> Whole:
        return Whole(500, message, _TEXT, "Internal Server Error")

    def chat(self, request: RecordedRequest, fault: Fault, settings: Settings) -> Answer:
        answer = self._chat(request, fault, settings)
        if isinstance(answer, Whole):
            return self._head(answer)
        return self._head(answer)

    def _chat(self, request: RecordedRequest, fault: Fault, settings: Settings) -> Answer:
        if fault.sse is not None:
            return _sse_fault(fault, fault.sse)
        chat = parse_request(request.body)
        if chat is None:
            return _INTERNAL
        flavor = self.flavor
        if chat.model not in settings.models and flavor.name != "llama-cpp-python":
            # llama-cpp-python serves any model id with the model it loaded.
            message = f"The model `{chat.model}` does not exist."
            kind = "invalid_request_error" if flavor is OPENCHAT else "not_found_error"
            return _json(404, flavor.error(404, message, kind))
        if chat.logit_bias:
            return _error(400, "logit_bias is not currently supported")
        conversation = _conversation(chat, settings.enable_sys_prompt or flavor.system_kept)
        if conversation is None:
            return _INTERNAL
        ids = _token_ids(conversation)
        if flavor is OPENCHAT:
            if chat.max_tokens is not None and len(ids) + chat.max_tokens > CONTEXT:
                return _overflow(ids, chat.max_tokens)
            max_tokens = CONTEXT - len(ids) if chat.max_tokens is None else chat.max_tokens
        else:
            context = settings.context or flavor.context
            over = _over(flavor, len(ids), chat.max_tokens, context)
            if over is not None:
                return self._overflowed(chat, len(ids), over, context)
            left = max(context - len(ids), 1)  # ollama: a prompt cut to fit, silently
            max_tokens = left if chat.max_tokens is None else min(chat.max_tokens, left)
        failure = _sampling_error(chat, max_tokens)
        if failure is not None:
            return failure
        reply = _reply(chat, conversation, max_tokens, fault, settings)
        if not chat.stream:
            return _completion(chat, reply, len(ids), fault)
        usage = None
        if flavor.usage == "after-finish" or (flavor.usage == "asked" and _asks_usage(request)):
            completion = reply.completion_tokens
            usage = {
                "prompt_tokens": len(ids),
                "completion_tokens": completion,
                "total_tokens": len(ids) + completion,
            }
        return _stream(chat, reply, fault, flavor, usage=usage, reasoning=settings.reasoning)

    def _overflowed(self, chat: ChatRequest, prompt: int, requested: int, context: int) -> Answer:
        """A prompt over the context, answered as the flavor's server answers it."""
        flavor = replace(self.flavor, context=context)
        error = flavor.overflow_error(prompt, requested)
        kind = flavor.overflow
        if not chat.stream or kind == "status":
            message = str(error.get("message", ""))
            if flavor.name in ("llama-cpp-python", "llama-server"):
                return _json(400, {"error": error})
            return _json(400, flavor.error(400, message))
        head = (("content-type", _EVENT_STREAM),)
        if kind == "empty":  # a head, an empty body, and a connection about to die
            return Streamed([], [], head, "OK", dead_after=True)
        if kind == "no-deltas":
            empty = _Reply([], None, 0)
            return _stream(chat, empty, Fault(finish_reason=None), flavor)
        return Streamed([(to_utf8(f"data: {_dumps({'error': error})}\n\n"),)], [0.0], head, "OK")


def _over(flavor: Flavor, prompt: int, max_tokens: int | None, context: int) -> int | None:
    """The tokens asked for when they pass ``context`` (None: the prompt fits).

    vLLM counts ``max_tokens`` too; the others only the prompt (llama-cpp-python
    lowers ``max_tokens`` to what is left, silently); ollama truncates instead.
    """
    if flavor.overflow == "truncate":
        return None
    requested = prompt + (max_tokens or 0)
    if flavor.overflow == "status":
        return requested if requested > context else None
    return requested if prompt >= context else None


def _asks_usage(request: RecordedRequest) -> bool:
    """``stream_options.include_usage`` in the request's body."""
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):
        return False
    options = body.get("stream_options") if isinstance(body, dict) else None
    return isinstance(options, dict) and options.get("include_usage") is True


def _permission(created: int) -> dict[str, Any]:
    return {
        "id": f"modelperm-{uuid.uuid4().hex}",
        "object": "model_permission",
        "created": created,
        "allow_create_engine": False,
        "allow_sampling": True,
        "allow_logprobs": False,
        "allow_search_indices": False,
        "allow_view": True,
        "allow_fine_tuning": False,
        "organization": "*",
        "group": None,
        "is_blocking": False,
    }


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True
