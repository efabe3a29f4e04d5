"""Every code block of the README runs as written, or says why not.

The convention, read from the line just before a block's opening fence:

- no marker: a ``python`` block is run as a script in a subprocess, with
  ``$AURA_BASE_URL`` pointing at a local ``AuraServer`` (Aura dialect);
- ``<!-- run: openai -->``: the same against the server in the openai dialect
  (``$AURA_DIALECT=openai``);
- ``<!-- run: as a pytest test file -->``: run by pytest, with the SDK's plugin;
- ``<!-- not run: REASON -->``: not run, for the reason given (a pip command, a
  diagram); the reason may not be empty.

Any other block (a language this file cannot run, with no ``not run`` marker) is
a failure: a new example gets run, or says why it cannot be.

The addresses the README uses for a server (``http://127.0.0.1:8000``, OpenChat's
``http://127.0.0.1:18888/v1``) are replaced by the local server's, the only
change made to a block. Each python block is also type-checked under ``mypy
--strict``: ``typings/check_readme.py`` holds them all, one function each, and a
test here keeps that file equal to what the README says (``make typecheck``
checks it; regenerate it with ``python -m tests.test_readme``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from aura_sdk.server import AuraServer

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TYPINGS = ROOT / "typings" / "check_readme.py"
FENCE = re.compile(r"^```(\S*)\s*$")
MARKER = re.compile(r"^<!--\s*(run|not run):\s*(.*?)\s*-->$")
AURA_URL = "http://127.0.0.1:8000"
OPENCHAT_URL = "http://127.0.0.1:18888/v1"


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    lang: str
    marker: tuple[str, str] | None  # ("run" | "not run", what follows)
    code: str

    @property
    def id(self) -> str:
        return f"README.md:{self.line}"


def blocks(text: str) -> list[Block]:
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        start, lang = i, match.group(1)
        i += 1
        while i < len(lines) and lines[i] != "```":
            i += 1
        if i == len(lines):
            raise AssertionError(f"README.md:{start + 1}: a code block is never closed")
        before = next((line for line in reversed(lines[:start]) if line.strip()), "")
        mark = MARKER.match(before.strip())
        found.append(
            Block(
                start + 1,
                lang,
                (mark.group(1), mark.group(2)) if mark else None,
                "\n".join(lines[start + 1 : i]) + "\n",
            )
        )
        i += 1
    return found


ALL = blocks(README.read_text(encoding="utf-8"))
RUN = [b for b in ALL if b.marker is None or b.marker[0] == "run"]
PYTHON = [b for b in ALL if b.lang == "python"]


def test_every_block_runs_or_says_why_not() -> None:
    for block in ALL:
        if block.marker is not None and block.marker[0] == "not run":
            assert block.marker[1], f"{block.id}: 'not run' needs a reason"
            continue
        assert block.lang == "python", (
            f"{block.id}: a ```{block.lang} block with no '<!-- not run: REASON -->' "
            "before it: make it a python example, or say why it cannot run"
        )
        what = block.marker[1] if block.marker else ""
        assert what in ("", "openai", "as a pytest test file"), f"{block.id}: run: {what}?"
    assert len(RUN) >= 8  # the README's examples did not go missing


def run_script(code: str, env: dict[str, str], tmp_path: Path, *pytest_args: str) -> str:
    script = tmp_path / "test_block.py"
    script.write_text(code, encoding="utf-8")
    command = [sys.executable, *(("-m", "pytest", *pytest_args) if pytest_args else ()), script]
    result = subprocess.run(
        [str(part) for part in command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def environment(server: AuraServer, dialect: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AURA_")}
    env.update(AURA_BASE_URL=server.base_url, AURA_DIALECT=dialect, PYTHONIOENCODING="utf-8")
    return env


@pytest.mark.parametrize("block", RUN, ids=lambda b: b.id)
def test_block_runs(
    block: Block, aura_server_factory: Callable[..., AuraServer], tmp_path: Path
) -> None:
    dialect = "openai" if block.marker == ("run", "openai") else "aura"
    server = aura_server_factory(dialect=dialect)
    code = block.code.replace(OPENCHAT_URL, server.base_url).replace(AURA_URL, server.base_url)
    env = environment(server, dialect)
    if block.marker == ("run", "as a pytest test file"):  # its own server, the plugin's
        out = run_script(code, env, tmp_path, "-q", "-p", "no:cacheprovider", "-W", "error")
        assert "1 passed" in out
        return
    run_script(code, env, tmp_path)
    calls = re.search(r"\.(chat|stream|models|create_async_generator)\(", code)
    if calls and "AuraServer(" not in code:
        assert server.requests, f"{block.id} sent nothing to the server"


def typings_module() -> str:
    """``typings/check_readme.py`` as the README's python blocks make it."""
    parts = [
        '"""The README\'s python blocks, one function each, for mypy --strict.\n\n'
        "Generated by ``python -m tests.test_readme`` (tests/test_readme.py keeps it\n"
        'equal to the README): edit the README, not this file."""\n\n'
        "# ruff: noqa\n"
        "# fmt: off\n"
    ]
    for number, block in enumerate(PYTHON, 1):  # numbered, not by line: edits elsewhere
        body = textwrap.indent(block.code, "    ")  # leave this file as it is
        parts.append(f"\n\ndef readme_block_{number}() -> None:\n{body}")
    return "".join(parts)


def test_typings_hold_the_readme_blocks() -> None:
    assert TYPINGS.read_text(encoding="utf-8") == typings_module(), (
        "typings/check_readme.py is stale: run `python -m tests.test_readme`"
    )


if __name__ == "__main__":
    TYPINGS.write_text(typings_module(), encoding="utf-8")
