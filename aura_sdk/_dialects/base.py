"""What every dialect provides (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import httpx

    from .._config import ClientConfig
    from .._exceptions import APIError
    from .._messages import Message
    from .._models import Model
    from .._params import CheckedParams
    from .._reply import Reply
    from .._request import RequestSpec

__all__ = ["DROP", "Dialect", "DialectName"]

DialectName = Literal["aura", "openai"]
"""The dialects a client can speak (``dialect=``, or ``$AURA_DIALECT``)."""


DROP = ""
"""In ``Dialect.base_url_suffixes``: the suffix is dropped from ``base_url``."""


class Dialect:
    """One wire dialect. Stateless: one instance serves every client."""

    name: DialectName = "aura"
    chat_path: str = ""
    """The chat endpoint, after ``base_url``."""
    default_base_url: str = ""
    """The server of a client given no ``base_url`` (nor ``$AURA_BASE_URL``)."""
    unreachable_hint: str = ""
    """Added to a connection error on ``default_base_url``: what to start, or to set."""
    base_url_suffixes: tuple[tuple[str, str], ...] = ()
    """Paths a ``base_url`` may end in by mistake (an endpoint pasted whole), longest
    first: ``(suffix, DROP)`` drops it; ``(suffix, message)`` refuses the URL, the
    message saying what to pass (``{root}``: the URL without the suffix)."""

    def normalise_base_url(self, url: str, where: str = "base_url") -> tuple[str, str]:
        """``url`` (checked, no trailing slash) without an endpoint suffix, and the
        suffix dropped (``""`` if none); ``AuraValidationError`` for a refused one.

        Only the path is matched, whole segments: ``http://api`` and ``/myapi``
        end in no ``/api``.
        """
        scheme, _, rest = url.partition("://")
        authority, slash, path = rest.partition("/")
        path = slash + path
        for suffix, message in self.base_url_suffixes:
            if path == suffix or path.endswith(suffix):
                root = f"{scheme}://{authority}{path[: -len(suffix)]}"
                if not message:  # DROP
                    return root, suffix
                from .._exceptions import AuraValidationError
                from .._validation import redact_url

                shown = redact_url(root)
                raise AuraValidationError(
                    f"{where}: {redact_url(url)!r} ends in {suffix}, "
                    + message.format(root=shown, root_repr=repr(shown))
                )
        return url, ""

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

    def probe(self, spec: RequestSpec) -> RequestSpec | None:
        """The request to send after a ``200`` stream with no event at all, or None.

        The cheapest request that runs the server's own checks on the same
        conversation (its answer says what the empty stream did not).
        """
        return None

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
