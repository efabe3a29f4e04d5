"""Client configuration: arguments, environment and defaults resolved once, checked."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._models import Model, resolve_model
from ._timeouts import Timeout, to_timeout
from ._validation import (
    check_api_key,
    check_base_url,
    check_headers,
    check_model_id,
    merge_headers,
    redact_url,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._dialects import Dialect

__all__ = ["DEFAULT_BASE_URL", "ClientConfig"]

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
"""The Aura dialect's ``base_url`` when none is set: ``aura serve``'s address.

(The OpenAI dialect's is ollama's, ``http://127.0.0.1:11434/v1``. openchat.team,
the default before, no longer answers.)"""
BASE_URL_ENV = "AURA_BASE_URL"
API_KEY_ENV = "AURA_API_KEY"
USER_AGENT = f"aura-sdk/{__version__}"


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs to build requests, already checked."""

    base_url: str
    api_key: str
    model: Model
    timeout: Timeout
    max_retries: int
    headers: Mapping[str, str]
    base_url_origin: str = "base_url"
    """Where ``base_url`` came from, to name it in messages: the argument, or the variable."""
    default_base_url: bool = False
    """``base_url`` is the dialect's default: nothing set it."""
    base_url_suffix: str = ""
    """The endpoint path dropped from the ``base_url`` given (``/api/chat``, say), if any."""

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
        dialect: Dialect | None = None,
    ) -> ClientConfig:
        """Arguments, else the environment, else the defaults (``dialect``'s
        ``base_url``; none given: the Aura dialect's), each checked."""
        # A bad value from the environment is named as such: the caller passed nothing.
        origin = "base_url"
        suffix = ""
        default = False
        if base_url is None and not environ.get(BASE_URL_ENV):
            url = DEFAULT_BASE_URL if dialect is None else dialect.default_base_url
            default = True
        else:
            if base_url is None:
                origin = f"${BASE_URL_ENV} (base_url)"
                url = check_base_url(environ[BASE_URL_ENV], origin)
            else:
                url = check_base_url(base_url)
            if dialect is not None:
                url, suffix = dialect.normalise_base_url(url, origin)
        if api_key is None:
            key = check_api_key(environ.get(API_KEY_ENV, ""), f"${API_KEY_ENV} (api_key)")
        else:
            key = check_api_key(api_key)
        if not isinstance(model, Model):
            check_model_id(model)
        return cls(
            base_url=url,
            api_key=key,
            model=resolve_model(model),
            timeout=to_timeout(timeout),
            max_retries=max_retries,
            headers=merge_headers({"User-Agent": USER_AGENT}, check_headers(headers)),
            base_url_origin=origin,
            default_base_url=default,
            base_url_suffix=suffix,
        )

    @property
    def safe_base_url(self) -> str:
        """``base_url`` with its password, if any, masked: for reprs and messages."""
        return redact_url(self.base_url)

    def __repr__(self) -> str:
        key = "set" if self.api_key else "unset"
        return (
            f"ClientConfig(base_url={self.safe_base_url!r}, api_key=<{key}>, "
            f"model={self.model.id!r})"
        )
