"""The benchmark harness runs, every contender included (tiny sizes, no timing checks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_smoke_run_produces_the_report(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "benchmarks.md").read_text()
    assert "## Streaming throughput" in report
    assert "## Targets" in report
    assert (tmp_path / "benchmarks.png").stat().st_size > 1000
    data = json.loads((tmp_path / "benchmarks.json").read_text())["results"]
    contenders = {
        "aura-sync",
        "httpx-sync",
        "aura-asyncio",
        "httpx-asyncio",
        "aura-trio",
        "httpx-trio",
        "seed-aiohttp",
        "aura-aiohttp-asyncio",
    }
    assert set(data["throughput"]) == contenders | {"server-ceiling"}
    assert set(data["first_chunk"]) == contenders
    assert set(data["concurrent"]) == contenders - {"aura-sync", "httpx-sync", "seed-aiohttp"}
    for row in data["throughput"].values():
        assert row["chunks_per_s"] > 0
    for row in data["concurrent"].values():
        assert row["kib_per_stream"] > 0
    assert data["imports"]["httpx"] > 0
    assert data["imports"]["aura_sdk"] > 0

    # The OpenAI-dialect section: every contender read the same stream to its end (the
    # harness checks the characters each one saw), and the targets are the ones agreed.
    assert "## OpenAI dialect" in report
    assert (tmp_path / "benchmarks-openai.png").stat().st_size > 1000
    dialect = {
        f"{who}-{facade}"
        for who in ("aura-openai", "openai", "httpx-sse")
        for facade in ("sync", "asyncio", "trio")
    }
    assert set(data["openai_throughput"]) == dialect
    assert set(data["openai_first_text"]) == dialect
    # Sequential short streams: the connections each contender took, counted by the
    # raw server (its reply ids): one for the SDK and the floor, which read each body
    # to its end; openai-python drops its connection at [DONE] (sync: one per stream).
    assert set(data["openai_sequential"]) == dialect
    assert "### Sequential short streams" in report
    for name, row in data["openai_sequential"].items():
        assert row["streams_per_s"] > 0
        if not name.startswith("openai-"):
            assert row["connections"] == 1, name
    assert data["openai_sequential"]["openai-sync"]["connections"] == row["streams"]
    for row in data["openai_throughput"].values():
        assert row["events_per_s"] > 0
    for row in data["openai_first_text"].values():
        assert row["ms"] > 0
    ratios = json.loads((tmp_path / "benchmarks.json").read_text())["openai_ratios"]
    for facade in ("sync", "asyncio", "trio"):
        assert set(ratios[f"aura-openai-{facade}"]) == {
            "peer_throughput",
            "peer_first_text",
            "floor_throughput",
            "floor_first_text",
            "peer_sequential",
            "floor_sequential",
        }
        assert f"| aura-openai-{facade} throughput >= 1.5x openai-{facade} |" in report
        assert f"| aura-openai-{facade} time to first text <= openai-{facade} |" in report
        assert (
            f"| aura-openai-{facade} throughput >= 0.9x raw httpx (httpx-sse-{facade}) |" in report
        )

    # The stacks section (httpx2 is in the default Python's venv, where this runs): the
    # SDK over each stack's client, in both dialects and every facade, read the same
    # reply to its end; the ratio of httpx2 to httpx is reported for each.
    assert "## Both stacks" in report
    stacks = {
        f"{d}-{s}-{f}"
        for d in ("aura", "openai")
        for s in ("httpx", "httpx2")
        for f in ("sync", "asyncio", "trio")
    }
    assert set(data["stacks_throughput"]) == stacks
    assert set(data["stacks_first"]) == stacks
    for name, row in data["stacks_throughput"].items():
        twin = data["stacks_throughput"][name.replace("-httpx2-", "-httpx-")]
        assert row["size"] == twin["size"] > 0, name
    stack_ratios = json.loads((tmp_path / "benchmarks.json").read_text())["stack_ratios"]
    assert set(stack_ratios) == {
        f"{d}-{f}" for d in ("aura", "openai") for f in ("sync", "asyncio", "trio")
    }
    for row in stack_ratios.values():
        assert set(row) == {"throughput", "first_text"}
        assert row["throughput"] > 0
        assert row["first_text"] > 0
