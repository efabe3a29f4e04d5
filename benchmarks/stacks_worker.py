"""The stacks section: the SDK over a caller's httpx2 client against over an httpx one.

Run by ``benchmarks.worker`` (scenarios ``stacks_throughput`` and ``stacks_first``).
A contender is ``{dialect}-{stack}-{facade}``, e.g. ``openai-httpx2-trio``: the
SDK's client in that dialect, over ``http_client=`` a client of that stack made
with the same pool limits as the SDK's own, reading the raw server's long stream
(throughput) or its short one (time to first text, connection reused). The two
stacks run the same SDK code above the transport, so their ratio is the stack's.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from aura_sdk import AsyncAuraClient, AuraClient, DialectName, Timeout, user
from aura_sdk._http import DEFAULT_LIMITS
from benchmarks import openai_worker

HI = [user("Hi")]
TIMEOUT = Timeout(connect=30, response=60, read=60, write=30, pool=120)
STACKS = ("httpx", "httpx2")
FACADES = ("sync", "asyncio", "trio")
DIALECTS: tuple[DialectName, ...] = ("aura", "openai")
CONTENDERS = [f"{d}-{s}-{f}" for d in DIALECTS for f in FACADES for s in STACKS]


def _parts(contender: str) -> tuple[DialectName, Any, str]:
    name, stack, facade = contender.split("-")
    dialect: DialectName = "openai" if name == "openai" else "aura"
    return dialect, importlib.import_module(stack), facade


def _kwargs(dialect: DialectName, url: str) -> dict[str, Any]:
    base = url + "/v1" if dialect == "openai" else url
    key = {"api_key": "sk-bench-not-a-secret"} if dialect == "openai" else {}
    return {"base_url": base, "dialect": dialect, "timeout": TIMEOUT, **key}


def _limits(stack: Any) -> Any:
    return stack.Limits(
        max_connections=DEFAULT_LIMITS.max_connections,
        max_keepalive_connections=DEFAULT_LIMITS.max_keepalive_connections,
        keepalive_expiry=DEFAULT_LIMITS.keepalive_expiry,
    )


def _sync(contender: str, url: str) -> tuple[Callable[[], Iterator[str]], Callable[[], None]]:
    dialect, stack, _ = _parts(contender)
    http = stack.Client(limits=_limits(stack))
    client = AuraClient(http_client=http, **_kwargs(dialect, url))

    def close() -> None:
        client.close()
        http.close()

    return lambda: iter(client.stream(HI)), close


def _async(
    contender: str, url: str
) -> tuple[Callable[[], AsyncIterator[str]], Callable[[], Awaitable[None]]]:
    dialect, stack, _ = _parts(contender)
    http = stack.AsyncClient(limits=_limits(stack))
    client = AsyncAuraClient(http_client=http, **_kwargs(dialect, url))

    async def aclose() -> None:
        await client.aclose()
        await http.aclose()

    return lambda: client.stream(HI).__aiter__(), aclose


def throughput(contender: str, url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Median seconds to read the whole long stream (after one warm-up), and its characters."""
    sync = contender.endswith("-sync")
    return openai_worker.timed(sync, _sync, _async, contender, url, params["repeats"])


def first_text(contender: str, url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Median time from the call to the first text of a short stream (5 warm-ups)."""
    sync = contender.endswith("-sync")
    return openai_worker.timed_first(sync, _sync, _async, contender, url, params["repeats"])
