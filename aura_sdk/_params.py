"""The keyword parameters of a chat call, declared once for ``stream`` and ``chat``,
sync and async (taken as ``**params: Unpack[ChatParams]``), and checked once.

Adding a parameter touches this module and the dialects that send it; the
facades pass ``params`` through untouched.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from ._exceptions import AuraValidationError
from ._models import Model
from ._retry import check_retries
from ._timeouts import Timeout, to_timeout
from ._validation import (
    MAX_JSON_INT,
    check_count,
    check_max_tokens,
    check_model_id,
    check_system,
    check_temperature,
    check_text,
    is_int,
    is_real,
    show,
)

if TYPE_CHECKING:
    from ._decoder import DecodeErrors

__all__ = ["MAX_STOP_STRINGS", "ChatParams", "CheckedParams", "check_params"]

MAX_STOP_STRINGS = 16
"""More stop strings than this is a mistake (OpenAI allows 4, vLLM any number)."""

DEFAULT_TEMPERATURE = 0.5


class ChatParams(TypedDict, total=False):
    """The keyword arguments of ``stream()`` and ``chat()``, on both clients.

    Every one is optional; the input is checked before anything is sent.
    """

    temperature: float | None
    """Sampling temperature, 0 to 2 (default 0.5); ``None``: the server's default."""
    max_tokens: int
    """The reply's token budget. Aura: sent as the model's ``tokenLimit`` (default
    8192). OpenAI dialect: sent only when given; the server then uses the rest of
    the context (OpenChat's server fails a too-large budget as ``ContextLengthError``)."""
    system: str | None
    """A system prompt, placed before any system messages (all are joined with a newline)."""
    model: str | Model | None
    """The model for this call; default: the client's."""
    stop: str | Sequence[str] | None
    """Stop strings: the reply ends before the first one, also when the server
    ignores ``stop`` (OpenChat's does); ``finish_reason`` is then ``"stop"``.
    OpenAI dialect only."""
    top_p: float
    """Nucleus sampling, in (0, 1]. OpenAI dialect only."""
    seed: int
    """A sampling seed, for servers that honour it (vLLM). OpenAI dialect only."""
    condition: str
    """OpenChat's condition, e.g. ``"Math Correct"`` (default: the server's
    ``"GPT4 Correct"``). OpenAI dialect only."""
    errors: DecodeErrors
    """Invalid UTF-8 in the reply: ``"replace"`` (U+FFFD, default) or ``"strict"``
    (``AuraDecodeError``)."""
    timeout: float | Timeout | None
    """This call's limits, replacing the client's."""
    max_retries: int | None
    """This call's retries (0 to 1000), replacing the count of the client's
    ``RetryPolicy`` (its backoff stays); ``None``: the client's."""


_NAMES = frozenset(ChatParams.__annotations__)
_EXTENSIONS = ("stop", "top_p", "seed", "condition")
"""The parameters the Aura dialect (openchat-ui's body) has no field for."""


class CheckedParams:
    """A chat call's parameters, checked; what a dialect builds its body from."""

    __slots__ = (
        "condition",
        "errors",
        "max_retries",
        "max_tokens",
        "model",
        "seed",
        "stop",
        "system",
        "temperature",
        "timeout",
        "top_p",
    )

    def __init__(self, params: Mapping[str, Any]) -> None:
        unknown = sorted(set(params) - _NAMES)
        if unknown:
            raise AuraValidationError(_unknown(unknown[0]))
        temperature = params.get("temperature", DEFAULT_TEMPERATURE)
        self.temperature: float | None = check_temperature(temperature)
        max_tokens = params.get("max_tokens")
        if max_tokens is not None and not is_int(max_tokens):
            check_max_tokens(max_tokens, MAX_JSON_INT)  # raises: the range is the dialect's
        self.max_tokens: int | None = max_tokens
        system = params.get("system")
        self.system: str | None = None if system is None else check_system(system)
        model = params.get("model")
        if model is not None and not isinstance(model, Model):
            check_model_id(model)
        self.model: str | Model | None = model
        self.stop: tuple[str, ...] = _check_stop(params.get("stop"))
        top_p = params.get("top_p")
        if top_p is not None and not (is_real(top_p) and 0 < top_p <= 1):
            raise AuraValidationError(f"top_p: expected a number in (0, 1], got {show(top_p)}")
        self.top_p: float | None = top_p
        seed = params.get("seed")
        self.seed: int | None = (
            None if seed is None else check_count("seed", seed, -(2**63), 2**64 - 1)
        )
        condition = params.get("condition")
        self.condition: str | None = (
            None if condition is None else check_text("condition", condition)
        )
        self.errors: DecodeErrors = params.get("errors", "replace")
        timeout = params.get("timeout")
        self.timeout: Timeout | None = None if timeout is None else to_timeout(timeout)
        self.max_retries: int | None = check_retries(params.get("max_retries"))

    def extensions(self) -> list[str]:
        """The parameters given that only the OpenAI dialect sends."""
        return [name for name in _EXTENSIONS if getattr(self, name) not in (None, ())]


def check_params(params: Mapping[str, Any]) -> CheckedParams:
    """``params`` checked: an unknown name or a bad value is an ``AuraValidationError``."""
    return CheckedParams(params)


def _unknown(name: str) -> str:
    close = difflib.get_close_matches(name, sorted(_NAMES), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unexpected keyword argument {show(name)}{hint} (expected one of {', '.join(sorted(_NAMES))})"


def _check_stop(stop: object) -> tuple[str, ...]:
    if stop is None:
        return ()
    items: Sequence[object]
    if isinstance(stop, str):
        items = (stop,)
    elif isinstance(stop, (list, tuple)):
        items = stop
    else:
        raise AuraValidationError(
            f"stop: expected a str or a list of str, got {type(stop).__name__}"
        )
    if len(items) > MAX_STOP_STRINGS:
        raise AuraValidationError(
            f"stop: expected at most {MAX_STOP_STRINGS} strings, got {len(items)}"
        )
    checked = []
    for index, item in enumerate(items):
        text = check_text(f"stop[{index}]", item)
        if not text:
            raise AuraValidationError(f"stop[{index}]: an empty stop string would stop at once")
        checked.append(text)
    return tuple(checked)
