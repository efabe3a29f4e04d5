"""A drop-in for gpt4free's ``Aura`` provider, built on ``AsyncAuraClient``.

The original (``g4f/Provider/not_working/Aura.py``) needed a browser for
cookies, crashed on its first chunk (``chunk.decode(error="ignore")``) and
split multibyte characters between chunks. This one keeps its call::

    from aura_sdk.compat import Aura

    async for chunk in Aura.create_async_generator("openchat_3.6", messages):
        print(chunk, end="")

It is also accepted as a provider by the current ``g4f`` package
(``g4f.client.Client(provider=Aura)``, ``g4f.ChatCompletion.create(provider=Aura, ...)``)
without importing g4f. Use ``base_url=`` (or ``$AURA_BASE_URL``) for another
deployment. gpt4free's ``timeout=`` (seconds for the whole call) and
``stream_timeout=`` (seconds between two chunks) become the SDK's time limits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, ClassVar

from ._async_client import AsyncAuraClient, AsyncStream
from ._models import DEFAULT_MODEL
from ._timeouts import DEFAULT_TIMEOUT, Timeout

__all__ = ["Aura"]


class Aura:
    """The gpt4free ``Aura`` provider, working again."""

    url: ClassVar[str] = "https://openchat.team"
    working: ClassVar[bool] = True
    supports_stream: ClassVar[bool] = True
    needs_auth: ClassVar[bool] = False
    use_stream_timeout: ClassVar[bool] = True
    supports_message_history: ClassVar[bool] = True
    supports_system_message: ClassVar[bool] = True
    default_model: ClassVar[str] = DEFAULT_MODEL
    models: ClassVar[list[str]] = [DEFAULT_MODEL]
    label: ClassVar[str] = "Aura (OpenChat 3.6)"
    live: ClassVar[int] = 0
    """How many requests are under way; gpt4free's retry provider counts it up and down."""

    @classmethod
    def get_dict(cls) -> dict[str, str | None]:
        """What gpt4free shows of a provider."""
        return {"name": cls.__name__, "url": cls.url, "label": cls.label}

    @classmethod
    def create_async_generator(
        cls,
        model: str,
        messages: Iterable[Mapping[str, Any]],
        proxy: str | None = None,
        temperature: float | None = 0.5,
        max_tokens: int | None = 8192,
        webdriver: object = None,
        **kwargs: Any,
    ) -> AsyncIterator[str]:
        """Stream the reply as ``str`` chunks, as the seed provider did.

        ``messages`` are gpt4free's dicts (keys other than ``role`` and
        ``content`` are dropped); ``proxy`` an http(s) or socks5 proxy URL;
        ``temperature`` and ``max_tokens`` as the seed sent them (``None``: 0.5
        and 8192). ``model`` and ``webdriver`` are accepted and ignored, as in the seed
        (the server's model is ``openchat_3.6``). Of ``kwargs``, ``base_url=`` picks another
        server; ``api_key=`` is sent as the Aura key; ``timeout=`` (seconds) bounds
        every wait and the whole call, as gpt4free's own providers do, and
        ``stream_timeout=`` the silence between two chunks; gpt4free's other
        keywords (``stream``, ``provider``, ...) are ignored. Bad input raises
        ``AuraValidationError`` here, before anything is sent.
        """
        client = AsyncAuraClient(
            base_url=kwargs.get("base_url"),
            api_key=kwargs.get("api_key"),
            proxy=proxy,
            timeout=_timeout(kwargs.get("timeout"), kwargs.get("stream_timeout")),
            dialect="aura",  # the seed's protocol, whatever $AURA_DIALECT says
        )
        # Nothing is sent until the first iteration, so an unused client holds no connection.
        stream = client.stream(
            _only_role_and_content(messages),
            temperature=0.5 if temperature is None else temperature,
            max_tokens=8192 if max_tokens is None else max_tokens,
        )
        return _generate(client, stream)


def _timeout(timeout: Any, stream_timeout: Any) -> Timeout:
    """gpt4free's ``timeout`` (whole call) and ``stream_timeout`` (between chunks)."""
    if timeout is None and stream_timeout is None:
        return DEFAULT_TIMEOUT
    base = (
        DEFAULT_TIMEOUT
        if timeout is None
        else Timeout(timeout, timeout, timeout, timeout, timeout, timeout)
    )
    return Timeout(
        connect=base.connect,
        response=base.response,
        read=base.read if stream_timeout is None else stream_timeout,
        write=base.write,
        pool=base.pool,
        total=base.total,
    )


def _only_role_and_content(messages: object) -> Any:
    """gpt4free messages may carry extra keys; Aura takes role and content only."""
    if not isinstance(messages, (list, tuple)):
        return messages  # the client's check names the problem
    return [
        {k: v for k, v in m.items() if k in ("role", "content")} if isinstance(m, Mapping) else m
        for m in messages
    ]


async def _generate(client: AsyncAuraClient, stream: AsyncStream) -> AsyncIterator[str]:
    async with client, stream:
        async for chunk in stream:
            yield chunk
