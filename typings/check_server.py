"""Static type tests for ``aura_sdk.server``: type-checked by mypy --strict, never run.

Each ``# type: ignore[code]`` marks a line that must be rejected.
"""

from __future__ import annotations

from typing_extensions import assert_type

from aura_sdk.server import AuraServer, Fault


def dialects() -> None:
    server = AuraServer(dialect="openai", enable_sys_prompt=True, api_keys={"sk-1"})
    assert_type(server.base_url, str)
    assert_type(server.root_url, str)
    AuraServer(dialect="aura")
    AuraServer(dialect="vllm")  # type: ignore[arg-type]
    AuraServer(enable_sys_prompt="yes")  # type: ignore[arg-type]


def faults() -> None:
    Fault(error_event='{"message": "x"}', error_after=2, done=False, finish_reason=None)
    Fault(sse=(b"data: x\n\n",))
    assert_type(Fault().sse, "tuple[bytes, ...] | None")
    Fault(sse=("data: x",))  # type: ignore[arg-type]
    Fault(error_event={"message": "x"})  # type: ignore[arg-type]
