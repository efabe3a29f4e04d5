"""Every public class, function, method and property has a docstring, and it names
each parameter (so that an IDE's hover says what to pass).

The public API is what ``aura_sdk``, ``aura_sdk.server``, ``aura_sdk.testing`` and
``aura_sdk.compat`` export in ``__all__``, with the public methods and properties
of their classes (those the package defines, not Python's own, such as
``Exception.with_traceback``). A class's ``__init__`` parameters may be named in
the class docstring or in ``__init__``'s (a dataclass has only the former).
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import aura_sdk
import aura_sdk.compat
import aura_sdk.server
import aura_sdk.testing

MODULES = [aura_sdk, aura_sdk.server, aura_sdk.testing, aura_sdk.compat]
SKIPPED_PARAMS = {"self", "cls"}


def _is_fixture(obj: object) -> bool:
    # pytest >= 8.4 wraps a fixture in a FixtureFunctionDefinition; before, it marks it.
    return type(obj).__name__ == "FixtureFunctionDefinition" or hasattr(
        obj, "_pytestfixturefunction"
    )


def _params(function: Callable[..., Any]) -> list[str]:
    return [p for p in inspect.signature(function).parameters if p not in SKIPPED_PARAMS]


def _missing(doc: str | None, names: list[str]) -> list[str]:
    text = doc or ""
    return [name for name in names if not re.search(rf"\b{re.escape(name)}\b", text)]


def _own_members(cls: type) -> Iterator[tuple[str, object]]:
    """The public members of ``cls`` that this package defines, with the raw descriptor."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("aura_sdk"):
            continue
        for name, member in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            yield f"{cls.__name__}.{name}", member


def _api() -> Iterator[tuple[str, object]]:
    for module in MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            qualified = f"{module.__name__}.{name}"
            if isinstance(obj, (type, types.FunctionType)) or _is_fixture(obj):
                yield qualified, obj


API = dict(_api())


def _problems(name: str, obj: object) -> list[str]:
    """What the docstrings of one public name (and its members) lack."""
    if _is_fixture(obj):  # its parameters are other fixtures, not the caller's
        return [] if inspect.getdoc(obj) else [f"{name}: no docstring"]
    if isinstance(obj, types.FunctionType):
        doc = inspect.getdoc(obj)
        if not doc:
            return [f"{name}: no docstring"]
        return [f"{name}: the docstring does not name {p!r}" for p in _missing(doc, _params(obj))]
    assert isinstance(obj, type)
    problems = []
    doc = obj.__doc__ if "__doc__" in vars(obj) else None  # not one inherited
    if not doc:
        problems.append(f"{name}: no class docstring")
    init = inspect.getattr_static(obj, "__init__")  # the function, wherever it is defined
    # Python's own (``Exception.__init__``) and a TypedDict's take no documented parameters.
    if isinstance(init, types.FunctionType) and init.__module__.startswith("aura_sdk"):
        both = f"{doc or ''}\n{init.__doc__ or ''}"
        problems += [
            f"{name}(): neither the class nor __init__ docstring names {p!r}"
            for p in _missing(both, _params(init))
        ]
    for member_name, member in _own_members(obj):
        if isinstance(member, property):
            if not member.__doc__:
                problems.append(f"{member_name}: property with no docstring")
            continue
        function = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
        if not isinstance(function, types.FunctionType):
            continue  # a class attribute
        function_doc = inspect.getdoc(function)
        if not function_doc:
            problems.append(f"{member_name}(): no docstring")
            continue
        problems += [
            f"{member_name}(): the docstring does not name {p!r}"
            for p in _missing(function_doc, _params(function))
        ]
    return problems


def test_the_walk_finds_the_api() -> None:
    """The walk sees what it must (a broken walk would pass everything)."""
    for name in [
        "aura_sdk.AuraClient",
        "aura_sdk.Stream",
        "aura_sdk.APIStatusError",
        "aura_sdk.user",
        "aura_sdk.server.AuraServer",
        "aura_sdk.server.Fault",
        "aura_sdk.testing.aura_server",
        "aura_sdk.compat.Aura",
    ]:
        assert name in API, name
    members = dict(_own_members(aura_sdk.AuraClient))
    assert {"AuraClient.stream", "AuraClient.base_url"} <= set(members)
    assert "AuraClient.__init__" not in members
    assert "APIError.with_traceback" not in dict(_own_members(aura_sdk.APIError))


def test_a_missing_parameter_is_found() -> None:
    def documented(model: str, max_tokens: int) -> None:
        """Ask ``model`` for at most max_tokens_total tokens."""

    assert _problems("f", documented) == ["f: the docstring does not name 'max_tokens'"]

    class Undocumented:
        """A class."""

        def __init__(self, base_url: str) -> None:
            pass

        @property
        def text(self) -> str:
            return ""

        def send(self, data: bytes) -> None:
            """Send ``data``."""

        def close(self) -> None:
            pass

    Undocumented.__module__ = Undocumented.__init__.__module__ = "aura_sdk.fake"
    assert _problems("U", Undocumented) == [
        "U(): neither the class nor __init__ docstring names 'base_url'",
        "Undocumented.text: property with no docstring",
        "Undocumented.close(): no docstring",
    ]


@pytest.mark.parametrize("name", sorted(API))
def test_docstring_names_every_parameter(name: str) -> None:
    problems = _problems(name, API[name])
    assert not problems, "\n".join(problems)
