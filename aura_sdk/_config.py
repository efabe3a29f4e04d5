"""Client configuration: arguments, environment and defaults resolved once, checked."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Union

from ._exceptions import AuraValidationError
from ._models import Model, resolve_model
from ._validation import check_api_key, check_base_url, check_headers, check_model_id
from ._version import __version__

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "ClientConfig", "Timeout", "TimeoutTypes"]

DEFAULT_BASE_URL = "https://openchat.team"
BASE_URL_ENV = "AURA_BASE_URL"
API_KEY_ENV = "AURA_API_KEY"
USER_AGENT = f"aura-sdk/{__version__}"


@dataclass(frozen=True)
class Timeout:
    """Time limits in seconds; ``None`` switches one off.

    - ``connect``: to open the TCP (and TLS) connection;
    - ``read``: to wait for the status line, and then between two chunks of the
      reply (this is what ends the server's mid-stream hang);
    - ``write``: to send one piece of the request;
    - ``pool``: to wait for a free connection from the pool.

    The defaults suit a reply that streams for minutes, and never wait forever.
    A bare number sets all four: ``AuraClient(timeout=30)``.
    """

    __slots__ = ("connect", "pool", "read", "write")

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None

    def __init__(
        self,
        connect: float | None = 10.0,
        read: float | None = 120.0,
        write: float | None = 30.0,
        pool: float | None = 30.0,
    ) -> None:
        for name, value in (("connect", connect), ("read", read), ("write", write), ("pool", pool)):
            object.__setattr__(self, name, _check_seconds(f"timeout.{name}", value))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_seconds(where: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AuraValidationError(
            f"{where}: expected seconds as a number, got {type(value).__name__}"
        )
    if math.isnan(value) or value <= 0:
        raise AuraValidationError(f"{where}: expected a positive number of seconds, got {value!r}")
    return float(value)


DEFAULT_TIMEOUT = Timeout()
TimeoutTypes = Union[float, Timeout]


def to_timeout(timeout: object) -> Timeout:
    if isinstance(timeout, Timeout):
        return timeout
    if timeout is None:
        raise AuraValidationError(
            "timeout: None would wait forever; pass Timeout(read=None) to lift one limit on purpose"
        )
    seconds = _check_seconds("timeout", timeout)
    return Timeout(seconds, seconds, seconds, seconds)


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs to build requests, already checked."""

    base_url: str
    api_key: str
    model: Model
    timeout: Timeout
    max_retries: int
    headers: Mapping[str, str]

    @classmethod
    def resolve(
        cls,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str | Model,
        timeout: object,
        max_retries: int,
        headers: Mapping[str, str] | None,
        environ: Mapping[str, str] = os.environ,
    ) -> ClientConfig:
        if base_url is None:
            base_url = environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        if api_key is None:
            api_key = environ.get(API_KEY_ENV, "")
        if not isinstance(model, Model):
            check_model_id(model)
        if not _is_int(max_retries) or max_retries < 0:
            raise AuraValidationError(f"max_retries: expected an int >= 0, got {max_retries!r}")
        return cls(
            base_url=check_base_url(base_url),
            api_key=check_api_key(api_key),
            model=resolve_model(model),
            timeout=to_timeout(timeout),
            max_retries=max_retries,
            headers={"User-Agent": USER_AGENT, **check_headers(headers)},
        )

    def __repr__(self) -> str:
        key = "set" if self.api_key else "unset"
        return f"ClientConfig(base_url={self.base_url!r}, api_key=<{key}>, model={self.model.id!r})"
