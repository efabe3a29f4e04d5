"""What every dialect provides (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from .._config import ClientConfig
    from .._exceptions import APIError
    from .._messages import Message
    from .._models import Model
    from .._params import CheckedParams
    from .._reply import Reply
    from .._request import RequestSpec

__all__ = ["Dialect"]


class Dialect:
    """One wire dialect. Stateless: one instance serves every client."""

    name: str = ""
    chat_path: str = ""
    """The chat endpoint, after ``base_url``."""

    def headers(self, config: ClientConfig) -> dict[str, str]:
        """The headers of every request (the SDK's own client has them as defaults)."""
        from .._request import request_headers

        return request_headers(config)

    def chat_request(
        self, config: ClientConfig, messages: Sequence[Message], params: CheckedParams
    ) -> RequestSpec:
        """The request of a chat call, checked (``AuraValidationError`` before anything is sent)."""
        raise NotImplementedError

    def reply(self, params: CheckedParams, max_bytes: int | None) -> Reply:
        """A fresh parser for one reply's body: bytes in, text out."""
        raise NotImplementedError

    def streams(self, content_type: str) -> bool:
        """Whether a success answer with this ``Content-Type`` is the reply's body.

        If not, it is read whole (bounded) and handed to ``status_error``: a
        server that puts its error inside a ``200`` (OpenChat's overflow array).
        """
        return True

    def status_error(
        self,
        status: int,
        reason: str,
        body: str,
        *,
        response: httpx.Response | None,
        secret: str,
        retry_after: str | None,
        location: str | None,
        base_url: str,
    ) -> APIError:
        """The exception for an answer that is not a reply."""
        raise NotImplementedError

    def models_request(self, config: ClientConfig) -> RequestSpec:
        """The request of ``models()``."""
        raise NotImplementedError

    def parse_models(self, body: bytes, secret: str) -> list[Model]:
        """``models()``'s answer as ``Model``s; ``APIResponseValidationError`` if it makes no sense."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<dialect {self.name!r}>"
