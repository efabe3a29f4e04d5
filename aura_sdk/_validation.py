"""Input checks, run before anything is sent.

Each failure is an ``AuraValidationError`` whose message starts with the path of
the bad item (``messages[2].role``), so the caller can find it at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from ._exceptions import AuraValidationError
from ._messages import Message

__all__ = [
    "check_api_key",
    "check_base_url",
    "check_headers",
    "check_max_tokens",
    "check_messages",
    "check_model_id",
    "check_system",
    "check_temperature",
]

ROLES = ("system", "user", "assistant")
_MESSAGE_KEYS = frozenset(("role", "content"))
MAX_TEMPERATURE = 2.0


def is_int(value: object) -> bool:
    """An int, and not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: object) -> str:
    return type(value).__name__


def check_messages(messages: object) -> list[Message]:
    """A fresh, checked list of ``{"role", "content"}`` dicts."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise AuraValidationError(f"messages: expected a list of messages, got {_kind(messages)}")
    if not messages:
        raise AuraValidationError("messages: must not be empty")
    checked: list[Message] = []
    for index, message in enumerate(messages):
        # The common case, a plain two-key dict that is right, costs no more than a copy.
        if (
            type(message) is dict
            and len(message) == 2
            and message.get("role") in ROLES
            and type(message.get("content")) is str
        ):
            checked.append({"role": message["role"], "content": message["content"]})
            continue
        checked.append(_check_message(index, message))
    if all(message["role"] == "system" for message in checked):
        raise AuraValidationError(
            "messages: need at least one user or assistant message (system messages become the prompt)"
        )
    return checked


def _check_message(index: int, message: object) -> Message:
    where = f"messages[{index}]"
    if not isinstance(message, Mapping):
        raise AuraValidationError(
            f"{where}: expected a mapping with 'role' and 'content', got {_kind(message)}"
        )
    unknown = set(message) - _MESSAGE_KEYS
    if unknown:
        names = ", ".join(sorted(repr(key) for key in unknown))
        raise AuraValidationError(
            f"{where}: unexpected key {names} (Aura messages have only 'role' and 'content')"
        )
    if "role" not in message:
        raise AuraValidationError(f"{where}.role: missing")
    role = message["role"]
    if role not in ROLES:
        raise AuraValidationError(
            f"{where}.role: expected one of 'system', 'user', 'assistant', got {role!r}"
        )
    if "content" not in message:
        raise AuraValidationError(f"{where}.content: missing")
    content = message["content"]
    if not isinstance(content, str):
        raise AuraValidationError(f"{where}.content: expected str, got {_kind(content)}")
    return {"role": role, "content": content}


def check_temperature(temperature: object) -> float | None:
    """A finite number in [0, 2], or None for the server's default."""
    if temperature is None:
        return None
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise AuraValidationError(f"temperature: expected a number, got {_kind(temperature)}")
    if not math.isfinite(temperature) or not 0 <= temperature <= MAX_TEMPERATURE:
        raise AuraValidationError(
            f"temperature: expected a number from 0 to 2, got {temperature!r}"
        )
    return temperature


def check_max_tokens(max_tokens: object, limit: int) -> int:
    """An int in ``1..limit`` (the model's ``max_length``)."""
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise AuraValidationError(f"max_tokens: expected an int, got {_kind(max_tokens)}")
    if not 1 <= max_tokens <= limit:
        raise AuraValidationError(f"max_tokens: expected 1 to {limit}, got {max_tokens}")
    return max_tokens


def check_system(system: object) -> str:
    if not isinstance(system, str):
        raise AuraValidationError(f"system: expected str, got {_kind(system)}")
    return system


def check_model_id(model_id: object) -> str:
    if not isinstance(model_id, str) or not model_id.strip():
        raise AuraValidationError(f"model: expected a non-empty model id, got {model_id!r}")
    return model_id


def _check_line(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise AuraValidationError(f"{where}: expected str, got {_kind(value)}")
    if "\r" in value or "\n" in value or "\0" in value:
        raise AuraValidationError(f"{where}: must not contain CR, LF or NUL")
    return value


def check_api_key(api_key: object) -> str:
    """A key free of CR/LF. The message never repeats the key itself."""
    return _check_line("api_key", api_key)


def check_headers(headers: object) -> dict[str, str]:
    """Extra request headers: str names that are HTTP tokens, str values free of CR/LF."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise AuraValidationError(f"headers: expected a mapping, got {_kind(headers)}")
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not name or not all(_is_tchar(c) for c in name):
            raise AuraValidationError(f"headers: invalid header name {name!r}")
        checked[name] = _check_line(f"headers[{name!r}]", value)
    return checked


_TCHAR_PUNCTUATION = frozenset("!#$%&'*+-.^_`|~")


def _is_tchar(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in _TCHAR_PUNCTUATION)


def check_base_url(base_url: object) -> str:
    """An http(s) URL without trailing slash."""
    if not isinstance(base_url, str):
        raise AuraValidationError(f"base_url: expected str, got {_kind(base_url)}")
    url = base_url.strip().rstrip("/")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest:
        raise AuraValidationError(
            f"base_url: expected an http:// or https:// URL, got {_hide_userinfo(base_url)!r}"
        )
    if any(c.isspace() for c in url):
        raise AuraValidationError(
            f"base_url: must not contain white space, got {_hide_userinfo(base_url)!r}"
        )
    return url


_USERINFO = re.compile(r"(^|://)[^/?#]*@")


def _hide_userinfo(url: str) -> str:
    """A bad URL as a message may show it: any ``user:password@`` masked whole."""
    return _USERINFO.sub(r"\1***@", url) if "@" in url else url
