"""A pytest plugin: a real local Aura server for each test that asks for one.

Registered through the ``pytest11`` entry point, so the fixtures are there as
soon as ``aura-sdk[server]`` is installed::

    from aura_sdk import AuraClient, RateLimitError, user
    from aura_sdk.server import Fault

    def test_my_app_survives_a_rate_limit(aura_server):
        aura_server.script(Fault(status=500, reason="Rate limit reached for requests"))
        client = AuraClient(base_url=aura_server.base_url, max_retries=0)
        with pytest.raises(RateLimitError):
            client.chat([user("hi")])
        assert aura_server.requests[0].json()["messages"] == [user("hi")]

The server runs in a background thread on 127.0.0.1 and a free port, so sync
and async tests (asyncio or trio) use it alike. Replies stream with no pause.

``openai_server`` and ``openai_base_url`` are the same in the ``openai``
dialect (OpenChat's own OpenAI-compatible server): ``openai_base_url`` ends in
``/v1``, as OpenAI-style clients want it::

    def test_my_app_reads_the_stream(openai_base_url):
        client = AuraClient(base_url=openai_base_url, dialect="openai")
        assert "emulator" in client.chat([user("hi")])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .server import AuraServer, FlavorName

__all__ = [
    "aura_base_url",
    "aura_server",
    "aura_server_factory",
    "openai_base_url",
    "openai_server",
]


@pytest.fixture
def aura_server_factory() -> Iterator[Callable[..., AuraServer]]:
    """Start servers with your own settings: ``aura_server_factory(api_keys={"sk-1"})``,
    ``aura_server_factory(dialect="openai", enable_sys_prompt=True)``.

    Takes ``AuraServer``'s keywords (``pace`` defaults to 0); each server stops
    at the end of the test.
    """
    from .server import AuraServer

    with ExitStack() as stack:

        def start(**kwargs: Any) -> AuraServer:
            kwargs.setdefault("pace", 0.0)
            return stack.enter_context(AuraServer(**kwargs))

        yield start


@pytest.fixture
def aura_server(aura_server_factory: Callable[..., AuraServer]) -> AuraServer:
    """A running local Aura server: ``.base_url``, ``.script(Fault(...))``, ``.requests``."""
    return aura_server_factory()


@pytest.fixture
def aura_base_url(aura_server: AuraServer) -> str:
    """The base URL of a running local Aura server."""
    return aura_server.base_url


@pytest.fixture
def flavor() -> FlavorName:
    """The OpenAI-compatible server ``openai_server`` plays: ``"openchat"`` (OpenChat's
    own) unless a test parametrizes it, ``@pytest.mark.parametrize("flavor",
    ["vllm", "ollama", "llama-cpp-python"])``; every name is in
    ``aura_sdk.server.FLAVORS``."""
    return "openchat"


@pytest.fixture
def openai_server(aura_server_factory: Callable[..., AuraServer], flavor: FlavorName) -> AuraServer:
    """A running local server in the ``openai`` dialect, playing ``flavor`` (OpenChat's
    own server by default)."""
    return aura_server_factory(dialect="openai", flavor=flavor)


@pytest.fixture
def openai_base_url(openai_server: AuraServer) -> str:
    """The base URL of a running local openai-dialect server: ``http://127.0.0.1:PORT/v1``."""
    return openai_server.base_url
