"""Input checks, run before anything is sent.

Each failure is an ``AuraValidationError`` whose message starts with the path of
the bad item (``messages[2].role``), so the caller can find it at once. A
message never repeats a secret: not the API key, not a header's value, not the
password of a URL.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence

from ._exceptions import AuraValidationError
from ._messages import Message

__all__ = [
    "check_api_key",
    "check_base_url",
    "check_headers",
    "check_max_tokens",
    "check_messages",
    "check_model_id",
    "check_proxy",
    "check_system",
    "check_temperature",
    "check_text",
    "merge_headers",
    "redact_url",
    "scrub_password",
    "show",
]

ROLES = ("system", "user", "assistant")
_MESSAGE_KEYS = frozenset(("role", "content"))
MAX_TEMPERATURE = 2.0
MAX_JSON_INT = 2**53 - 1
"""The largest int a JavaScript server (openchat-ui is Node) reads back exactly."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_HEADER_VALUE_BAD = re.compile("[^\t\x20-\x7e]")
_URL_BAD = re.compile(r"[\s\x00-\x1f\x7f\ud800-\udfff]")
_IPV6_CHARS = frozenset("0123456789abcdefABCDEF:.%")
_HOST_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;="
)

RESERVED_HEADERS = frozenset(
    (
        "connection",
        "content-length",
        "content-type",
        "host",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    )
)
"""Headers the SDK or its transport owns: one set by hand would break the framing
of the request (``Content-Length``, ``Transfer-Encoding``), its routing (``Host``)
or its body (``Content-Type``), so they are refused rather than silently dropped."""


def is_int(value: object) -> bool:
    """An int, and not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """An int or a float, and not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value: object) -> str:
    return type(value).__name__


def show(value: object, limit: int = 60) -> str:
    """``repr(value)`` for a message, kept short; never fails.

    A huge int has no repr on Python 3.11+ (and a slow one before), and a
    caller's object may have a repr that raises.
    """
    if is_int(value) and value.bit_length() > 64:  # type: ignore[attr-defined]
        return f"an int of {value.bit_length()} bits"  # type: ignore[attr-defined]
    try:
        text = repr(value)
    except Exception:
        return f"a {_kind(value)}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_text(where: str, value: object, *, secret: bool = False) -> str:
    """A str that is valid Unicode: no lone surrogate, which UTF-8 cannot encode.

    Text read with ``errors="surrogateescape"`` (``os.environ``, ``sys.argv``,
    file names) carries undecodable bytes as lone surrogates; sending them
    would need a lossy replacement the caller did not ask for, so they are
    refused here, with the field named, instead of failing deep in the encoder.
    """
    if not isinstance(value, str):
        raise AuraValidationError(f"{where}: expected str, got {_kind(value)}")
    if not value.isascii():  # O(1): ASCII text, the usual case, needs no scan
        try:
            value.encode("utf-8")  # faster than any scan in Python, even a regex
        except UnicodeEncodeError as exc:
            at = "" if secret else f" ({value[exc.start]!r} at index {exc.start})"
            raise AuraValidationError(
                f"{where}: contains a lone surrogate{at}, which is not valid Unicode "
                "and cannot be sent as UTF-8; decode the source bytes with "
                "errors='replace' instead of 'surrogateescape'"
            ) from None
    return value


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_messages(messages: object) -> list[Message]:
    """A fresh, checked list of ``{"role", "content"}`` dicts."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise AuraValidationError(f"messages: expected a list of messages, got {_kind(messages)}")
    if not messages:
        raise AuraValidationError("messages: must not be empty")
    checked: list[Message] = []
    for index, message in enumerate(messages):
        # The common case, a plain two-key dict that is right, costs no more than a copy.
        if type(message) is dict and len(message) == 2 and message.get("role") in ROLES:
            content = message.get("content")
            if type(content) is str and (content.isascii() or _encodes(content)):
                checked.append({"role": message["role"], "content": content})
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
        names = ", ".join(sorted(show(key) for key in unknown))
        raise AuraValidationError(
            f"{where}: unexpected key {names} (Aura messages have only 'role' and 'content')"
        )
    if "role" not in message:
        raise AuraValidationError(f"{where}.role: missing")
    role = message["role"]
    if not isinstance(role, str) or role not in ROLES:
        raise AuraValidationError(
            f"{where}.role: expected one of 'system', 'user', 'assistant', got {show(role)}"
        )
    if "content" not in message:
        raise AuraValidationError(f"{where}.content: missing")
    content = check_text(f"{where}.content", message["content"])
    return {"role": role, "content": content}  # type: ignore[typeddict-item]


def check_temperature(temperature: object) -> float | None:
    """A finite number in [0, 2], or None for the server's default."""
    if temperature is None:
        return None
    if not is_real(temperature):
        raise AuraValidationError(f"temperature: expected a number, got {_kind(temperature)}")
    # A chained comparison refuses NaN and inf, and compares a huge int without
    # converting it to float (which would overflow).
    if not 0 <= temperature <= MAX_TEMPERATURE:  # type: ignore[operator]
        raise AuraValidationError(
            f"temperature: expected a number from 0 to 2, got {show(temperature)}"
        )
    return temperature  # type: ignore[return-value]


def check_max_tokens(max_tokens: object, limit: int) -> int:
    """An int in ``1..limit`` (the model's ``max_length``)."""
    if not is_int(max_tokens):
        raise AuraValidationError(f"max_tokens: expected an int, got {_kind(max_tokens)}")
    assert isinstance(max_tokens, int)
    if not 1 <= max_tokens <= limit:
        raise AuraValidationError(f"max_tokens: expected 1 to {limit}, got {show(max_tokens)}")
    return max_tokens


def check_count(where: str, value: object, low: int, high: int) -> int:
    """An int (not a bool) in ``low..high``."""
    if not is_int(value) or not low <= value <= high:  # type: ignore[operator]
        raise AuraValidationError(
            f"{where}: expected an int from {low} to {high}, got {show(value)}"
        )
    return value  # type: ignore[return-value]


def check_seconds(where: str, value: object, high: float) -> float:
    """A finite number of seconds in ``0..high``, as a float."""
    if not is_real(value):
        raise AuraValidationError(f"{where}: expected seconds as a number, got {_kind(value)}")
    if not 0 <= value <= high:  # type: ignore[operator]
        raise AuraValidationError(
            f"{where}: expected seconds from 0 to {high:g}, got {show(value)}"
        )
    return float(value)  # type: ignore[arg-type]


def check_system(system: object) -> str:
    """The ``system`` argument: valid text."""
    return check_text("system", system)


def check_model_id(model_id: object, where: str = "model") -> str:
    """A non-empty model id, valid text."""
    if not isinstance(model_id, str) or not model_id.strip():
        raise AuraValidationError(f"{where}: expected a non-empty model id, got {show(model_id)}")
    return check_text(where, model_id)


def check_api_key(api_key: object, where: str = "api_key") -> str:
    """A key free of control characters and lone surrogates. The message never repeats it."""
    key = check_text(where, api_key, secret=True)
    if _CONTROL.search(key):
        raise AuraValidationError(
            f"{where}: must not contain CR, LF or other control characters "
            "(a key pasted with its line end?)"
        )
    return key


def check_headers(headers: object) -> dict[str, str]:
    """Extra request headers, each refused with its name if it cannot be sent as is.

    Names: str HTTP tokens, each given once (case-insensitively), none of
    ``RESERVED_HEADERS``. Values: str of printable ASCII and tabs, the space and
    tabs around them stripped (RFC 9110 calls them no part of the value). httpx
    sends str values as ASCII; anything else (latin-1 "obs-text", other text)
    must be encoded by the caller, e.g. percent-encoded. A value is never
    repeated in a message: it may be a token.
    """
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise AuraValidationError(f"headers: expected a mapping, got {_kind(headers)}")
    checked: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in headers.items():
        if not isinstance(name, str) or not name or not all(_is_tchar(c) for c in name):
            raise AuraValidationError(
                f"headers: invalid header name {show(name)} (expected a str of letters, digits and !#$%&'*+-.^_`|~)"
            )
        lower = name.lower()
        if lower in RESERVED_HEADERS:
            raise AuraValidationError(
                f"headers[{name!r}]: set by the SDK or its transport, and must not be overridden"
            )
        if lower in seen:
            raise AuraValidationError(
                f"headers[{name!r}]: given twice (header names are case-insensitive)"
            )
        seen.add(lower)
        checked[name] = _check_header_value(f"headers[{name!r}]", value)
    return checked


def _check_header_value(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise AuraValidationError(f"{where}: expected str, got {_kind(value)}")
    value = value.strip(" \t")
    bad = _HEADER_VALUE_BAD.search(value)
    if bad is not None:
        char = bad.group()
        at = bad.start()
        if char.isascii():
            raise AuraValidationError(
                f"{where}: must not contain CR, LF, NUL or other control characters "
                f"(U+{ord(char):04X} at index {at})"
            )
        raise AuraValidationError(
            f"{where}: must be printable ASCII (a non-ASCII character at index {at}); "
            "percent- or base64-encode other text"
        )
    return value


def merge_headers(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """``base`` overridden by ``extra``, header names compared case-insensitively."""
    if not extra:
        return dict(base)
    overridden = {name.lower() for name in extra}
    merged = {name: value for name, value in base.items() if name.lower() not in overridden}
    merged.update(extra)
    return merged


_TCHAR_PUNCTUATION = frozenset("!#$%&'*+-.^_`|~")


def _is_tchar(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in _TCHAR_PUNCTUATION)


def redact_url(url: str) -> str:
    """``url`` with the password of its userinfo (or a user name alone) replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = len(rest)
    for mark in "/?#":
        found = rest.find(mark)
        if found != -1:
            end = min(end, found)
    userinfo, at, hostport = rest[:end].rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    # A user name alone is often a token (``https://<token>@host``): masked too.
    shown = f"{user}:***" if colon else "***"
    return f"{scheme}://{shown}@{hostport}{rest[end:]}"


def has_userinfo(url: str) -> bool:
    """Whether ``url``'s authority holds user info (an ``@`` before its path), even
    one that already reads like the mask: httpx sends any as Basic auth."""
    rest = url.partition("://")[2]
    end = min((i for i in map(rest.find, "/?#") if i != -1), default=len(rest))
    return "@" in rest[:end]


def scrub_password(text: str, url: str) -> str:
    """``text`` (a message about ``url``) with what ``redact_url`` masks masked."""
    rest = url.partition("://")[2]
    userinfo, at, _ = rest.partition("/")[0].rpartition("@")
    user, colon, password = userinfo.partition(":")
    secret = password if colon else user
    return text.replace(secret, "***") if at and secret else text


_BASE_URL_SCHEMES = ("http", "https")
_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def check_base_url(base_url: object, where: str = "base_url") -> str:
    """An http(s) URL without a trailing slash: ``http://host[:port][/path]``.

    The space around it and trailing slashes are dropped; anything else that is
    not a plain server URL (a query, a fragment, a bad host or port) is refused,
    the password of its userinfo masked in the message.
    """
    return _check_url(where, base_url, _BASE_URL_SCHEMES, "'http://127.0.0.1:8000'")


def check_proxy(proxy: object) -> str | None:
    """``None`` (no proxy), or an http(s) or socks5 proxy URL."""
    if proxy is None:
        return None
    if isinstance(proxy, str) and not proxy.strip():
        raise AuraValidationError(
            "proxy: empty; pass None for no proxy, or a URL such as 'http://127.0.0.1:3128'"
        )
    if not isinstance(proxy, str):
        raise AuraValidationError(f"proxy: expected a URL string or None, got {_kind(proxy)}")
    return _check_url("proxy", proxy, _PROXY_SCHEMES, "'http://127.0.0.1:3128'")


def _check_url(where: str, value: object, schemes: tuple[str, ...], example: str) -> str:
    if not isinstance(value, str):
        raise AuraValidationError(f"{where}: expected str, got {_kind(value)}")
    url = value.strip()
    shown = repr(redact_url(url)) if not _SURROGATE.search(url) else "a URL with a lone surrogate"
    # A user name or password with a raw '/', '?' or '#' ('http://u:pa#ss@host') ends
    # the authority early: what follows is no userinfo to redact_url, and the rest of
    # the message (a query, a port 'pa') would quote the secret. Such a URL is
    # refused, shown with everything before its last '@' masked.
    scheme_part, sep_part, rest_part = url.partition("://")
    authority_end = min((i for i in map(rest_part.find, "/?#") if i != -1), default=-1)
    stray_at = (
        authority_end != -1
        and "@" in rest_part[authority_end:]
        and "@" not in rest_part[:authority_end]
    )
    if stray_at and sep_part and not _SURROGATE.search(url):
        shown = repr(f"{scheme_part}://***@{rest_part.rpartition('@')[2]}")
    stray_hint = (
        f"{where}: the part before '@' looks like a user name or password holding a raw "
        f"'/', '?' or '#'; percent-encode them there (%2F, %3F, %23), got {shown}"
    )
    if _URL_BAD.search(url):
        raise AuraValidationError(
            f"{where}: must not contain white space, control characters or lone surrogates, "
            f"got {shown}"
        )
    scheme, sep, rest = url.partition("://")
    names = " or ".join(f"{s}://" for s in schemes)
    if not sep or scheme.lower() not in schemes:
        raise AuraValidationError(
            f"{where}: expected an {names} URL such as {example}, got {shown}"
        )
    whose = "proxy's" if where == "proxy" else "server's"
    for mark, part in (("?", "a query"), ("#", "a fragment")):
        if mark in rest:
            if stray_at:
                raise AuraValidationError(stray_hint)
            raise AuraValidationError(
                f"{where}: must not have {part} ({mark}...); pass the {whose} URL, such as "
                f"{example}, got {shown}"
            )
    authority, slash, path = rest.partition("/")
    hostport = authority.rpartition("@")[2]
    problem = _host_problem(hostport)
    if problem:
        raise AuraValidationError(stray_hint if stray_at else f"{where}: {problem}, got {shown}")
    return f"{scheme.lower()}://{authority}{(slash + path).rstrip('/')}"


def _host_problem(hostport: str) -> str | None:
    """What is wrong with ``host[:port]``, or None."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end == -1:
            return "an IPv6 address opened with '[' is not closed with ']'"
        literal = hostport[1:end]
        try:
            ipaddress.IPv6Address(literal.replace("%25", "%"))
        except ValueError:
            return f"invalid IPv6 address [{literal}]"
        after = hostport[end + 1 :]
        if after and not after.startswith(":"):
            return "expected ':port' after the IPv6 address"
        return _port_problem(after[1:])
    if hostport.count(":") > 1 and all(c in _IPV6_CHARS for c in hostport):
        return "an IPv6 address must be in brackets, such as 'http://[::1]:8000'"
    host, _, port = hostport.partition(":")
    if not host:
        return "no host"
    if host.isascii() and not all(c in _HOST_CHARS for c in host):
        return f"invalid character in host {host!r}"
    try:
        # What the socket layer does to every host name before resolving it: an
        # empty label ('a..b') or one over 63 characters fails there, as a raw
        # UnicodeError out of getaddrinfo, so it is refused here.
        host.encode("idna")
    except UnicodeError:
        if host.isascii():
            return f"invalid host name {host!r} (an empty label, or one over 63 characters)"
        return f"invalid international host name {host!r}"
    return _port_problem(port)


def _port_problem(port: str) -> str | None:
    if not port:
        return None
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        return f"invalid port {port!r} (expected 1 to 65535)"
    return None


def check_iterable_ints(where: str, value: object, low: int, high: int) -> frozenset[int]:
    """A frozenset of ints in ``low..high``, from any iterable but a str or a mapping."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise AuraValidationError(f"{where}: expected a set of ints, got {_kind(value)}")
    return frozenset(check_count(f"{where} item", item, low, high) for item in value)
