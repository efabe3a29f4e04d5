"""One measurement in a fresh process: ``python -m benchmarks.worker SCENARIO CONTENDER URL PARAMS``.

Prints one JSON object. A fresh process per measurement keeps contenders from
sharing warm caches, garbage or memory, and makes peak memory per contender.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from aura_sdk import AsyncAuraClient, AuraClient, Timeout, user
from aura_sdk._http import DEFAULT_LIMITS
from benchmarks import openai_worker, stacks_worker

HI = [user("Hi")]
TIMEOUT = Timeout(connect=30, response=60, read=60, write=30, pool=120)
LIMITS = DEFAULT_LIMITS  # raw httpx gets the same pool as the SDK's own client
PATH = "/api/chat"
BODY = b'{"model":{"id":"openchat_3.6"},"messages":[{"role":"user","content":"Hi"}]}'


def rss() -> int:
    """Resident memory now, in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- one reply: a function that reads it all and returns the bytes or chars seen --


def sync_reader(contender: str, url: str) -> tuple[Callable[[], int], Callable[[], None]]:
    if contender == "aura-sync":
        client = AuraClient(base_url=url, timeout=TIMEOUT)

        def read() -> int:
            return sum(len(t) for t in client.stream(HI))

        return read, client.close
    http = httpx.Client(timeout=60)

    def read_raw() -> int:
        with http.stream("POST", url + PATH, content=BODY) as response:
            return sum(len(b) for b in response.iter_raw())

    return read_raw, http.close


def async_reader(
    contender: str, url: str
) -> tuple[Callable[[], Awaitable[int]], Callable[[], Awaitable[None]]]:
    if contender.startswith("aura-aiohttp"):
        from httpx_aiohttp import HttpxAiohttpClient

        client = AsyncAuraClient(
            base_url=url, timeout=TIMEOUT, http_client=HttpxAiohttpClient(limits=LIMITS)
        )

        async def read_aio() -> int:
            return sum([len(t) async for t in client.stream(HI)])

        async def close_aio() -> None:
            await client._http.aclose()

        return read_aio, close_aio
    if contender.startswith("aura"):
        client = AsyncAuraClient(base_url=url, timeout=TIMEOUT)  # its own pool: 1,000 connections

        async def read() -> int:
            return sum([len(t) async for t in client.stream(HI)])

        async def close() -> None:
            await client.aclose()

        return read, close
    if contender == "seed-aiohttp":
        import aiohttp

        session: list[aiohttp.ClientSession] = []

        async def read_seed() -> int:
            if not session:
                session.append(aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2000)))
            async with session[0].post(url + PATH, data=BODY) as response:
                n = 0
                async for chunk in response.content.iter_any():
                    n += len(chunk.decode(errors="ignore"))  # the seed meant this (it wrote error=)
                return n

        async def close_seed() -> None:
            await session[0].close()

        return read_seed, close_seed
    http = httpx.AsyncClient(timeout=60, limits=LIMITS)

    async def read_raw() -> int:
        async with http.stream("POST", url + PATH, content=BODY) as response:
            return sum([len(b) async for b in response.aiter_raw()])

    return read_raw, http.aclose


def backend(contender: str) -> str:
    return "trio" if contender.endswith("trio") else "asyncio"


# --- scenarios ---------------------------------------------------------------------


def throughput(contender: str, url: str, params: dict[str, Any]) -> dict[str, Any]:
    repeats = params["repeats"]
    if contender == "server-ceiling":
        return _ceiling(url, repeats)
    times: list[float] = []
    size = 0
    if contender in ("aura-sync", "httpx-sync"):
        read, close = sync_reader(contender, url)
        read()  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            size = read()
            times.append(time.perf_counter() - start)
        close()
    else:
        import anyio

        async def main() -> None:
            nonlocal size
            aread, aclose = async_reader(contender, url)
            await aread()
            for _ in range(repeats):
                start = time.perf_counter()
                size = await aread()
                times.append(time.perf_counter() - start)
            await aclose()

        anyio.run(main, backend=backend(contender))
    return {"seconds": statistics.median(times), "size": size}


def _ceiling(url: str, repeats: int) -> dict[str, Any]:
    """The server alone: a raw socket reads the whole answer, nothing parsed."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    request = (
        f"POST {PATH} HTTP/1.1\r\nhost: x\r\ncontent-length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    times = []
    with socket.create_connection((host, int(port))) as sock:
        buffer = bytearray(1 << 20)
        for _ in range(repeats + 1):
            start = time.perf_counter()
            sock.sendall(request)
            tail = b""
            while not tail.endswith(b"0\r\n\r\n"):
                n = sock.recv_into(buffer)
                tail = (tail + bytes(buffer[:n]))[-5:]
            times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times[1:]), "size": 0}


def first_chunk(contender: str, url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Median time from the call to the first chunk of a short reply (connection reused)."""
    repeats = params["repeats"]
    samples: list[float] = []
    if contender in ("aura-sync", "httpx-sync"):
        client = AuraClient(base_url=url, timeout=TIMEOUT) if contender == "aura-sync" else None
        http = httpx.Client(timeout=60)
        for i in range(repeats + 5):
            start = time.perf_counter()
            if client is not None:
                with client.stream(HI) as stream:
                    next(stream)
                    elapsed = time.perf_counter() - start
                    for _ in stream:
                        pass
            else:
                with http.stream("POST", url + PATH, content=BODY) as response:
                    chunks = response.iter_raw()
                    next(chunks)
                    elapsed = time.perf_counter() - start
                    for _ in chunks:
                        pass
            if i >= 5:
                samples.append(elapsed)
        http.close()
        if client is not None:
            client.close()
    else:
        import anyio

        async def main() -> None:
            aread_first = await _async_first(contender, url)
            for i in range(repeats + 5):
                elapsed = await aread_first()
                if i >= 5:
                    samples.append(elapsed)

        anyio.run(main, backend=backend(contender))
    return {"seconds": statistics.median(samples)}


async def _async_first(contender: str, url: str) -> Callable[[], Awaitable[float]]:
    if contender.startswith("aura"):
        if contender.startswith("aura-aiohttp"):
            from httpx_aiohttp import HttpxAiohttpClient

            client = AsyncAuraClient(
                base_url=url, timeout=TIMEOUT, http_client=HttpxAiohttpClient(limits=LIMITS)
            )
        else:
            client = AsyncAuraClient(base_url=url, timeout=TIMEOUT)

        async def first() -> float:
            start = time.perf_counter()
            async with client.stream(HI) as stream:
                await stream.__anext__()
                elapsed = time.perf_counter() - start
                async for _ in stream:
                    pass
            return elapsed

        return first
    if contender == "seed-aiohttp":
        import aiohttp

        session = aiohttp.ClientSession()

        async def first_seed() -> float:
            start = time.perf_counter()
            async with session.post(url + PATH, data=BODY) as response:
                chunks = response.content.iter_any()
                (await chunks.__anext__()).decode(errors="ignore")
                elapsed = time.perf_counter() - start
                async for _ in chunks:
                    pass
            return elapsed

        return first_seed
    raw = httpx.AsyncClient(limits=LIMITS)

    async def first_raw() -> float:
        start = time.perf_counter()
        async with raw.stream("POST", url + PATH, content=BODY) as response:
            chunks = response.aiter_raw()
            await chunks.__anext__()
            elapsed = time.perf_counter() - start
            async for _ in chunks:
                pass
            await chunks.aclose()  # type: ignore[attr-defined]
        return elapsed

    return first_raw


def concurrent(contender: str, url: str, params: dict[str, Any]) -> dict[str, Any]:
    """``streams`` replies open at once on one event loop: time, and memory per open stream."""
    import anyio

    streams = params["streams"]
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    out: dict[str, Any] = {}

    async def main() -> None:
        if contender.startswith("aura"):
            if contender.startswith("aura-aiohttp"):
                from httpx_aiohttp import HttpxAiohttpClient

                http: Any = HttpxAiohttpClient(limits=LIMITS, timeout=60)
                client = AsyncAuraClient(base_url=url, timeout=TIMEOUT, http_client=http)
            else:
                client = AsyncAuraClient(base_url=url, timeout=TIMEOUT)  # 1,000 connections
                http = client._http

            def open_stream() -> Any:
                return client.stream(HI)
        else:
            http = httpx.AsyncClient(limits=LIMITS, timeout=60)

            def open_stream() -> Any:
                return http.stream("POST", url + PATH, content=BODY)

        opened = 0
        all_open = anyio.Event()
        base = rss()

        async def one() -> None:
            nonlocal opened
            async with open_stream() as stream:
                chunks = stream if contender.startswith("aura") else stream.aiter_raw()
                await chunks.__anext__()
                opened += 1
                if opened == streams:
                    out["rss_open"] = rss()
                    all_open.set()
                async for _ in chunks:
                    pass
                if not contender.startswith("aura"):
                    await chunks.aclose()

        start = time.perf_counter()
        async with anyio.create_task_group() as tasks:
            for _ in range(streams):
                tasks.start_soon(one)
        out["seconds"] = time.perf_counter() - start
        out["per_stream"] = (out["rss_open"] - base) / streams
        await http.aclose()

    anyio.run(main, backend=backend(contender))
    out["peak_rss"] = peak_rss()
    return out


SCENARIOS = {
    "throughput": throughput,
    "first_chunk": first_chunk,
    "concurrent": concurrent,
    "openai_throughput": openai_worker.throughput,
    "openai_first_text": openai_worker.first_text,
    "openai_sequential": openai_worker.sequential,
    "stacks_throughput": stacks_worker.throughput,
    "stacks_first": stacks_worker.first_text,
}

if __name__ == "__main__":
    scenario, contender, url, params = (
        sys.argv[1],
        sys.argv[2],
        sys.argv[3],
        json.loads(sys.argv[4]),
    )
    print(json.dumps(SCENARIOS[scenario](contender, url, params)))
