"""Client configuration: arguments, environment and defaults resolved once, checked."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

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

__all__ = ["DEFAULT_BASE_URL", "ClientConfig"]

DEFAULT_BASE_URL = "https://openchat.team"
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
        # A bad value from the environment is named as such: the caller passed nothing.
        origin = "base_url"
        if base_url is None:
            from_env = environ.get(BASE_URL_ENV)
            if from_env:
                origin = f"${BASE_URL_ENV} (base_url)"
                url = check_base_url(from_env, origin)
            else:
                url = DEFAULT_BASE_URL
        else:
            url = check_base_url(base_url)
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
