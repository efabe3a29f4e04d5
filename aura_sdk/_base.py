"""What the two facades share that moves no bytes: configuration, request specs,
and the read-only view of a stream. Keeping it here keeps the facades from drifting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ._config import ClientConfig
from ._reply import Reply
from ._request import RequestSpec, chat_request
from ._retry import RetryPolicy

if TYPE_CHECKING:
    import httpx

    from ._decoder import DecodeErrors
    from ._messages import Message
    from ._models import Model

__all__ = ["BaseClient", "BaseStream"]


class BaseClient:
    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str | Model,
        timeout: object,
        max_retries: int,
        headers: Mapping[str, str] | None,
    ) -> None:
        self._config = ClientConfig.resolve(
            base_url=base_url,
            api_key=api_key,
            model=model,
            timeout=timeout,
            max_retries=max_retries,
            headers=headers,
        )
        self._retry = RetryPolicy(max_retries=max_retries)

    @property
    def base_url(self) -> str:
        """The server's URL, without a trailing slash."""
        return self._config.base_url

    @property
    def model(self) -> Model:
        """The default model of this client's requests."""
        return self._config.model

    def __repr__(self) -> str:
        # Never the API key.
        return f"{type(self).__name__}(base_url={self.base_url!r}, model={self.model.id!r})"

    def _chat(
        self,
        messages: Sequence[Message],
        temperature: float | None,
        max_tokens: int,
        system: str | None,
        model: str | Model | None,
        errors: DecodeErrors,
    ) -> tuple[RequestSpec, Reply]:
        """Check a chat call's input and build its request, before anything is sent."""
        reply = Reply(errors)
        spec = chat_request(
            self._config,
            messages,
            temperature=temperature,
            max_tokens=max_tokens,
            system=system,
            model=model,
        )
        return spec, reply


class BaseStream:
    def __init__(self, spec: RequestSpec, reply: Reply) -> None:
        self._spec = spec
        self._reply = reply
        self._response: httpx.Response | None = None
        self._done = False
        self.retries = 0
        """Retries taken before the response arrived."""

    @property
    def text(self) -> str:
        """The reply text received so far (also after an error)."""
        return self._reply.text

    @property
    def response(self) -> httpx.Response | None:
        """The ``httpx.Response``, once it has arrived."""
        return self._response

    @property
    def status_code(self) -> int | None:
        """The response's status code, once it has arrived."""
        return None if self._response is None else self._response.status_code

    @property
    def headers(self) -> httpx.Headers | None:
        """The response's headers, once they have arrived."""
        return None if self._response is None else self._response.headers
