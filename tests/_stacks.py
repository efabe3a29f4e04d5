"""The two HTTP stacks a caller's ``http_client=`` may come from, as a test axis.

A test that takes the ``stack`` fixture (tests/conftest.py) runs once per stack:
over ``httpx`` and over ``httpx2`` (pydantic's fork, openai-python 3.x's stack),
its caller's client made by ``sync_client(stack, ...)`` or ``async_client``.
httpx2 installs on Python 3.10+ only: on Python 3.9 the httpx2 half is
reported as not applicable, the one skip of the suite.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import ssl
from types import ModuleType
from typing import Any

import pytest

HAS_HTTPX2 = importlib.util.find_spec("httpx2") is not None
NOT_APPLICABLE = "not applicable: httpx2 installs on Python 3.10+ only"
NEEDS_HTTPX2 = pytest.mark.skipif(not HAS_HTTPX2, reason=NOT_APPLICABLE)
STACKS = [
    pytest.param("httpx", id="httpx"),
    pytest.param("httpx2", id="httpx2", marks=NEEDS_HTTPX2),
]


def one_connection(stack: Any) -> Any:
    """``stack.Limits`` for a pool of one connection, kept alive."""
    return stack.Limits(max_connections=1, max_keepalive_connections=1)


def stack_module(name: str) -> ModuleType:
    """The module of the stack named ``name``: ``httpx`` or ``httpx2``."""
    return importlib.import_module(name)


# Whose client a test's stream goes over: the SDK's own (``None``), or a caller's
# ``http_client=`` of either stack.
HTTP_CLIENTS = [
    pytest.param(None, id="own-client"),
    pytest.param("httpx", id="httpx-client"),
    pytest.param("httpx2", id="httpx2-client", marks=NEEDS_HTTPX2),
]


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every caller's client the tests make: a client makes its
    own otherwise, about 30 ms of CPU each (the CA bundle loaded again), thousands of
    times a run; the tests speak plain HTTP on 127.0.0.1."""
    return ssl.create_default_context()


def sync_client(stack: ModuleType | str, **kwargs: Any) -> Any:
    """A caller's ``Client`` of ``stack`` (a module or its name), with ``kwargs``."""
    module = stack_module(stack) if isinstance(stack, str) else stack
    return module.Client(verify=_tls(), **kwargs)


def async_client(stack: ModuleType | str, **kwargs: Any) -> Any:
    """A caller's ``AsyncClient`` of ``stack`` (a module or its name), with ``kwargs``."""
    module = stack_module(stack) if isinstance(stack, str) else stack
    return module.AsyncClient(verify=_tls(), **kwargs)
