from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._server import ScriptedServer


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every async test runs under asyncio and under trio."""
    return str(request.param)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A scripted HTTP/1.1 server on 127.0.0.1, for tests where sockets matter."""
    with ScriptedServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _no_aura_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's AURA_* settings."""
    monkeypatch.delenv("AURA_BASE_URL", raising=False)
    monkeypatch.delenv("AURA_API_KEY", raising=False)
