"""The API key never shows: not in repr, errors, log records or the CLI; TLS stays verified."""

from __future__ import annotations

import logging
import os
import ssl
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

from aura_sdk import AsyncAuraClient, AuraClient, AuthenticationError, InternalServerError, user
from aura_sdk.server import AuraServer, Fault

KEY = "sk-live-0123456789abcdef"
HI = [user("Hi")]


@pytest.fixture
def keyed_server(aura_server_factory: Callable[..., AuraServer]) -> AuraServer:
    return aura_server_factory(api_keys={KEY})


def test_repr_and_vars(keyed_server: AuraServer) -> None:
    for client in (AuraClient(api_key=KEY), AsyncAuraClient(api_key=KEY)):
        assert KEY not in repr(client)
        assert KEY not in repr(client._config)
    with AuraClient(base_url=keyed_server.base_url, api_key=KEY) as client:
        stream = client.stream(HI)
        assert KEY.encode() in stream._spec.content  # the key travels in the body...
        assert KEY not in repr(stream._spec)  # ...which no repr shows
        assert KEY not in repr(stream)
        "".join(stream)


def test_key_echoed_by_a_server_is_redacted_from_errors(aura_server: AuraServer) -> None:
    aura_server.script(Fault(status=502, reason=f"upstream refused {KEY}", body=f"bad key {KEY}"))
    with AuraClient(base_url=aura_server.base_url, api_key=KEY, max_retries=0) as client:
        with pytest.raises(InternalServerError) as info:
            client.chat(HI)
    error = info.value
    assert KEY not in str(error)
    assert KEY not in error.reason
    assert KEY not in error.body
    assert "***" in str(error)


def test_log_records_carry_no_key(
    keyed_server: AuraServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: aura_sdk, httpx, httpcore
    with AuraClient(base_url=keyed_server.base_url, api_key=KEY) as client:
        client.chat(HI)
    with AuraClient(base_url=keyed_server.base_url, api_key=KEY + "x", max_retries=0) as client:
        with pytest.raises(AuthenticationError):
            client.chat(HI)
    ours = [r for r in caplog.records if r.name == "aura_sdk"]
    assert any(f"POST {keyed_server.base_url}/api/chat -> 200" in r.getMessage() for r in ours)
    assert any("failed after 0 retries" in r.getMessage() for r in ours)
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in repr(record.args)


def chat_in_a_subprocess(base_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """One chat from a fresh interpreter, with ``AURA_LOG`` as ``env`` says."""
    code = (
        "import sys; from aura_sdk import AuraClient, user\n"
        "AuraClient(base_url=sys.argv[1]).chat([user('hi')])\n"
    )
    environ = {k: v for k, v in os.environ.items() if k != "AURA_LOG"}
    return subprocess.run(
        [sys.executable, "-c", code, base_url],
        capture_output=True,
        text=True,
        env={**environ, **env},
        timeout=30,
        check=False,
    )


def test_aura_log_env_enables_the_logger(keyed_server: AuraServer) -> None:
    result = chat_in_a_subprocess(keyed_server.base_url, AURA_LOG="debug", AURA_API_KEY=KEY)
    assert result.returncode == 0, result.stderr
    assert f"aura_sdk INFO POST {keyed_server.base_url}/api/chat -> 200" in result.stderr
    assert "(retries: 0)" in result.stderr
    assert KEY not in result.stderr + result.stdout


def test_no_logging_without_aura_log(keyed_server: AuraServer) -> None:
    result = chat_in_a_subprocess(keyed_server.base_url, AURA_API_KEY=KEY)
    assert result.returncode == 0
    assert result.stderr == ""


@pytest.mark.parametrize("cls", [AuraClient, AsyncAuraClient])
def test_tls_verification_stays_on(cls: type[AuraClient] | type[AsyncAuraClient]) -> None:
    client = cls(base_url="https://aura.example")
    http: httpx.Client | httpx.AsyncClient = client._http
    context: ssl.SSLContext = http._transport._pool._ssl_context  # type: ignore[union-attr]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
