"""A real llama-cpp-python server for the peer suite (``make test-peers``).

``$AURA_PEER_PYTHON`` names the Python of the peer's own environment
(``.venv-peers``, where ``llama-cpp-python[server]`` is installed); the suite
itself runs in the SDK's environment. At the start a tiny random-weight GGUF is
written (``make_model.py``, nothing is downloaded) and the server is started on
127.0.0.1 with OpenChat's chat format and a 256-token context. Without the
variable these tests are not collected at all (``tests/conftest.py``); with it,
a peer that cannot start fails every test, loudly.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx
import pytest

collect_ignore = ["make_model.py"]  # run under the peer's Python, which has gguf

HERE = Path(__file__).resolve().parent
CONTEXT = 256
KEY = "sk-peer-secret-4242"
START_LIMIT = 120.0  # seconds for the server to load the model and answer


def peer_python() -> str:
    python = os.environ.get("AURA_PEER_PYTHON", "")
    if not python or not Path(python).exists():
        pytest.fail(
            f"$AURA_PEER_PYTHON must name the peer environment's python (got {python!r}): "
            "run `make test-peers`",
            pytrace=False,
        )
    return python


@dataclass
class Peer:
    """One running server: its base URL (``.../v1``), its model id, its process."""

    base_url: str
    model: str
    process: subprocess.Popen[bytes]
    log: Path
    out: BinaryIO


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(model: Path, log: Path, *extra: str) -> Peer:
    port = _free_port()
    command = [
        peer_python(), "-m", "llama_cpp.server", "--model", str(model),
        "--chat_format", "openchat", "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(CONTEXT), "--n_threads", "1", "--verbose", "False", *extra,
    ]  # fmt: skip
    out = log.open("wb")
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + START_LIMIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out.close()
            pytest.fail(f"the peer exited ({process.returncode}): {log.read_text()[-2000:]}")
        with suppress(httpx.HTTPError):
            headers = {"Authorization": f"Bearer {KEY}"}
            if httpx.get(f"{base_url}/models", headers=headers, timeout=2).status_code == 200:
                return Peer(base_url, str(model), process, log, out)
        time.sleep(0.2)
    process.kill()
    out.close()
    pytest.fail(f"the peer did not answer in {START_LIMIT:g}s: {log.read_text()[-2000:]}")


def _stop(peer: Peer) -> None:
    peer.process.terminate()
    try:
        peer.process.wait(10)
    except subprocess.TimeoutExpired:
        peer.process.kill()
        peer.process.wait(10)
    peer.out.close()


@pytest.fixture(scope="session")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("peer") / "tiny-openchat.gguf"
    subprocess.run([peer_python(), str(HERE / "make_model.py"), str(path)], check=True, timeout=120)
    return path


@pytest.fixture(scope="session")
def llama(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    """llama-cpp-python's server, no key."""
    peer = _start(model, tmp_path_factory.mktemp("log") / "llama.log")
    yield peer
    _stop(peer)


@pytest.fixture(scope="session")
def keyed(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    """The same server with ``--api_key``."""
    peer = _start(model, tmp_path_factory.mktemp("log") / "keyed.log", "--api_key", KEY)
    yield peer
    _stop(peer)


@dataclass
class CountingProxy:
    """A TCP proxy on 127.0.0.1 in front of a peer: counts the connections it accepts."""

    target: tuple[str, int]
    connections: int = 0
    _stopped: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ended: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                continue
            self.connections += 1
            upstream = socket.create_connection(self.target, timeout=10)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        source.settimeout(30)  # bounded: a test never waits longer for a byte
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
        with self._lock:  # the second of the pair to end closes both
            done = self._ended.setdefault(id(sink), 0) + 1
            self._ended[id(source)] = done
        if done > 1:
            source.close()
            sink.close()

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()
        self._thread.join(5)


@pytest.fixture
def proxy(llama: Peer) -> Iterator[CountingProxy]:
    port = int(llama.base_url.rsplit(":", 1)[1].split("/")[0])
    counting = CountingProxy(("127.0.0.1", port))
    yield counting
    counting.close()
