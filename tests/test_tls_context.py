"""The TLS context of the SDK's own httpx clients: httpx's default, built once.

Building one loads the whole CA bundle, which was most of the cost of making a
client; a change to ``$SSL_CERT_FILE`` / ``$SSL_CERT_DIR`` (which httpx reads)
gets a new one, and one that names nothing usable is a typed error.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from aura_sdk import AsyncAuraClient, AuraClient, AuraValidationError


def context_of(http: httpx.Client | httpx.AsyncClient) -> ssl.SSLContext:
    transport = http._transport
    assert isinstance(transport, (httpx.HTTPTransport, httpx.AsyncHTTPTransport))
    context = transport._pool._ssl_context
    assert context is not None
    return context


@pytest.fixture(autouse=True)
def no_trust_store_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def test_clients_share_one_context_that_verifies() -> None:
    with AuraClient() as one, AuraClient() as two:
        context = context_of(one._http)
        assert context is context_of(two._http)
    async_client = AsyncAuraClient()
    assert context_of(async_client._http) is context
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # certifi's bundle, as httpx loads it


def test_a_trust_store_variable_gets_its_own_context(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import certifi

    with AuraClient() as default:
        before = context_of(default._http)
    bundle = tmp_path / "ca.pem"
    bundle.write_text(
        Path(certifi.where()).read_text().split("-----END CERTIFICATE-----")[0]
        + "-----END CERTIFICATE-----\n"
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with AuraClient() as custom:
        context = context_of(custom._http)
    assert context is not before
    assert context.cert_store_stats()["x509_ca"] == 1  # only what the variable names


@pytest.mark.parametrize("content", [None, "not a certificate"])
@pytest.mark.parametrize("cls", [AuraClient, AsyncAuraClient])
def test_an_unusable_trust_store_is_a_typed_error(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    content: str | None,
    cls: type[AuraClient] | type[AsyncAuraClient],
) -> None:
    """A missing file, or one with no certificate in it: not a raw OSError/SSLError."""
    bundle = tmp_path / "ca.pem"
    if content is not None:
        bundle.write_text(content)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with pytest.raises(AuraValidationError, match=r"\$SSL_CERT_FILE: no CA certificates"):
        cls()
