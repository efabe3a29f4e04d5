from __future__ import annotations

import os
from collections.abc import Callable
from types import ModuleType

import pytest

from aura_sdk import DialectName
from aura_sdk.server import AuraServer, Fault
from tests._stacks import STACKS, stack_module
from tests._terminal import terminal  # noqa: F401  (the fixture, for the pty tests)

# The peer suite needs a real server's environment: `make test-peers` names it.
collect_ignore = [] if os.environ.get("AURA_PEER_PYTHON") else ["peers"]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every async test runs under asyncio and under trio."""
    return str(request.param)


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> ModuleType:
    """The HTTP stack of the caller's ``http_client=``: the module ``httpx``, or ``httpx2``
    (tests/_stacks.py). A test that takes it runs over both."""
    return stack_module(str(request.param))


@pytest.fixture
def dialect() -> DialectName:
    """The wire dialect of the ``server`` fixture (and of the clients that use it).

    ``"aura"`` unless a test is parametrized over ``dialect`` (the fault suite
    runs on both: ``@pytest.mark.parametrize("dialect", DIALECTS)``).
    """
    return "aura"


@pytest.fixture
def server(aura_server_factory: Callable[..., AuraServer], dialect: DialectName) -> AuraServer:
    """The local server of ``aura_sdk.testing``, on 127.0.0.1, in ``dialect``.

    Unless a test scripts otherwise, every chat reply is the two chunks
    ``"Hello"`` and ``", world"`` (two content deltas in the openai dialect), so
    that tests can compare exactly.
    """
    return aura_server_factory(dialect=dialect, fault=Fault(chunks=(b"Hello", b", world")))


@pytest.fixture(autouse=True)
def _no_aura_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's AURA_* settings."""
    monkeypatch.delenv("AURA_BASE_URL", raising=False)
    monkeypatch.delenv("AURA_API_KEY", raising=False)
    monkeypatch.delenv("AURA_DIALECT", raising=False)
