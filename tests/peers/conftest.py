"""A real llama-cpp-python server for the session, on 127.0.0.1.

``make test-peers`` builds the server into its own venv and names that venv's
python in ``$AURA_PEER_PYTHON``; without it this directory is not collected
(tests/conftest.py). Once it is set nothing here skips: a server that cannot be
started fails every test, with the end of its log.

The session writes the tiny model of ``_model.py`` (the peer's python runs it: the
``gguf`` package lives there), then starts ``python -m llama_cpp.server`` with
OpenChat's chat format, a 256-token context and an API key, and stops it at the
end. One server serves every test: tests send their requests one at a time (the
server interrupts a running stream when a second request comes).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.peers import _model
from tests.peers._proxy import CountingProxy

STARTUP = 120.0  # seconds for the server to answer (it loads in about one here)
STOP = 10.0  # seconds for it to exit on SIGTERM before it is killed


@dataclass(frozen=True)
class Peer:
    """The running server: where it listens, its key (never printed), its model's id."""

    port: int
    api_key: str
    model: str
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __repr__(self) -> str:
        return f"Peer(port={self.port}, model={self.model!r})"


def _python() -> str:
    python = os.environ.get("AURA_PEER_PYTHON")
    if not python:
        pytest.fail("AURA_PEER_PYTHON is not set: run these tests with `make test-peers`")
    return python


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


def _tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_ready(process: subprocess.Popen[bytes], peer: Peer) -> None:
    deadline = time.monotonic() + STARTUP
    headers = {"Authorization": f"Bearer {peer.api_key}"}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{_tail(peer.log)}")
        try:
            if httpx.get(f"{peer.base_url}/models", headers=headers, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"llama_cpp.server did not answer within {STARTUP:.0f} s:\n{_tail(peer.log)}")


@pytest.fixture(scope="session")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    """The llama-cpp-python server, started once for the session and stopped at its end."""
    python = _python()
    workdir = tmp_path_factory.mktemp("peer")
    model = workdir / "tiny.gguf"
    subprocess.run([python, _model.__file__, str(model)], check=True, timeout=120)
    peer = Peer(
        port=_free_port(),
        api_key=f"peer-key-{secrets.token_hex(8)}",
        model="tiny-openchat",
        log=workdir / "server.log",
    )
    command = [
        *(python, "-m", "llama_cpp.server", "--model", str(model)),
        *("--model_alias", peer.model, "--chat_format", "openchat"),
        *("--host", "127.0.0.1", "--port", str(peer.port), "--n_ctx", str(_model.N_CTX)),
        *("--api_key", peer.api_key),
    ]
    with peer.log.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(process, peer)
        yield peer
    finally:
        process.terminate()
        try:
            process.wait(STOP)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP)


@pytest.fixture
def proxy(peer: Peer) -> Iterator[CountingProxy]:
    """A proxy in front of the server that counts the TCP connections it is sent."""
    with CountingProxy(peer.port) as proxy:
        yield proxy
