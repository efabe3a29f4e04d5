"""The built package: what a user gets from ``pip install aura-sdk``.

The wheel and the sdist are built with hatchling (the build backend, a test
dependency: no network, no isolated build env) into a temporary directory, and
their contents and metadata checked as pip and PyPI read them.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest

import aura_sdk

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-d", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def wheel_files(dist: Path) -> tuple[zipfile.ZipFile, list[str]]:
    (wheel,) = dist.glob("*.whl")
    archive = zipfile.ZipFile(wheel)
    return archive, archive.namelist()


def metadata(dist: Path) -> Message:
    archive, names = wheel_files(dist)
    (name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    return message_from_bytes(archive.read(name))


def test_the_wheel_holds_the_package_typed_and_licensed(dist: Path) -> None:
    archive, names = wheel_files(dist)
    assert "aura_sdk/py.typed" in names
    assert "aura_sdk/server/__init__.py" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    license_text = archive.read(next(n for n in names if n.endswith("licenses/LICENSE")))
    assert b"Permission is hereby granted, free of charge" in license_text
    assert {n.split("/")[0] for n in names} == {
        "aura_sdk",
        f"aura_sdk-{aura_sdk.__version__}.dist-info",
    }  # no tests, benchmarks, typings or docs
    entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt")))
    assert b"aura = aura_sdk.cli:main" in entry_points
    assert b"aura_sdk = aura_sdk.testing" in entry_points  # the pytest plugin


def test_the_metadata_says_what_pypi_shows(dist: Path) -> None:
    meta = metadata(dist)
    assert meta["Name"] == "aura-sdk"
    assert meta["Version"] == aura_sdk.__version__
    assert meta["License-Expression"] == "MIT"
    assert meta["Requires-Python"] == ">=3.9"
    assert meta["Author"]
    urls = {u.split(",")[0]: u.split(", ", 1)[1] for u in meta.get_all("Project-URL", [])}
    assert set(urls) >= {"Homepage", "Repository", "Issues", "Changelog"}
    assert all(u.startswith("https://") for u in urls.values())
    classifiers = meta.get_all("Classifier", [])
    assert "Typing :: Typed" in classifiers
    versions = {
        c.rsplit(" ", 1)[1]
        for c in classifiers
        if c.startswith("Programming Language :: Python :: 3.")
    }
    assert versions == {"3.9", "3.10", "3.11", "3.12", "3.13"}  # what the matrix runs
    extras = set(meta.get_all("Provides-Extra", []))
    assert {"server", "trio", "aiohttp", "httpx2"} <= extras
    requires = meta.get_all("Requires-Dist", [])
    assert "anyio[trio]; extra == 'trio'" in requires
    runtime = {r.split(";")[0].split("<")[0].split(">")[0] for r in requires if "extra ==" not in r}
    assert runtime == {"httpx", "anyio"}  # the only run-time dependencies
    assert meta["Description-Content-Type"] == "text/markdown"
    assert "# aura-sdk" in meta.get_payload()


def test_the_sdist_builds_the_same_package(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "aura_sdk/py.typed"} <= names
    assert not any(n.startswith((".venv", ".nox", ".git/")) for n in names)
