"""The package's types are complete, as pyright's ``--verifytypes`` sees an installed copy.

``pyright --verifytypes`` judges a library from a user's side: every symbol a
public module exports (and every type they refer to) must be annotated, not
inferred, and documented. It needs the package installed as a wheel installs it
(an editable install is source to it, not a library), so the test copies
``aura_sdk/`` (all the wheel holds) into a temporary ``site`` directory and points
pyright there, with this interpreter's site-packages for httpx, anyio and h11.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Any

import aura_sdk

PACKAGE = pathlib.Path(aura_sdk.__file__).parent


def _verifytypes(root: pathlib.Path) -> dict[str, Any]:
    site = root / "site"
    shutil.copytree(PACKAGE, site / "aura_sdk", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYRIGHT_PYTHON_")}
    env["PYTHONPATH"] = str(site)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pyright"),
            *("--pythonpath", sys.executable),
            *("--verifytypes", "aura_sdk", "--ignoreexternal", "--outputjson"),
        ],
        cwd=root,  # not the checkout: pyright would take its source for the package
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(
            f"pyright gave no JSON report:\n{result.stdout}{result.stderr}"
        ) from None
    return report


def _problems(completeness: dict[str, Any]) -> list[str]:
    return [
        f"{symbol['name']}: {diagnostic['message']}"
        for symbol in completeness["symbols"]
        for diagnostic in symbol["diagnostics"]
    ]


def test_pyright_verifytypes_is_complete(tmp_path: pathlib.Path) -> None:
    report = _verifytypes(tmp_path)
    completeness = report["typeCompleteness"]
    # The copy was the package judged, not the checkout nor an installed one.
    assert pathlib.Path(completeness["packageRootDirectory"]) == tmp_path / "site" / "aura_sdk"
    problems = "\n".join(_problems(completeness))
    assert completeness["completenessScore"] == 1.0, problems
    assert completeness["missingFunctionDocStringCount"] == 0, problems
    assert completeness["missingClassDocStringCount"] == 0, problems
    assert not problems
    # The public modules pyright judged (a new one is a deliberate change).
    public = {module["name"] for module in completeness["modules"]}
    assert {"aura_sdk", "aura_sdk.server", "aura_sdk.testing", "aura_sdk.compat"} <= public
