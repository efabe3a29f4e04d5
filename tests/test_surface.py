"""The public surface: one sorted __all__, two facades that cannot drift, an I/O-free core."""

from __future__ import annotations

import inspect
import pathlib
import subprocess
import sys

import pytest

import aura_sdk
from aura_sdk import AsyncAuraClient, AsyncStream, AuraClient, Stream

PACKAGE = pathlib.Path(aura_sdk.__file__).parent
CORE_MODULES = [
    "_base",
    "_config",
    "_decoder",
    "_exceptions",
    "_messages",
    "_models",
    "_reply",
    "_request",
    "_response",
    "_retry",
    "_status",
    "_validation",
]


def test_all_is_sorted_and_complete() -> None:
    assert aura_sdk.__all__ == sorted(aura_sdk.__all__)
    assert len(set(aura_sdk.__all__)) == len(aura_sdk.__all__)
    for name in aura_sdk.__all__:
        assert hasattr(aura_sdk, name), name
    public = {n for n in vars(aura_sdk) if not n.startswith("_")} - {"annotations"}
    exported_modules = {n for n in public if inspect.ismodule(getattr(aura_sdk, n))}
    assert public - exported_modules <= set(aura_sdk.__all__)


def test_every_public_name_has_a_docstring() -> None:
    for name in aura_sdk.__all__:
        obj = getattr(aura_sdk, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and callable(member)
    }


# sync name -> async name, where Python's conventions differ
RENAMED = {"close": "aclose"}


@pytest.mark.parametrize(
    ("sync_cls", "async_cls"), [(AuraClient, AsyncAuraClient), (Stream, AsyncStream)]
)
def test_facades_have_the_same_surface(sync_cls: type, async_cls: type) -> None:
    sync = _public_methods(sync_cls)
    asyn = _public_methods(async_cls)
    assert {RENAMED.get(n, n) for n in sync} == set(asyn)
    for name, signature in sync.items():
        other = asyn[RENAMED.get(name, name)]
        assert list(signature.parameters) == list(other.parameters), name
        for param, value in signature.parameters.items():
            twin = other.parameters[param]
            assert (value.kind, value.default) == (twin.kind, twin.default), f"{name}({param})"
            if param != "http_client":
                assert value.annotation == twin.annotation, f"{name}({param})"
    sync_props = {n for n, v in vars(sync_cls).items() if isinstance(v, property)}
    async_props = {n for n, v in vars(async_cls).items() if isinstance(v, property)}
    assert sync_props == async_props


@pytest.mark.parametrize("name", ["chat", "models", "aclose"])
def test_async_methods_are_coroutines(name: str) -> None:
    assert inspect.iscoroutinefunction(getattr(AsyncAuraClient, name))


def test_async_stream_is_not_a_coroutine() -> None:
    assert not inspect.iscoroutinefunction(AsyncAuraClient.stream)


def test_core_modules_import_without_httpx_or_anyio() -> None:
    """The sans-IO core loads in an interpreter where httpx and anyio cannot be imported."""
    blocked = ["httpx", "httpcore", "anyio", "trio", "asyncio"]
    code = (
        "import sys, importlib.util, types\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "pkg = types.ModuleType('aura_sdk'); pkg.__path__ = [sys.argv[1]]\n"
        "sys.modules['aura_sdk'] = pkg\n"
        f"for module in {CORE_MODULES!r}: importlib.import_module('aura_sdk.' + module)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(PACKAGE)], capture_output=True, text=True, check=False
    )
    assert result.stdout == "ok\n", result.stderr


def test_import_pulls_in_nothing_optional() -> None:
    code = "import sys, aura_sdk; print(sorted(m for m in sys.modules if m.split('.')[0] in {'g4f', 'aiohttp', 'trio', 'aura_sdk'}))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "g4f" not in out
    assert "aiohttp" not in out
    assert "'trio'" not in out
    assert "aura_sdk.compat" not in out
