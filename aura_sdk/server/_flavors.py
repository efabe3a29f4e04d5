"""The OpenAI-compatible servers the local server can play: one ``Flavor`` each.

``AuraServer(dialect="openai", flavor=...)``. A flavor is data: how that server
frames its chunks, shapes its errors, answers a prompt over its context, sends
usage and keep-alives, names reasoning deltas. The facts, with sources, are in
the project's notes on OpenAI-compatible servers; ``openchat`` (the default) is
OpenChat's own server, as ``_openai`` has always played it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["FLAVORS", "Flavor", "FlavorName", "Overflow"]

FlavorName = Literal[
    "openchat", "vllm", "ollama", "llama-cpp-python", "llama-server", "lmstudio", "sglang"
]
"""The servers ``AuraServer(dialect="openai", flavor=...)`` plays."""

Overflow = Literal["openchat", "status", "empty", "truncate", "no-deltas", "event"]
"""What a server does with a prompt over its context (``Flavor.overflow``):

- ``openchat``: OpenChat's ``200`` holding a JSON array (with ``max_tokens``);
- ``status``: a real ``400`` before any stream (vLLM);
- ``empty``: streamed, a ``200`` with an empty body, then the connection dies
  at its next request; unstreamed, a ``400`` (llama-cpp-python);
- ``truncate``: the prompt is cut silently, the reply is normal (ollama);
- ``no-deltas``: a ``200`` stream with a role chunk and ``[DONE]``, no text and
  no ``finish_reason`` (LM Studio);
- ``event``: a ``200`` stream holding one error event (SGLang, llama-server).
"""


@dataclass(frozen=True)
class Flavor:
    """One server's habits (see the module docstring); every field is data."""

    name: FlavorName
    role_in_every_delta: bool = False
    """ollama repeats ``"role": "assistant"`` in each delta."""
    finish_on_last_content: bool = False
    """vLLM puts ``finish_reason`` on the last content chunk, not one of its own."""
    no_finish: str | None = None
    """What ``finish_reason`` says in content chunks: ``None``, or ollama's ``""``."""
    logprobs: bool = False
    """``"logprobs": null`` in every choice (llama-cpp-python)."""
    ascii: bool = False
    """JSON ASCII-escaped (llama-cpp-python's ``json.dumps``)."""
    chunk_object: bool = True
    """``"object": "chat.completion.chunk"`` and ``"created"`` in chunks (OpenChat has neither)."""
    usage: Literal["never", "asked", "after-finish"] = "asked"
    """Usage in a stream: never (llama-cpp-python, OpenChat), a ``choices: []`` chunk
    when ``stream_options.include_usage`` asks (vLLM, ollama), or that chunk always
    (llama-server, after its finish chunk)."""
    overflow: Overflow = "status"
    keepalive: float | None = None
    """Seconds between keep-alive comments while a stream is stalled (None: none)."""
    keepalive_comment: bytes = b": ping\n\n"
    request_id: bool = False
    """An ``x-request-id`` head on every answer."""
    reasoning_field: str = "reasoning_content"
    """The delta field of reasoning (``AuraServer(reasoning=...)``)."""
    system_kept: bool = True
    """System messages reach the model (OpenChat drops them without its flag)."""
    context: int = 8192
    """The context, in tokens (``AuraServer(context=...)`` overrides it)."""
    id_prefix: str = "chatcmpl-"

    def error(self, status: int, message: str, kind: str = "invalid_request_error") -> object:
        """The body of an error answer, in this server's shape."""
        name = self.name
        if name == "openchat":
            return {
                "object": "error",
                "message": message,
                "type": kind,
                "param": None,
                "code": None,
            }
        if name == "sglang":
            return {
                "object": "error",
                "message": message,
                "type": "BadRequestError",
                "param": None,
                "code": status,
            }
        if name == "lmstudio":
            return {"error": message}  # a plain string (lmstudio-ai/lmstudio-bug-tracker)
        if name == "vllm":
            return {
                "error": {
                    "message": message,
                    "type": "BadRequestError",
                    "param": None,
                    "code": status,
                }
            }
        if name == "llama-server":
            return {"error": {"code": status, "message": message, "type": kind}}
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}

    def unauthorized(self) -> tuple[int, object]:
        """A request without the right key: status and body."""
        name = self.name
        if name == "llama-cpp-python":
            return 401, {"detail": "Invalid API key"}
        if name == "vllm":
            return 401, {"error": "Unauthorized"}
        if name == "llama-server":
            return 401, {
                "error": {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}
            }
        if name == "openchat":
            body = {
                "error": {
                    "message": "",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            }
            return 401, {"detail": body}
        return 401, self.error(401, "Invalid API key", "authentication_error")

    def overflow_error(self, prompt: int, requested: int) -> dict[str, Any]:
        """The error object of a prompt over the context (``error`` for llama-server's)."""
        context = self.context
        if self.name == "llama-server":
            return {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": prompt,
                "n_ctx": context,
            }
        if self.name == "sglang":
            return {
                "message": f"The input ({prompt} tokens) is longer than the model's context "
                f"length ({context} tokens).",
                "code": 400,
            }
        return {
            "message": f"This model's maximum context length is {context} tokens. However, you "
            f"requested {requested} tokens ({prompt} in the messages, {requested - prompt} in "
            "the completion). Please reduce the length of the messages or completion.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }


FLAVORS: dict[str, Flavor] = {
    flavor.name: flavor
    for flavor in (
        Flavor(
            "openchat",
            chunk_object=False,
            usage="never",
            overflow="openchat",
            system_kept=False,
            id_prefix="cmpl-",
        ),
        Flavor("vllm", finish_on_last_content=True, request_id=True, reasoning_field="reasoning"),
        Flavor(
            "ollama",
            role_in_every_delta=True,
            no_finish="",
            overflow="truncate",
            reasoning_field="reasoning",
        ),
        Flavor(
            "llama-cpp-python",
            logprobs=True,
            ascii=True,
            usage="never",
            overflow="empty",
            keepalive=15.0,
            keepalive_comment=b": ping - 2026-12-02 20:00:00.000000+00:00\n\n",
            request_id=True,
            context=2048,
        ),
        Flavor(
            "llama-server",
            usage="after-finish",
            overflow="event",
            keepalive=15.0,
            keepalive_comment=b":\n\n",
            context=4096,
        ),
        Flavor("lmstudio", overflow="no-deltas"),
        Flavor("sglang", overflow="event"),
    )
}
"""Every flavor, by name."""
