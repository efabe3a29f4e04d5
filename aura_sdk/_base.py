"""What the two facades share that moves no bytes: configuration, request specs,
limits, and the read-only view of a stream. Keeping it here keeps them from drifting.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._config import ClientConfig
from ._dialects import resolve_dialect
from ._exceptions import APIError, AuraUsageError, AuraValidationError
from ._logs import logger, setup_from_env
from ._params import check_params
from ._reply import Reply
from ._request import RequestSpec
from ._retry import Attempts, RetryPolicy, check_retries, request_id, to_policy, with_retries
from ._secrets import install_filters, register, unregister, url_secrets
from ._timeouts import Budget, Timeout, TimeoutTypes, to_timeout
from ._validation import check_api_key, check_headers, is_int, merge_headers, show

if TYPE_CHECKING:
    import httpx
    from typing_extensions import Self

    from ._dialects import Dialect, DialectName
    from ._messages import Message
    from ._models import Model

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "BaseClient", "BaseStream", "probe_failed", "probed"]

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
"""A reply longer than this is cut off with ``ResponseTooLargeError`` (a chat reply is KBs)."""


def probed(empty: APIError, status: int) -> APIError:
    """An empty stream's error, saying that the same request unstreamed succeeded."""
    empty.args = (
        f"{empty}; asked again without streaming (max_tokens 1), the server answered {status}",
    )
    return empty


def probe_failed(error: APIError) -> APIError:
    """The error the probe after an empty stream got: the reason for the empty stream."""
    error.args = (f"{error}; the stream was empty: this answers the same request unstreamed",)
    return error


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
        policy = to_policy(max_retries)
        self._dialect: Dialect = resolve_dialect(dialect, os.environ)
        self._config = ClientConfig.resolve(
            base_url=base_url,
            api_key=api_key,
            model=model,
            timeout=timeout,
            max_retries=policy.max_retries,
            headers=headers,
            dialect=self._dialect,
        )
        self._register_secrets()
        install_filters()
        self._retry = policy
        self._dialect.headers(self._config)  # the key and base_url as it sends them: checked now
        if max_response_bytes is not None and (
            not is_int(max_response_bytes) or max_response_bytes < 1
        ):
            raise AuraValidationError(
                f"max_response_bytes: expected an int >= 1 or None, got {show(max_response_bytes)}"
            )
        self._max_response_bytes = max_response_bytes
        self._closed = False
        self._closes_http = True  # the facade's: whether close() closes the pool
        self._http_headers = True  # the facade's: the pool's default headers are the requests'
        if self._config.base_url_suffix:
            logger.debug(
                "base_url: %s dropped from the end of %s (the SDK appends %s itself)",
                self._config.base_url_suffix,
                self._config.safe_base_url + self._config.base_url_suffix,
                self._dialect.chat_path,
            )

    def _register_secrets(self) -> None:
        # While the client lives, its secrets are masked in every log record and message.
        secrets = [self._config.api_key, *url_secrets(self._config.base_url)]
        register(secrets)
        weakref.finalize(self, unregister, secrets)

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | None = None,
        max_retries: int | RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        api_key: str | None = None,
    ) -> Self:
        """A copy of this client with some settings replaced, sharing its connection pool.

        ``timeout`` (a number or a ``Timeout``) and ``max_retries`` (a count or a
        ``RetryPolicy``) replace the client's; ``headers`` are merged over the
        client's (a name given replaces the client's header of that name);
        ``api_key`` replaces the key. ``None``, the default, keeps the client's
        setting. Each is checked as the constructor checks it
        (``AuraValidationError``). Example::

            patient = client.with_options(timeout=300, max_retries=5)
            patient.chat([user("A long essay, please")])

        The copy uses the same httpx client (pool, proxy, event loop); closing the
        copy does not close it, closing the original does (the copy then refuses
        calls with ``AuraUsageError``). The original is unchanged.
        """
        self._check_open()
        config = self._config
        changed: dict[str, Any] = {}
        if timeout is not None:
            changed["timeout"] = to_timeout(timeout)
        policy = self._retry if max_retries is None else to_policy(max_retries)
        changed["max_retries"] = policy.max_retries
        if headers is not None:
            changed["headers"] = merge_headers(config.headers, check_headers(headers))
        if api_key is not None:
            changed["api_key"] = check_api_key(api_key)
        config = dataclasses.replace(config, **changed)
        resent = headers is not None or api_key is not None
        if resent:
            self._dialect.headers(config)  # a key it cannot send (a non-ASCII Bearer token)
        twin = copy.copy(self)
        twin._config = config
        twin._retry = policy
        twin._closes_http = False  # the original's pool: the original closes it
        # New headers, or a new Bearer key, go with each request, over the pool's defaults.
        twin._http_headers = self._http_headers and not resent
        twin._register_secrets()
        return twin

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

    def _attempts(self, spec: RequestSpec, budget: Budget, policy: RetryPolicy) -> Attempts:
        hint = self._dialect.unreachable_hint if self._config.default_base_url else ""
        return Attempts(policy, budget, spec.method, spec.url, hint=hint)

    def _chat(
        self, messages: Sequence[Message], params: Mapping[str, Any]
    ) -> tuple[RequestSpec, Reply, Timeout, RetryPolicy]:
        """Check a chat call's input and build its request, before anything is sent."""
        self._check_open()
        checked = check_params(params)
        spec = self._dialect.chat_request(self._config, messages, checked)
        reply = self._dialect.reply(checked, self._max_response_bytes)
        policy = with_retries(self._retry, checked.max_retries)
        return spec, reply, self._timeout(checked.timeout), policy

    def _models(
        self, timeout: float | Timeout | None, max_retries: int | None
    ) -> tuple[RequestSpec, Budget, RetryPolicy]:
        """Check a ``models()`` call's input and build its request."""
        self._check_open()
        policy = with_retries(self._retry, check_retries(max_retries))
        budget = Budget(self._timeout(timeout))
        return self._dialect.models_request(self._config), budget, policy


class BaseStream:
    """The read-only view that ``Stream`` and ``AsyncStream`` share.

    Made by the clients' ``stream()`` (``spec``: the request to send, ``reply``:
    what decodes the body, ``timeout``: the call's limits, ``policy``: its
    retries), not by hand.
    """

    def __init__(
        self, spec: RequestSpec, reply: Reply, timeout: Timeout, policy: RetryPolicy
    ) -> None:
        self._spec = spec
        self._policy = policy
        self._attempts: Attempts | None = None  # once sent: names the request in errors
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
    def reasoning(self) -> str:
        """The reasoning a reasoning model sent beside its text, so far (OpenAI dialect:
        ``delta.reasoning_content`` or ``delta.reasoning``); never part of ``text``.
        "" when there was none."""
        return self._reply.reasoning

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

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id`` (or ``request-id``) header, once the head has
        arrived; ``None`` without one (a status error carries its own:
        ``APIError.request_id``)."""
        if self._response is None:
            return None
        return request_id(self._response.headers.multi_items())

    def _begin(self) -> Budget:
        """The request is about to be sent: the call's clock starts now."""
        self._budget = Budget(self._timeout)
        self._deadline = self._budget.deadline
        return self._budget
