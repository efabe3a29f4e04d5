"""``make bench``: the SDK against raw httpx, the seed's aiohttp approach and the peers.

The OpenAI-dialect section puts ``dialect="openai"`` beside openai-python and a
raw httpx SSE reader on one OpenChat-shaped stream (``benchmarks.openai_worker``).
The stacks section puts the SDK over a caller's httpx2 client beside the SDK over
an httpx one, in both dialects (``benchmarks.stacks_worker``).

Everything runs in one go on 127.0.0.1, each measurement in a fresh process,
contenders interleaved round by round; results are medians, compared as ratios
to raw httpx measured in the same run. Writes ``docs/benchmarks.md`` and its
chart, prints the table, and exits 1 if a target is missed (0 with ``--smoke``,
which only checks that every contender ran).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import openai_worker, stacks_worker
from benchmarks.rawserver import DELTA

ROOT = Path(__file__).resolve().parent.parent
SYNC = ["aura-sync", "httpx-sync"]
ASYNC = [
    "aura-asyncio",
    "httpx-asyncio",
    "aura-trio",
    "httpx-trio",
    "seed-aiohttp",
    "aura-aiohttp-asyncio",
]
FLOOR = {
    "aura-sync": "httpx-sync",
    "aura-asyncio": "httpx-asyncio",
    "aura-trio": "httpx-trio",
    "seed-aiohttp": "httpx-asyncio",
    "aura-aiohttp-asyncio": "httpx-asyncio",
}
IMPORTS = ["httpx", "aura_sdk", "aiohttp", "ollama", "openai", "anthropic"]
OPENAI = [*openai_worker.SYNC, *openai_worker.ASYNC]
# The SDK's openai dialect against openai-python and against raw httpx, facade by facade.
OPENAI_PEER = {
    "aura-openai-sync": "openai-sync",
    "aura-openai-asyncio": "openai-asyncio",
    "aura-openai-trio": "openai-trio",
}
OPENAI_FLOOR = {
    "aura-openai-sync": "httpx-sse-sync",
    "openai-sync": "httpx-sse-sync",
    "aura-openai-asyncio": "httpx-sse-asyncio",
    "openai-asyncio": "httpx-sse-asyncio",
    "aura-openai-trio": "httpx-sse-trio",
    "openai-trio": "httpx-sse-trio",
}


@dataclass(frozen=True)
class Sizes:
    chunks: int  # of the long reply
    repeats: int  # timed replies per worker
    first_repeats: int  # timed short replies per worker
    streams: int  # concurrent streams
    rounds: int  # workers per contender, interleaved
    concurrent_rounds: int  # the same, for the (slow) concurrent scenario
    import_runs: int
    events: int  # content deltas of the long OpenAI-dialect stream
    openai_repeats: int  # timed long streams per worker, OpenAI section
    sequential: int  # sequential short streams per worker, OpenAI section


FULL = Sizes(
    chunks=100_000,
    repeats=3,
    first_repeats=300,
    streams=1000,
    rounds=5,
    concurrent_rounds=3,
    import_runs=9,
    events=5_000,
    openai_repeats=5,
    sequential=300,
)
SMOKE = Sizes(
    chunks=500,
    repeats=1,
    first_repeats=5,
    streams=20,
    rounds=1,
    concurrent_rounds=1,
    import_runs=1,
    events=200,
    openai_repeats=1,
    sequential=5,
)
SCENARIOS = ("throughput", "first_chunk", "concurrent", "imports", "openai", "stacks")
SHORT_DELTAS = 3  # content deltas of the short OpenAI-dialect stream (rawserver)


def available(module: str) -> bool:
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


def worker(scenario: str, contender: str, url: str, params: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", scenario, contender, url, json.dumps(params)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{scenario}/{contender} failed:\n{result.stderr}")
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def import_time(module: str, runs: int) -> float | None:
    """Median cold import in ms (``-X importtime``'s cumulative time), fresh processes."""
    if not available(module):
        return None
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        line = [ln for ln in out.splitlines() if re.search(rf"\| {re.escape(module)}$", ln)][-1]
        samples.append(int(line.split("|")[1]) / 1000)
    return statistics.median(samples)


def run(sizes: Sizes, scenarios: tuple[str, ...] = SCENARIOS) -> dict[str, Any]:
    contenders = [
        c for c in SYNC + ASYNC if c != "aura-aiohttp-asyncio" or available("httpx_aiohttp")
    ]
    if not available("aiohttp"):
        contenders.remove("seed-aiohttp")
    dialect = [c for c in OPENAI if not c.startswith("openai-") or available("openai")]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.rawserver",
            str(sizes.chunks),
            str(sizes.streams),
            str(sizes.events),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert server.stdout is not None
    ports = json.loads(server.stdout.readline())
    urls = {mode: f"http://127.0.0.1:{port}" for mode, port in ports.items()}
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {
        "throughput": {},
        "first_chunk": {},
        "concurrent": {},
        "openai_throughput": {},
        "openai_first_text": {},
        "openai_sequential": {},
        "stacks_throughput": {},
        "stacks_first": {},
    }
    # httpx2 installs on Python 3.10+ only: without it the stacks section is left out.
    stacks = stacks_worker.CONTENDERS if available("httpx2") else []
    try:
        for round_ in range(sizes.rounds):
            order = contenders if round_ % 2 == 0 else contenders[::-1]
            if "throughput" in scenarios:
                for contender in ["server-ceiling", *order]:
                    raw["throughput"].setdefault(contender, []).append(
                        worker("throughput", contender, urls["long"], {"repeats": sizes.repeats})
                    )
            if "first_chunk" in scenarios:
                for contender in order:
                    params = {"repeats": sizes.first_repeats}
                    raw["first_chunk"].setdefault(contender, []).append(
                        worker("first_chunk", contender, urls["short"], params)
                    )
            if "concurrent" in scenarios and round_ < sizes.concurrent_rounds:
                for contender in [c for c in order if c not in SYNC and c != "seed-aiohttp"]:
                    raw["concurrent"].setdefault(contender, []).append(
                        worker("concurrent", contender, urls["hold"], {"streams": sizes.streams})
                    )
            if "openai" in scenarios:
                for contender in dialect if round_ % 2 == 0 else dialect[::-1]:
                    params = {"repeats": sizes.openai_repeats}
                    raw["openai_throughput"].setdefault(contender, []).append(
                        worker("openai_throughput", contender, urls["sse-long"], params)
                    )
                for contender in dialect if round_ % 2 == 0 else dialect[::-1]:
                    params = {"repeats": sizes.first_repeats}
                    raw["openai_first_text"].setdefault(contender, []).append(
                        worker("openai_first_text", contender, urls["sse-short"], params)
                    )
                for contender in dialect if round_ % 2 == 0 else dialect[::-1]:
                    params = {"repeats": sizes.sequential}
                    raw["openai_sequential"].setdefault(contender, []).append(
                        worker("openai_sequential", contender, urls["sse-seq"], params)
                    )
            if "stacks" in scenarios:
                for contender in stacks if round_ % 2 == 0 else stacks[::-1]:
                    sse = contender.startswith("openai")
                    params = {"repeats": sizes.openai_repeats if sse else sizes.repeats}
                    raw["stacks_throughput"].setdefault(contender, []).append(
                        worker(
                            "stacks_throughput",
                            contender,
                            urls["sse-long" if sse else "long"],
                            params,
                        )
                    )
                    params = {"repeats": sizes.first_repeats}
                    raw["stacks_first"].setdefault(contender, []).append(
                        worker(
                            "stacks_first", contender, urls["sse-short" if sse else "short"], params
                        )
                    )
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
    chunk_bytes = 20
    results: dict[str, Any] = {
        "sizes": sizes.__dict__,
        "throughput": {},
        "first_chunk": {},
        "concurrent": {},
        "openai_throughput": {},
        "openai_first_text": {},
        "openai_sequential": {},
        "stacks_throughput": {},
        "stacks_first": {},
    }
    for contender, runs in raw["throughput"].items():
        seconds = statistics.median(r["seconds"] for r in runs)
        results["throughput"][contender] = {
            "chunks_per_s": sizes.chunks / seconds,
            "mb_per_s": sizes.chunks * chunk_bytes / seconds / 1e6,
        }
    for contender, runs in raw["first_chunk"].items():
        results["first_chunk"][contender] = {
            "ms": statistics.median(r["seconds"] for r in runs) * 1000
        }
    for contender, runs in raw["concurrent"].items():
        results["concurrent"][contender] = {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "kib_per_stream": statistics.median(r["per_stream"] for r in runs) / 1024,
            "peak_mib": statistics.median(r["peak_rss"] for r in runs) / 2**20,
        }
    for scenario, deltas in (
        ("openai_throughput", sizes.events),
        ("openai_first_text", SHORT_DELTAS),
    ):
        for contender, runs in raw[scenario].items():
            sizes_seen = {r["size"] for r in runs}
            if sizes_seen != {deltas * len(DELTA)}:
                raise RuntimeError(
                    f"{scenario}/{contender} read {sizes_seen} characters, "
                    f"not {deltas * len(DELTA)}: it is not reading the whole reply"
                )
    events = sizes.events + 3  # the role chunk, the deltas, the finish chunk, [DONE]
    for contender, runs in raw["openai_throughput"].items():
        seconds = statistics.median(r["seconds"] for r in runs)
        results["openai_throughput"][contender] = {
            "events_per_s": events / seconds,
            "text_mb_per_s": sizes.events * len(DELTA.encode()) / seconds / 1e6,
            "runs": sorted(events / r["seconds"] for r in runs),  # one per process: the spread
        }
    for contender, runs in raw["openai_first_text"].items():
        results["openai_first_text"][contender] = {
            "ms": statistics.median(r["seconds"] for r in runs) * 1000,
            "runs": sorted(r["seconds"] * 1000 for r in runs),
        }
    for contender, runs in raw["openai_sequential"].items():
        results["openai_sequential"][contender] = {
            "streams_per_s": statistics.median(r["streams"] / r["seconds"] for r in runs),
            "connections": max(r["connections"] for r in runs),
            "streams": sizes.sequential,
        }
    for contender, runs in raw["stacks_throughput"].items():
        results["stacks_throughput"][contender] = {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "size": runs[0]["size"],
        }
    for contender, runs in raw["stacks_first"].items():
        results["stacks_first"][contender] = {
            "ms": statistics.median(r["seconds"] for r in runs) * 1000
        }
    results["imports"] = (
        {m: import_time(m, sizes.import_runs) for m in IMPORTS} if "imports" in scenarios else {}
    )
    return results


def ratios(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for contender, floor in FLOOR.items():
        row: dict[str, float] = {}
        t = results["throughput"]
        if contender in t and floor in t:
            row["throughput"] = t[contender]["chunks_per_s"] / t[floor]["chunks_per_s"]
        f = results["first_chunk"]
        if contender in f and floor in f:
            row["first_chunk"] = f[contender]["ms"] / f[floor]["ms"]
        c = results["concurrent"]
        if contender in c and floor in c:
            row["memory"] = c[contender]["kib_per_stream"] / c[floor]["kib_per_stream"]
            row["concurrent_time"] = c[contender]["seconds"] / c[floor]["seconds"]
        out[contender] = row
    return out


def openai_ratios(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """OpenAI section: the SDK to openai-python (``peer_*``), and each to raw httpx (``floor_*``).

    Throughput ratios are events/s over events/s (higher is better), time to
    first text ms over ms (lower is better).
    """
    t, f = results["openai_throughput"], results["openai_first_text"]
    q = results.get("openai_sequential", {})
    out: dict[str, dict[str, float]] = {}
    for prefix, against in (("peer", OPENAI_PEER), ("floor", OPENAI_FLOOR)):
        for contender, other in against.items():
            row = out.setdefault(contender, {})
            if contender in q and other in q:
                row[f"{prefix}_sequential"] = (
                    q[contender]["streams_per_s"] / q[other]["streams_per_s"]
                )
            if contender in t and other in t:
                row[f"{prefix}_throughput"] = (
                    t[contender]["events_per_s"] / t[other]["events_per_s"]
                )
            if contender in f and other in f:
                row[f"{prefix}_first_text"] = f[contender]["ms"] / f[other]["ms"]
    return out


def stack_ratios(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Stacks section, per ``{dialect}-{facade}``: the SDK over httpx2 to the SDK over
    httpx. ``throughput`` is speed over speed (higher is better: above 1, httpx2 is
    faster), ``first_text`` ms over ms (lower is better)."""
    t, f = results.get("stacks_throughput", {}), results.get("stacks_first", {})
    out: dict[str, dict[str, float]] = {}
    for dialect in stacks_worker.DIALECTS:
        for facade in stacks_worker.FACADES:
            one, two = f"{dialect}-httpx-{facade}", f"{dialect}-httpx2-{facade}"
            row: dict[str, float] = {}
            if one in t and two in t:
                row["throughput"] = t[one]["seconds"] / t[two]["seconds"]
            if one in f and two in f:
                row["first_text"] = f[two]["ms"] / f[one]["ms"]
            if row:
                out[f"{dialect}-{facade}"] = row
    return out


def stacks_report(results: dict[str, Any], rows: dict[str, dict[str, float]]) -> list[str]:
    t, f = results.get("stacks_throughput", {}), results.get("stacks_first", {})
    if not t:
        return []
    lines = [
        "",
        "## Both stacks: the SDK over an httpx2 client against over an httpx one",
        "",
        "`AuraClient` / `AsyncAuraClient` with `http_client=` an `httpx2` client and an",
        "`httpx` one, each made with the SDK's own pool limits; the same SDK code runs above",
        "either transport, so the ratio is the stack's. Throughput: the long stream of",
        "each dialect (the aura one: 20-byte plain-text chunks; the openai one: the SSE",
        "stream above); first text: the short stream, connection reused.",
        "",
        "| dialect-facade | httpx s | httpx2 s | throughput httpx2/httpx | first text httpx ms | httpx2 ms | first text httpx2/httpx |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        dialect, facade = name.split("-")
        one, two = f"{dialect}-httpx-{facade}", f"{dialect}-httpx2-{facade}"
        lines.append(
            f"| {name} | {t[one]['seconds']:.3f} | {t[two]['seconds']:.3f} | "
            f"{row.get('throughput', 0):.3f}x | {f[one]['ms']:.3f} | {f[two]['ms']:.3f} | "
            f"{row.get('first_text', 0):.3f}x |"
        )
    return lines


def targets(
    results: dict[str, Any],
    rows: dict[str, dict[str, float]],
    dialect: dict[str, dict[str, float]] | None = None,
) -> list[tuple[str, bool, str]]:
    checks = []
    for contender in ("aura-sync", "aura-asyncio", "aura-trio"):
        r = rows.get(contender, {})
        if "throughput" in r:
            checks.append(
                (
                    f"{contender} throughput >= 0.95x raw httpx",
                    r["throughput"] >= 0.95,
                    f"{r['throughput']:.3f}x",
                )
            )
        if "first_chunk" in r:
            checks.append(
                (
                    f"{contender} time to first chunk <= 1.05x raw httpx",
                    r["first_chunk"] <= 1.05,
                    f"{r['first_chunk']:.3f}x",
                )
            )
        if "memory" in r:
            checks.append(
                (
                    f"{contender} memory per open stream <= 1.10x raw httpx",
                    r["memory"] <= 1.10,
                    f"{r['memory']:.3f}x",
                )
            )
    imports = results["imports"]
    if imports.get("aura_sdk") is not None and imports.get("httpx") is not None:
        extra = imports["aura_sdk"] - imports["httpx"]
        checks.append(("import aura_sdk <= import httpx + 25 ms", extra <= 25, f"+{extra:.1f} ms"))
    for contender, r in (dialect or {}).items():
        if not contender.startswith("aura"):
            continue
        peer, floor = OPENAI_PEER[contender], OPENAI_FLOOR[contender]
        if "peer_throughput" in r:
            checks.append(
                (
                    f"{contender} throughput >= 1.5x {peer}",
                    r["peer_throughput"] >= 1.5,
                    f"{r['peer_throughput']:.3f}x",
                )
            )
        if "peer_first_text" in r:
            checks.append(
                (
                    f"{contender} time to first text <= {peer}",
                    r["peer_first_text"] <= 1.0,
                    f"{r['peer_first_text']:.3f}x",
                )
            )
        if "floor_throughput" in r:
            checks.append(
                (
                    f"{contender} throughput >= 0.9x raw httpx ({floor})",
                    r["floor_throughput"] >= 0.9,
                    f"{r['floor_throughput']:.3f}x",
                )
            )
    return checks


def report(
    results: dict[str, Any],
    rows: dict[str, dict[str, float]],
    checks: list[tuple[str, bool, str]],
    command: str,
    dialect: dict[str, dict[str, float]] | None = None,
) -> str:
    t, f, c = results["throughput"], results["first_chunk"], results["concurrent"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} Linux, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, on 127.0.0.1, with:",
        "",
        "```sh",
        command,
        "```",
        "",
        "Each number is the median of several fresh processes per contender, interleaved;",
        "ratios are to raw httpx measured in the same run (sync to sync, asyncio to asyncio,",
        "trio to trio; the seed's aiohttp approach to httpx on asyncio). The server is a",
        "minimal asyncio one writing pre-built chunks, in its own process; `server-ceiling`",
        "is a raw socket reading its answers, so the server is not the bottleneck.",
        "",
        "![throughput](benchmarks.png)",
        "",
        f"## Streaming throughput ({results['sizes']['chunks']:,} chunks of 20 bytes, multibyte text)",
        "",
        "| contender | chunks/s | MB/s | ratio to raw httpx |",
        "|---|---:|---:|---:|",
    ]
    for name, row in t.items():
        ratio = rows.get(name, {}).get("throughput")
        lines.append(
            f"| {name} | {row['chunks_per_s']:,.0f} | {row['mb_per_s']:.2f} | {'' if ratio is None else f'{ratio:.3f}x'} |"
        )
    lines += [
        "",
        "## Time to first chunk (short reply, connection reused)",
        "",
        "| contender | ms | ratio to raw httpx |",
        "|---|---:|---:|",
    ]
    for name, row in f.items():
        ratio = rows.get(name, {}).get("first_chunk")
        lines.append(f"| {name} | {row['ms']:.3f} | {'' if ratio is None else f'{ratio:.3f}x'} |")
    lines += [
        "",
        f"## {results['sizes']['streams']:,} concurrent streams on one event loop",
        "",
        "| contender | total s | KiB per open stream | peak RSS MiB | memory ratio | time ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in c.items():
        r = rows.get(name, {})
        mem = r.get("memory")
        tim = r.get("concurrent_time")
        lines.append(
            f"| {name} | {row['seconds']:.3f} | {row['kib_per_stream']:.1f} | {row['peak_mib']:.1f} | "
            f"{'' if mem is None else f'{mem:.3f}x'} | {'' if tim is None else f'{tim:.3f}x'} |"
        )
    lines += [
        "",
        "## Cold import (`python -X importtime`, median of fresh processes)",
        "",
        "| module | ms |",
        "|---|---:|",
    ]
    for module, ms in results["imports"].items():
        lines.append(f"| {module} | {'not installed' if ms is None else f'{ms:.1f}'} |")
    lines += openai_report(results, dialect or {})
    if dialect:
        lines += ["", "![OpenAI dialect](benchmarks-openai.png)"]
    lines += stacks_report(results, stack_ratios(results))
    lines += ["", "## Targets", "", "| target | measured | |", "|---|---:|---|"]
    for name, ok, value in checks:
        lines.append(f"| {name} | {value} | {'met' if ok else '**missed**'} |")
    return "\n".join(lines) + "\n"


def openai_report(results: dict[str, Any], dialect: dict[str, dict[str, float]]) -> list[str]:
    t, f = results["openai_throughput"], results["openai_first_text"]
    if not t and not f:
        return []

    def ratio(name: str, key: str) -> str:
        value = dialect.get(name, {}).get(key)
        return "" if value is None else f"{value:.3f}x"

    events = results["sizes"]["events"]
    lines = [
        "",
        "## OpenAI dialect: the SDK, openai-python and raw httpx on one SSE stream",
        "",
        "The raw server streams as OpenChat's own server does (`data: {json}` events,",
        "one per HTTP chunk, JSON not ASCII-escaped): a role-only chunk, content deltas of",
        f"28 characters (about 6 tokens, multibyte: `{DELTA.strip()}`), a finish chunk and",
        '`data: [DONE]`. `aura-openai-*` is `AuraClient(dialect="openai")` and',
        '`AsyncAuraClient(dialect="openai")` iterating `client.stream(...)`; `openai-*` is',
        "openai-python's `chat.completions.create(..., stream=True)` taking",
        "`choices[0].delta.content` (openai-python runs on httpx2, the others on httpx);",
        "`httpx-sse-*`, the floor, is raw httpx: `iter_bytes`, a split on blank lines and",
        "`json.loads` per `data:` event, nothing validated. Ratios compare the same facade:",
        "sync to sync, asyncio to asyncio, trio to trio. openai-python stops reading at",
        "`[DONE]` and so drops the connection, opening a new one for each request",
        "(openai/openai-python#3440); the floor reads the end of the body and reuses it.",
        "",
        f"### Throughput ({events:,} content deltas, {events + 3:,} events per stream)",
        "",
        "| contender | events/s | text MB/s | ratio to openai-python | ratio to raw httpx |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in t.items():
        lines.append(
            f"| {name} | {row['events_per_s']:,.0f} | {row['text_mb_per_s']:.2f} | "
            f"{ratio(name, 'peer_throughput')} | {ratio(name, 'floor_throughput')} |"
        )
    lines += [
        "",
        f"### Time to first text (short stream: {SHORT_DELTAS} deltas, connection reused if the client can)",
        "",
        "| contender | ms | ratio to openai-python | ratio to raw httpx |",
        "|---|---:|---:|---:|",
    ]
    for name, row in f.items():
        lines.append(
            f"| {name} | {row['ms']:.3f} | {ratio(name, 'peer_first_text')} | "
            f"{ratio(name, 'floor_first_text')} |"
        )
    q = results.get("openai_sequential", {})
    if q:
        count = next(iter(q.values()))["streams"]
        lines += [
            "",
            f"### Sequential short streams ({count} one after another over one client, each read to its end)",
            "",
            "On loopback a new connection costs about 0.1 ms; over TLS to a remote server,",
            "about 300 ms each (openai/openai-python#3440), so the connection count is the",
            "number that matters there.",
            "",
            "| contender | streams/s | TCP connections | ratio to openai-python | ratio to raw httpx |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, row in q.items():
            lines.append(
                f"| {name} | {row['streams_per_s']:,.0f} | {row['connections']} | "
                f"{ratio(name, 'peer_sequential')} | {ratio(name, 'floor_sequential')} |"
            )
    return lines


Panels = list[tuple[str, str, "float | None"]]
CHART_PANELS: Panels = [
    ("throughput", "throughput / raw httpx (higher is better)", 0.95),
    ("first_chunk", "time to first chunk / raw httpx (lower is better)", 1.05),
]
OPENAI_PANELS: Panels = [
    ("floor_throughput", "OpenAI dialect: throughput / raw httpx (higher is better)", 0.9),
    ("floor_first_text", "OpenAI dialect: first text / raw httpx (lower is better)", None),
]


def chart(
    rows: dict[str, dict[str, float]],
    path: Path,
    panels: Panels = CHART_PANELS,
) -> None:
    """Ratios to raw httpx: throughput (higher is better), first chunk (lower is better)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, (key, title, target) in zip(axes, panels):
        names = [n for n in rows if key in rows[n]]
        values = [rows[n][key] for n in names]
        if not values:
            continue
        colors = ["#4c72b0" if n.startswith("aura") else "#999999" for n in names]
        ax.barh(names, values, color=colors)
        ax.axvline(1.0, color="black", linewidth=0.8)
        if target is not None:
            ax.axvline(
                target, color="#c44e52", linestyle="--", linewidth=0.8, label=f"target {target}"
            )
        ax.set_xscale("log")
        ax.set_xticks(
            [
                t
                for t in (0.0625, 0.125, 0.25, 0.5, 1, 2, 4, 8)
                if min(values) / 1.5 < t < max(values) * 1.5
            ]
        )
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%gx"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.invert_yaxis()
        ax.set_title(title, fontsize=10)
        if target is not None:
            ax.legend(fontsize=8, loc="lower right")
        for index, value in enumerate(values):
            ax.text(value, index, f" {value:.3f}x", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes: check that everything runs"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs", help="where to write benchmarks.md"
    )
    parser.add_argument(
        "--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS), help="run only these"
    )
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else FULL
    results = run(sizes, tuple(args.only))
    rows = ratios(results)
    dialect = openai_ratios(results)
    checks = targets(results, rows, dialect)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "make bench" if not args.smoke else "python -m benchmarks --smoke"
    text = report(results, rows, checks, command, dialect)
    (args.out / "benchmarks.md").write_text(text)
    (args.out / "benchmarks.json").write_text(
        json.dumps(
            {
                "results": results,
                "ratios": rows,
                "openai_ratios": dialect,
                "stack_ratios": stack_ratios(results),
            },
            indent=2,
        )
    )
    chart(rows, args.out / "benchmarks.png")
    if dialect:
        chart(dialect, args.out / "benchmarks-openai.png", OPENAI_PANELS)
    print(text)
    if args.smoke:
        return 0
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
