"""Client configuration: environment fallbacks, defaults, and no secret in repr."""

from __future__ import annotations

import httpx
import pytest

from aura_sdk import DEFAULT_TIMEOUT, AsyncAuraClient, AuraClient, Model, Timeout

CLIENTS = [AuraClient, AsyncAuraClient]


@pytest.mark.parametrize("cls", CLIENTS)
def test_defaults(cls: type[AuraClient] | type[AsyncAuraClient]) -> None:
    client = cls()
    assert client.base_url == "https://openchat.team"
    assert client.model == Model("openchat_3.6", "OpenChat 3.6 (latest)")
    assert client._config.api_key == ""
    assert client._config.timeout == DEFAULT_TIMEOUT
    assert None not in (
        DEFAULT_TIMEOUT.connect,
        DEFAULT_TIMEOUT.read,
        DEFAULT_TIMEOUT.write,
        DEFAULT_TIMEOUT.pool,
    )


@pytest.mark.parametrize("cls", CLIENTS)
def test_environment(
    cls: type[AuraClient] | type[AsyncAuraClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AURA_BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("AURA_API_KEY", "sk-env")
    client = cls()
    assert client.base_url == "http://127.0.0.1:9"
    assert client._config.api_key == "sk-env"
    explicit = cls(base_url="http://other", api_key="sk-arg")
    assert (explicit.base_url, explicit._config.api_key) == ("http://other", "sk-arg")


@pytest.mark.parametrize("cls", CLIENTS)
def test_repr_never_shows_the_key(cls: type[AuraClient] | type[AsyncAuraClient]) -> None:
    client = cls(api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(client)
    assert "sk-very-secret" not in repr(client._config)
    assert "sk-very-secret" not in str(client.__dict__.get("_http"))


def test_bare_number_timeout_sets_every_limit() -> None:
    assert AuraClient(timeout=3)._config.timeout == Timeout(3, 3, 3, 3, 3, total=None)


def test_timeout_object_is_kept() -> None:
    timeout = Timeout(connect=1, read=None)
    assert AuraClient(timeout=timeout)._config.timeout is timeout


def test_custom_model_by_id() -> None:
    assert AuraClient(model="mine").model == Model("mine", "mine", 24576, 8192)


def test_passed_in_client_is_used_and_not_closed() -> None:
    http = httpx.Client()
    with AuraClient(http_client=http) as client:
        assert client._http is http
    assert not http.is_closed
    http.close()


def test_own_client_is_closed() -> None:
    client = AuraClient()
    client.close()
    assert client._http.is_closed


@pytest.mark.anyio
async def test_async_passed_in_client_is_used_and_not_closed() -> None:
    http = httpx.AsyncClient()
    async with AsyncAuraClient(http_client=http) as client:
        assert client._http is http
    assert not http.is_closed
    await http.aclose()


@pytest.mark.parametrize("cls", CLIENTS)
def test_own_pool_has_room_for_a_thousand_streams(
    cls: type[AuraClient] | type[AsyncAuraClient],
) -> None:
    pool = cls()._http._transport._pool  # type: ignore[union-attr]
    assert pool._max_connections == 1000
    assert pool._max_keepalive_connections == 100


def test_own_client_sends_the_sdk_headers_without_per_request_merging() -> None:
    client = AuraClient(headers={"X-Team": "a"})
    assert client._http.headers["user-agent"].startswith("aura-sdk/")
    assert client._http.headers["x-team"] == "a"
    assert client._http.headers["content-type"] == "application/json"
