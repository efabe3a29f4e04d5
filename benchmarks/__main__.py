"""``make bench``: the SDK against raw httpx, the seed's aiohttp approach and the peers.

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


@dataclass(frozen=True)
class Sizes:
    chunks: int  # of the long reply
    repeats: int  # timed replies per worker
    first_repeats: int  # timed short replies per worker
    streams: int  # concurrent streams
    rounds: int  # workers per contender, interleaved
    concurrent_rounds: int  # the same, for the (slow) concurrent scenario
    import_runs: int


FULL = Sizes(
    chunks=100_000,
    repeats=3,
    first_repeats=300,
    streams=1000,
    rounds=5,
    concurrent_rounds=3,
    import_runs=9,
)
SMOKE = Sizes(
    chunks=500, repeats=1, first_repeats=5, streams=20, rounds=1, concurrent_rounds=1, import_runs=1
)
SCENARIOS = ("throughput", "first_chunk", "concurrent", "imports")


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
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.rawserver", str(sizes.chunks), str(sizes.streams)],
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
    }
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


def targets(
    results: dict[str, Any], rows: dict[str, dict[str, float]]
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
    return checks


def report(
    results: dict[str, Any],
    rows: dict[str, dict[str, float]],
    checks: list[tuple[str, bool, str]],
    command: str,
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
    lines += ["", "## Targets", "", "| target | measured | |", "|---|---:|---|"]
    for name, ok, value in checks:
        lines.append(f"| {name} | {value} | {'met' if ok else '**missed**'} |")
    return "\n".join(lines) + "\n"


def chart(rows: dict[str, dict[str, float]], path: Path) -> None:
    """Ratios to raw httpx: throughput (higher is better), first chunk (lower is better)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    panels = [
        ("throughput", "throughput / raw httpx (higher is better)", 0.95),
        ("first_chunk", "time to first chunk / raw httpx (lower is better)", 1.05),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, (key, title, target) in zip(axes, panels):
        names = [n for n in rows if key in rows[n]]
        values = [rows[n][key] for n in names]
        colors = ["#4c72b0" if n.startswith("aura") else "#999999" for n in names]
        ax.barh(names, values, color=colors)
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.axvline(target, color="#c44e52", linestyle="--", linewidth=0.8, label=f"target {target}")
        ax.set_xscale("log")
        ax.set_xticks(
            [t for t in (0.25, 0.5, 1, 2, 4, 8) if min(values) / 1.5 < t < max(values) * 1.5]
        )
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%gx"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.invert_yaxis()
        ax.set_title(title, fontsize=10)
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
    checks = targets(results, rows)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "make bench" if not args.smoke else "python -m benchmarks --smoke"
    text = report(results, rows, checks, command)
    (args.out / "benchmarks.md").write_text(text)
    (args.out / "benchmarks.json").write_text(
        json.dumps({"results": results, "ratios": rows}, indent=2)
    )
    chart(rows, args.out / "benchmarks.png")
    print(text)
    if args.smoke:
        return 0
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
