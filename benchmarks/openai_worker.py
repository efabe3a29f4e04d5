"""The OpenAI-dialect section: one measurement in a fresh process.

Run by ``benchmarks.worker`` (scenarios ``openai_throughput``,
``openai_first_text`` and ``openai_sequential``). Every contender reads the same SSE stream, from the
raw server's ``sse-long`` or ``sse-short`` port, as text pieces:

- ``aura-openai-*``: the SDK's ``dialect="openai"``, ``client.stream(...)``;
- ``openai-*``: openai-python's ``client.chat.completions.create(..., stream=True)``,
  taking ``choices[0].delta.content`` of each chunk (what its users write);
- ``httpx-sse-*``: raw httpx, the floor: ``iter_bytes``, a split on blank lines,
  ``json.loads`` per ``data:`` event, nothing checked.

Each contender is one function that starts a request and returns an iterator
of the reply's non-empty text pieces; exhausting it ends the request. That way
throughput and time to first text run the same code per contender.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx

from aura_sdk import AsyncAuraClient, AuraClient, Timeout, user
from aura_sdk._http import DEFAULT_LIMITS

HI = [user("Hi")]
MODEL = "openchat_3.6"
KEY = "sk-bench-not-a-secret"
TIMEOUT = Timeout(connect=30, response=60, read=60, write=30, pool=120)
PATH = "/chat/completions"  # under base_url, which ends in /v1
BODY = json.dumps(
    {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "stream": True}
).encode()
HEADERS = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}

SYNC = ("aura-openai-sync", "openai-sync", "httpx-sse-sync")
ASYNC = (
    "aura-openai-asyncio",
    "openai-asyncio",
    "httpx-sse-asyncio",
    "aura-openai-trio",
    "openai-trio",
    "httpx-sse-trio",
)

Texts = Callable[[], Iterator[str]]
AsyncTexts = Callable[[], AsyncIterator[str]]
# What starts a contender's requests: (contender, url) -> (texts, close).
SyncOpener = Callable[[str, str], tuple[Texts, Callable[[], None]]]
AsyncOpener = Callable[[str, str], tuple[AsyncTexts, Callable[[], Awaitable[None]]]]


def _content(payload: bytes) -> str | None:
    """The text of one ``data:`` payload, or None (the role chunk, the finish chunk)."""
    chunk = json.loads(payload)
    content: str | None = chunk["choices"][0]["delta"].get("content")
    return content


def sync_texts(contender: str, url: str) -> tuple[Texts, Callable[[], None]]:
    if contender == "aura-openai-sync":
        client = AuraClient(
            base_url=url + "/v1", dialect="openai", api_key=KEY, model=MODEL, timeout=TIMEOUT
        )

        def aura() -> Iterator[str]:
            return iter(client.stream(HI))

        return aura, client.close
    if contender == "openai-sync":
        from openai import OpenAI

        oa = OpenAI(base_url=url + "/v1", api_key=KEY)

        def openai() -> Iterator[str]:
            stream = oa.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            for chunk in stream:
                content = chunk.choices[0].delta.content
                if content:
                    yield content

        return openai, oa.close
    http = httpx.Client(timeout=60, limits=DEFAULT_LIMITS)

    def raw() -> Iterator[str]:
        with http.stream("POST", url + "/v1" + PATH, content=BODY, headers=HEADERS) as response:
            chunks = response.iter_bytes()
            buffer = b""
            for data in chunks:
                *events, buffer = (buffer + data).split(b"\n\n")
                for event in events:
                    if not event.startswith(b"data: "):
                        continue
                    if event == b"data: [DONE]":
                        for _ in chunks:  # read the end of the body: the connection is reused
                            pass
                        return
                    content = _content(event[6:])
                    if content:
                        yield content

    return raw, http.close


def async_texts(contender: str, url: str) -> tuple[AsyncTexts, Callable[[], Awaitable[None]]]:
    if contender.startswith("aura-openai"):
        client = AsyncAuraClient(
            base_url=url + "/v1", dialect="openai", api_key=KEY, model=MODEL, timeout=TIMEOUT
        )

        def aura() -> AsyncIterator[str]:
            return client.stream(HI).__aiter__()

        return aura, client.aclose
    if contender.startswith("openai"):
        from openai import AsyncOpenAI

        oa = AsyncOpenAI(base_url=url + "/v1", api_key=KEY)

        async def openai() -> AsyncIterator[str]:
            stream = await oa.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            async for chunk in stream:
                content = chunk.choices[0].delta.content
                if content:
                    yield content

        return openai, oa.close
    http = httpx.AsyncClient(timeout=60, limits=DEFAULT_LIMITS)

    async def raw() -> AsyncIterator[str]:
        async with http.stream(
            "POST", url + "/v1" + PATH, content=BODY, headers=HEADERS
        ) as response:
            chunks = response.aiter_bytes()
            buffer = b""
            async for data in chunks:
                *events, buffer = (buffer + data).split(b"\n\n")
                for event in events:
                    if not event.startswith(b"data: "):
                        continue
                    if event == b"data: [DONE]":
                        async for _ in chunks:  # read the end of the body: the connection is reused
                            pass
                        return
                    content = _content(event[6:])
                    if content:
                        yield content

    return raw, http.aclose


def backend(contender: str) -> str:
    return "trio" if contender.endswith("trio") else "asyncio"


def throughput(contender: str, url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Median seconds to read the whole long stream (after one warm-up), and its characters."""
    sync = contender in SYNC
    return timed(sync, sync_texts, async_texts, contender, url, params["repeats"])


def timed(
    sync: bool,
    sync_texts: SyncOpener,
    async_texts: AsyncOpener,
    contender: str,
    url: str,
    repeats: int,
) -> dict[str, Any]:
    """``throughput``, over any contender's ``sync_texts`` or ``async_texts`` (the stacks
    section's too)."""
    times: list[float] = []
    size = 0
    if sync:
        texts, close = sync_texts(contender, url)
        sum(len(t) for t in texts())  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            size = sum(len(t) for t in texts())
            times.append(time.perf_counter() - start)
        close()
    else:
        import anyio

        async def main() -> None:
            nonlocal size
            atexts, aclose = async_texts(contender, url)
            [t async for t in atexts()]  # warm-up
            for _ in range(repeats):
                start = time.perf_counter()
                size = sum([len(t) async for t in atexts()])
                times.append(time.perf_counter() - start)
            await aclose()

        anyio.run(main, backend=backend(contender))
    return {"seconds": statistics.median(times), "size": size}


def first_text(contender: str, url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Median time from the call to the first text piece of a short stream (5 warm-ups)."""
    sync = contender in SYNC
    return timed_first(sync, sync_texts, async_texts, contender, url, params["repeats"])


def timed_first(
    sync: bool,
    sync_texts: SyncOpener,
    async_texts: AsyncOpener,
    contender: str,
    url: str,
    repeats: int,
) -> dict[str, Any]:
    """``first_text``, over any contender's ``sync_texts`` or ``async_texts``."""
    samples: list[float] = []
    size = 0
    if sync:
        texts, close = sync_texts(contender, url)
        for i in range(repeats + 5):
            start = time.perf_counter()
            pieces = texts()
            size = len(next(pieces))
            elapsed = time.perf_counter() - start
            size += sum(len(t) for t in pieces)
            if i >= 5:
                samples.append(elapsed)
        close()
    else:
        import anyio

        async def main() -> None:
            nonlocal size
            atexts, aclose = async_texts(contender, url)
            for i in range(repeats + 5):
                start = time.perf_counter()
                pieces = atexts()
                size = len(await pieces.__anext__())
                elapsed = time.perf_counter() - start
                size += sum([len(t) async for t in pieces])
                if i >= 5:
                    samples.append(elapsed)
            await aclose()

        anyio.run(main, backend=backend(contender))
    return {"seconds": statistics.median(samples), "size": size}


def sequential(contender: str, url: str, params: dict[str, Any]) -> dict[str, Any]:
    """``repeats`` short streams one after another over one client, each read to its
    end: the seconds for all, and how many TCP connections they took (the raw
    server's ``sse-seq`` names its connection in each reply's id)."""
    repeats = params["repeats"]
    ids: set[str] = set()
    if contender in SYNC:
        stream_id, close = _sync_ids(contender, url)
        start = time.perf_counter()
        for _ in range(repeats):
            ids.add(stream_id())
        seconds = time.perf_counter() - start
        close()
    else:
        import anyio

        seconds = 0.0

        async def main() -> None:
            nonlocal seconds
            astream_id, aclose = _async_ids(contender, url)
            start = time.perf_counter()
            for _ in range(repeats):
                ids.add(await astream_id())
            seconds = time.perf_counter() - start
            await aclose()

        anyio.run(main, backend=backend(contender))
    return {"seconds": seconds, "streams": repeats, "connections": len(ids)}


def _sync_ids(contender: str, url: str) -> tuple[Callable[[], str], Callable[[], None]]:
    if contender == "aura-openai-sync":
        client = AuraClient(
            base_url=url + "/v1", dialect="openai", api_key=KEY, model=MODEL, timeout=TIMEOUT
        )

        def aura() -> str:
            stream = client.stream(HI)
            with stream:
                for _ in stream:
                    pass
            return stream.id or ""

        return aura, client.close
    if contender == "openai-sync":
        from openai import OpenAI

        oa = OpenAI(base_url=url + "/v1", api_key=KEY)

        def openai() -> str:
            stream = oa.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            ids = [chunk.id for chunk in stream]  # read to the end, as its users do
            return ids[0]

        return openai, oa.close
    http = httpx.Client(timeout=60, limits=DEFAULT_LIMITS)

    def raw() -> str:
        with http.stream("POST", url + "/v1" + PATH, content=BODY, headers=HEADERS) as response:
            body = response.read()
        first = body.split(b"\n\n", 1)[0]
        ident: str = json.loads(first[6:])["id"]
        return ident

    return raw, http.close


def _async_ids(
    contender: str, url: str
) -> tuple[Callable[[], Awaitable[str]], Callable[[], Awaitable[None]]]:
    if contender.startswith("aura-openai"):
        client = AsyncAuraClient(
            base_url=url + "/v1", dialect="openai", api_key=KEY, model=MODEL, timeout=TIMEOUT
        )

        async def aura() -> str:
            stream = client.stream(HI)
            async with stream:
                async for _ in stream:
                    pass
            return stream.id or ""

        return aura, client.aclose
    if contender.startswith("openai"):
        from openai import AsyncOpenAI

        oa = AsyncOpenAI(base_url=url + "/v1", api_key=KEY)

        async def openai() -> str:
            stream = await oa.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            ids = [chunk.id async for chunk in stream]  # read to the end, as its users do
            return ids[0]

        return openai, oa.close
    http = httpx.AsyncClient(timeout=60, limits=DEFAULT_LIMITS)

    async def raw() -> str:
        async with http.stream(
            "POST", url + "/v1" + PATH, content=BODY, headers=HEADERS
        ) as response:
            body = await response.aread()
        first = body.split(b"\n\n", 1)[0]
        ident: str = json.loads(first[6:])["id"]
        return ident

    return raw, http.aclose
