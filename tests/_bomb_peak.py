"""Peak memory while a 1 GiB gzip bomb is read: ``python -m tests._bomb_peak CLIENT CAP``.

Run in a fresh interpreter by ``test_faults_bombs.test_peak_memory`` (and by hand,
to see the numbers). ``CLIENT`` is ``sync``, ``asyncio`` or ``trio``. For each call
(a chat reply, an error body, ``/api/models``) a raw-socket peer on 127.0.0.1 sends
the bomb; what is measured is ``tracemalloc``'s peak above the level before the
call (every bytes object zlib makes is traced) and the growth of the process's
``ru_maxrss``. Prints one JSON object: call -> numbers and outcome.
"""

from __future__ import annotations

import json
import resource
import sys
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from aura_sdk import (
    AsyncAuraClient,
    AuraClient,
    InternalServerError,
    ResponseTooLargeError,
    Timeout,
    user,
)
from tests._hostile import Peer, chunked, gzip_bomb, head, hostile

GIB = 1 << 30
FAST = Timeout(connect=5, response=5, read=5, write=5, pool=5)
EXPECTED = {
    "chat": "ResponseTooLargeError",
    "error": "InternalServerError",
    "models": "ResponseTooLargeError",
}


def _wire(status: str, bomb: bytes) -> bytes:
    parts = [bomb[i : i + 65536] for i in range(0, len(bomb), 65536)]
    return head(status, {"Content-Encoding": "gzip"}) + chunked(*parts)


def _maxrss() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # KiB on Linux


def _measure(outcome: Callable[[], str], call: str) -> dict[str, Any]:
    rss = _maxrss()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    try:
        seen = outcome()
    finally:
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return _numbers(seen, call, peak, _maxrss() - rss)


async def _ameasure(outcome: Callable[[], Awaitable[str]], call: str) -> dict[str, Any]:
    rss = _maxrss()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    try:
        seen = await outcome()
    finally:
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return _numbers(seen, call, peak, _maxrss() - rss)


def _numbers(seen: str, call: str, peak: int, growth: int) -> dict[str, Any]:
    return {
        "outcome": seen,
        "expected": EXPECTED[call],
        "traced_peak": peak,
        "maxrss_growth": growth,
    }


def _name(exc: BaseException) -> str:
    if isinstance(exc, (ResponseTooLargeError, InternalServerError)):
        return type(exc).__name__
    return repr(exc)


def main(client: str, cap: int) -> dict[str, Any]:
    bomb = gzip_bomb(GIB)
    wires = {"chat": _wire("200 OK", bomb), "error": _wire("500 Internal Server Error", bomb)}
    wires["models"] = wires["chat"]
    results: dict[str, Any] = {}
    for call, wire in wires.items():

        def script(peer: Peer, wire: bytes = wire) -> None:
            peer.send(wire)

        with hostile(script) as server:
            kwargs: dict[str, Any] = {
                "base_url": server.base_url,
                "max_retries": 0,
                "max_response_bytes": cap,
                "timeout": FAST,
            }
            # The client is made before measuring: only the call is measured.
            if client == "sync":
                with AuraClient(**kwargs) as sync_client:

                    def run(c: AuraClient = sync_client, call: str = call) -> str:
                        try:
                            c.models() if call == "models" else c.chat([user("Hi")])
                        except Exception as exc:
                            return _name(exc)
                        return "no error"

                    results[call] = _measure(run, call)
                continue

            async def arun(kwargs: dict[str, Any] = kwargs, call: str = call) -> dict[str, Any]:
                async with AsyncAuraClient(**kwargs) as c:

                    async def once() -> str:
                        try:
                            await (c.models() if call == "models" else c.chat([user("Hi")]))
                        except Exception as exc:
                            return _name(exc)
                        return "no error"

                    return await _ameasure(once, call)

            results[call] = anyio.run(arun, backend=client)
    return results


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
