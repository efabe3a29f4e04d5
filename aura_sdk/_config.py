"""Client configuration: arguments, environment and defaults resolved once, checked."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ._exceptions import AuraValidationError
from ._models import Model, resolve_model
from ._secrets import mask_url
from ._timeouts import Timeout, to_timeout
from ._validation import check_api_key, check_base_url, check_headers, check_model_id, is_int
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
        if not is_int(max_retries) or max_retries < 0:
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
        return f"ClientConfig(base_url={mask_url(self.base_url)!r}, api_key=<{key}>, model={self.model.id!r})"
