"""What the two facades share that moves no bytes: configuration, request specs,
limits, and the read-only view of a stream. Keeping it here keeps them from drifting.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._config import ClientConfig
from ._dialects import resolve_dialect
from ._exceptions import AuraUsageError, AuraValidationError, StreamTimeoutError
from ._logs import setup_from_env
from ._params import check_params
from ._reply import Reply
from ._request import RequestSpec
from ._retry import Attempts, RetryPolicy
from ._secrets import install_filters, register, unregister, url_secrets
from ._timeouts import Budget, Timeout, to_timeout
from ._validation import is_int, show

if TYPE_CHECKING:
    import httpx

    from ._dialects import Dialect, DialectName
    from ._messages import Message
    from ._models import Model

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "BaseClient", "BaseStream"]

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
"""A reply longer than this is cut off with ``ResponseTooLargeError`` (a chat reply is KBs)."""


class BaseClient:
    """What ``AuraClient`` and ``AsyncAuraClient`` share: configuration, checks, ``repr``.

    Not for use on its own: its ``__init__`` takes the facades' arguments (see
    ``AuraClient``), all of them keyword-only and resolved here.
    """

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str | Model,
        timeout: object,
        max_retries: int | RetryPolicy,
        headers: Mapping[str, str] | None,
        max_response_bytes: int | None,
        dialect: object,
    ) -> None:
        setup_from_env()
        if isinstance(max_retries, RetryPolicy):
            policy = max_retries
        elif is_int(max_retries):
            policy = RetryPolicy(max_retries)
        else:
            raise AuraValidationError(
                f"max_retries: expected an int or a RetryPolicy, got {type(max_retries).__name__}"
            )
        self._config = ClientConfig.resolve(
            base_url=base_url,
            api_key=api_key,
            model=model,
            timeout=timeout,
            max_retries=policy.max_retries,
            headers=headers,
        )
        # While the client lives, its secrets are masked in every log record and message.
        secrets = [self._config.api_key, *url_secrets(self._config.base_url)]
        register(secrets)
        weakref.finalize(self, unregister, secrets)
        install_filters()
        self._retry = policy
        self._dialect: Dialect = resolve_dialect(dialect, os.environ)
        if max_response_bytes is not None and (
            not is_int(max_response_bytes) or max_response_bytes < 1
        ):
            raise AuraValidationError(
                f"max_response_bytes: expected an int >= 1 or None, got {show(max_response_bytes)}"
            )
        self._max_response_bytes = max_response_bytes
        self._closed = False

    @property
    def base_url(self) -> str:
        """The server's URL, without a trailing slash."""
        return self._config.base_url

    @property
    def dialect(self) -> DialectName:
        """The wire dialect: ``"aura"`` (openchat-ui) or ``"openai"`` (OpenAI-compatible)."""
        return self._dialect.name

    @property
    def model(self) -> Model:
        """The default model of this client's requests."""
        return self._config.model

    def __repr__(self) -> str:
        # Never the API key, nor the password of the URL.
        url = self._config.safe_base_url
        return (
            f"{type(self).__name__}(base_url={url!r}, dialect={self.dialect!r}, "
            f"model={self.model.id!r})"
        )

    def _timeout(self, timeout: float | Timeout | None) -> Timeout:
        """A call's limits: its own, or the client's."""
        return self._config.timeout if timeout is None else to_timeout(timeout)

    def _check_open(self) -> None:
        """A closed client (or one whose ``http_client`` was closed) sends nothing."""
        if self._closed or self._http_closed():
            whose = "it was" if self._closed else "its http_client was"
            raise AuraUsageError(
                f"this {type(self).__name__} cannot be used: {whose} closed; create a new one"
            )

    def _http_closed(self) -> bool:
        return False  # the facades know their http client

    def _attempts(self, spec: RequestSpec, budget: Budget) -> Attempts:
        return Attempts(self._retry, budget, spec.method, spec.url)

    def _chat(
        self, messages: Sequence[Message], params: Mapping[str, Any]
    ) -> tuple[RequestSpec, Reply, Timeout]:
        """Check a chat call's input and build its request, before anything is sent."""
        self._check_open()
        checked = check_params(params)
        spec = self._dialect.chat_request(self._config, messages, checked)
        reply = self._dialect.reply(checked, self._max_response_bytes)
        return spec, reply, self._timeout(checked.timeout)


class BaseStream:
    """The read-only view that ``Stream`` and ``AsyncStream`` share.

    Made by the clients' ``stream()`` (``spec``: the request to send, ``reply``:
    what decodes the body, ``timeout``: the call's limits), not by hand.
    """

    def __init__(self, spec: RequestSpec, reply: Reply, timeout: Timeout) -> None:
        self._spec = spec
        self._reply = reply
        self._timeout = timeout
        self._budget = Budget(timeout)  # its clock restarts when the request is sent
        self._deadline: float | None = None
        self._response: httpx.Response | None = None
        self._done = False
        self._retries = 0

    @property
    def retries(self) -> int:
        """Retries taken before the response arrived."""
        return self._retries

    # A property, not an attribute, so that the facades' ``self.retries = ...``
    # keeps its declared type (pyright's --verifytypes: no inferred override).
    @retries.setter
    def retries(self, value: int) -> None:
        self._retries = value

    def __repr__(self) -> str:
        # ``<Stream dialect=aura POST http://host/api/chat finished status=200 text=12 chars>``:
        # the URL without its userinfo, the text's length only, never a header.
        from ._validation import redact_url

        client = getattr(self, "_client", None)
        dialect = "" if client is None else f" dialect={client.dialect}"
        response = self._response
        if response is None:
            state = "closed" if self._done else "not sent"
        elif self._reply.complete:
            state = "finished"
        else:
            state = "closed" if response.is_closed else "streaming"
        parts = [f"<{type(self).__name__}{dialect} {self._spec.method}", redact_url(self._spec.url)]
        parts.append(state)
        if response is not None:
            parts.append(f"status={response.status_code}")
        parts.append(f"text={len(self._reply.text)} chars")
        if self._reply.finish_reason is not None:
            parts.append(f"finish_reason={self._reply.finish_reason!r}")
        if self._retries:
            parts.append(f"retries={self._retries}")
        return " ".join(parts) + ">"

    @property
    def text(self) -> str:
        """The reply text received so far (also after an error)."""
        return self._reply.text

    @property
    def finish_reason(self) -> str | None:
        """Why the reply ended, once it has: ``"stop"``, ``"length"``... (OpenAI dialect).

        ``None`` while it streams, in the Aura dialect (plain text says nothing),
        and when a server ended the stream without saying (OpenChat's server does,
        after a cut inside a multibyte character): the end may be missing.
        A stop string reached on the client gives ``"stop"``.
        """
        return self._reply.finish_reason

    @property
    def stop_sequence(self) -> str | None:
        """The ``stop`` string that ended the reply on the client (it is not in ``text``)."""
        return self._reply.stop_sequence

    @property
    def usage(self) -> dict[str, Any] | None:
        """Token counts, if the server sent them (OpenChat's server never does in a stream)."""
        return self._reply.usage

    @property
    def id(self) -> str | None:
        """The reply's id, if the server gave one (OpenAI dialect: ``"cmpl-..."``)."""
        return self._reply.id

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

    def _begin(self) -> Budget:
        """The request is about to be sent: the call's clock starts now."""
        self._budget = Budget(self._timeout)
        self._deadline = self._budget.deadline
        return self._budget

    def _overdue(self) -> StreamTimeoutError | None:
        """Past the total deadline while chunks still flow (checked as each arrives)."""
        if self._deadline is not None and time.monotonic() >= self._deadline:
            return self._reply.timed_out("total", self._timeout.total)
        return None
