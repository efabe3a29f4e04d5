"""The test matrix: the whole pytest suite on every Python the package admits.

`make test` runs it after lint and type checks (which run once, on the default
Python). The versions are read from pyproject's classifiers; an interpreter this
machine lacks is reported and skipped, never failed (also under CI=true).
"""

from __future__ import annotations

import sys

import nox

nox.options.default_venv_backend = "uv|venv"  # uv when installed (the dev group has it)
nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHONS = nox.project.python_versions(PYPROJECT)
# The default python3 here, where `make pytest` and `make bench` run: the one session
# that draws every property's full count of examples and runs the benchmarks'
# smoke test (the benchmarks are a tool of the default Python's venv). The others
# draw a quarter (tests/_examples.py), so that `make test` keeps to 10 minutes.
FULL_PYTHON = "3.11"
# The suites that start a Python subprocess per test (the command line end to end,
# the README's blocks: a fifth of the suite's CPU) run on the oldest, the default and
# the newest Python; the two between them leave them out, so that `make test` keeps
# to its 10 minutes. Everything else runs on all five.
SPOT_PYTHONS = ("3.10", "3.12")
SUBPROCESS_HEAVY = (
    "tests/test_cli.py",
    "tests/test_cli_openai.py",
    "tests/test_cli_hostile.py",
    "tests/test_readme.py",
)
# httpx2 installs on 3.10+ only: mypy --strict (the default Python's, which
# `make typecheck` runs with httpx2) runs again over the packages of the one Python
# without it (httpx 0.28.1, openai 2.x). noxfile.py is left out: nox is not there.
WITHOUT_HTTPX2 = "3.9"


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """pytest, warnings as errors (pyproject), on one Python; extra arguments go to pytest."""
    session.install(
        "-e", ".[server,bench]", *nox.project.dependency_groups(PYPROJECT, "test"), silent=True
    )
    full = session.python == FULL_PYTHON
    scope = [] if full else ["--deselect", "tests/test_benchmarks.py"]
    if session.python in SPOT_PYTHONS:
        scope += [arg for path in SUBPROCESS_HEAVY for arg in ("--deselect", path)]
    session.run(
        *("python", "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", *scope),
        *session.posargs,
        env={"AURA_EXAMPLES": "full" if full else "quarter"},
    )
    if session.python == WITHOUT_HTTPX2:
        location = session.virtualenv.location
        session.run(
            *(sys.executable, "-m", "mypy", "--python-executable", f"{location}/bin/python"),
            *("--cache-dir", f"{location}/.mypy_cache", "aura_sdk", "tests", "typings"),
            "benchmarks",
            external=True,
        )
