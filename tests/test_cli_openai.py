"""``aura`` in the OpenAI-compatible dialect, end to end: real subprocesses, a real server."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest

from aura_sdk.server import AuraServer, Fault
from tests._terminal import AURA, Terminal, plain
from tests.test_cli import TIMEOUT, aura


@pytest.fixture
def server(aura_server_factory: Callable[..., AuraServer]) -> AuraServer:
    return aura_server_factory(dialect="openai", enable_sys_prompt=True)


def test_chat_streams_the_reply(server: AuraServer) -> None:
    result = aura(
        "chat", "--dialect", "openai", "--base-url", server.base_url, "--system", "Be brief.", "hi"
    )
    assert result.returncode == 0, result.stderr
    assert "You said: “hi”" in result.stdout
    assert "Your system prompt says: “Be brief.”" in result.stdout
    assert result.stderr == ""
    body = server.requests[-1].json()
    assert server.requests[-1].path == "/v1/chat/completions"
    assert "max_tokens" not in body  # the dialect's default: none
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}


def test_the_dialect_from_the_environment(server: AuraServer) -> None:
    result = aura("chat", "hi", env={"AURA_DIALECT": "openai", "AURA_BASE_URL": server.base_url})
    assert result.returncode == 0, result.stderr
    assert "You said: “hi”" in result.stdout


def test_a_reply_cut_at_max_tokens_says_so_on_stderr(server: AuraServer) -> None:
    result = aura(
        "chat", "--dialect", "openai", "--base-url", server.base_url, "--max-tokens", "3", "hi"
    )
    assert result.returncode == 0, result.stderr
    assert "[length]" not in result.stdout  # stdout holds only the reply
    assert result.stderr == "aura: the reply ended: [length]\n"
    assert server.requests[-1].json()["max_tokens"] == 3


def test_stop_strings(server: AuraServer) -> None:
    result = aura(
        "chat", "--dialect", "openai", "--base-url", server.base_url,
        "--stop", "emulator", "--stop", "never", "hi",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello! I am the local Aura \n"
    assert result.stderr == "aura: the reply ended: [stop]\n"
    assert server.requests[-1].json()["stop"] == ["emulator", "never"]


def test_stop_is_refused_in_the_aura_dialect(aura_server: AuraServer) -> None:
    result = aura("chat", "--base-url", aura_server.base_url, "--stop", "x", "hi")
    assert result.returncode == 2
    assert "stop: openchat-ui's request has no such field" in result.stderr
    assert aura_server.requests == []


def test_a_conversation_marks_why_replies_ended(
    server: AuraServer, terminal: Callable[..., Terminal]
) -> None:
    server.script(
        Fault(chunks=(b"no end",), finish_reason=None),  # [DONE] without a finish_reason
        Fault(chunks=(b"part one ", b"part two"), drop_after=1),  # breaks off
    )
    tty = terminal(
        [*AURA, "chat", "--dialect", "openai", "--base-url", server.base_url, "--stop", "emulator"]
    )
    for line in ("first", "second", "third"):
        tty.expect(b"you> ")
        tty.wait_until_reading()
        tty.type(line + "\n")
    tty.expect(b"[stop]")
    tty.expect(b"you> ")
    lines = plain(tty.seen).splitlines()
    # One dim line after each reply that did not end normally (was "part one  [interrupted]"
    # and the error on stderr: now the reason is on that one line).
    assert lines[1:] == [
        "you> first",
        "no end",
        "[incomplete]",
        "you> second",
        "part one ",
        "[interrupted: the connection dropped]",
        "you> third",
        "Hello! I am the local Aura ",
        "[stop]",
        "you> ",
    ]
    # The partial reply stays in the history, so the conversation goes on from it.
    third = server.requests[-1].json()["messages"]
    assert [m["content"] for m in third[-3:]] == ["second", "part one ", "third"]


def test_local_speaks_the_dialect() -> None:
    result = aura("chat", "--local", "--dialect", "openai", "--system", "Be a guide.", "hello")
    assert result.returncode == 0, result.stderr
    assert "You said: “hello”" in result.stdout
    assert "Your system prompt says: “Be a guide.”" in result.stdout


def test_models(server: AuraServer) -> None:
    result = aura("models", "--dialect", "openai", "--base-url", server.base_url)
    assert result.returncode == 0, result.stderr
    assert "openchat_3.6\tOpenChat 3.6 (latest)" in result.stdout.splitlines()


def test_a_missing_v1_is_named(server: AuraServer) -> None:
    result = aura("chat", "--dialect", "openai", "--base-url", server.root_url, "hi")
    assert result.returncode == 1
    assert f"try base_url='{server.root_url}/v1'" in result.stderr


@pytest.mark.parametrize("flag", [[], ["--enable-sys-prompt"], ["--flavor", "ollama"]])
def test_serve_the_openai_dialect_then_chat_from_a_second_process(flag: list[str]) -> None:
    command = [sys.executable, "-m", "aura_sdk", "serve", "--dialect", "openai", "--port", "0"]
    with subprocess.Popen(
        [*command, "--pace", "0", *flag], stderr=subprocess.PIPE, text=True
    ) as serve:
        assert serve.stderr is not None
        try:
            line = serve.stderr.readline()
            match = re.search(r"http://127\.0\.0\.1:\d+/v1", line)
            assert match, line
            result = aura(
                "chat", "--dialect", "openai", "--base-url", match.group(0), "--system", "S", "far"
            )
            assert result.returncode == 0, result.stderr
            assert "You said: “far”" in result.stdout
            kept = "Your system prompt says: “S”" in result.stdout
            assert kept == bool(flag)  # OpenChat's server drops it unless told; ollama keeps it
            serve.send_signal(signal.SIGINT)
            assert serve.wait(timeout=TIMEOUT) == 130
        finally:
            serve.kill()


def test_serve_flavor_needs_the_openai_dialect_and_a_known_name() -> None:
    from aura_sdk.server import FLAVORS

    result = aura("serve", "--flavor", "vllm")
    assert result.returncode == 2
    assert "--flavor plays an OpenAI-compatible server: only with --dialect openai" in result.stderr
    result = aura("serve", "--dialect", "openai", "--flavor", "tgi")
    assert result.returncode == 2
    assert "flavor must be one of" in result.stderr
    helped = aura("serve", "--help").stdout
    assert all(name in helped for name in FLAVORS)


def test_enable_sys_prompt_needs_the_openai_dialect() -> None:
    result = aura("serve", "--enable-sys-prompt", "--port", "0")
    assert result.returncode == 2
    assert "--enable-sys-prompt is OpenChat's flag" in result.stderr


REASONING_SSE = b"".join(
    b"data: " + part + b"\n\n"
    for part in (
        b'{"choices":[{"index":0,"delta":{"role":"assistant"}}]}',
        b'{"choices":[{"index":0,"delta":{"reasoning_content":"The user greets. "}}]}',
        b'{"choices":[{"index":0,"delta":{"reasoning_content":"Greet back.\\u001b[31m"}}]}',
        b'{"choices":[{"index":0,"delta":{"content":"Hello!"}}]}',
        b'{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
        b"[DONE]",
    )
)


@pytest.mark.parametrize("asked", [True, False])
def test_reasoning_is_shown_only_when_asked(asked: bool) -> None:
    from tests._hostile import Peer, chunked, head, hostile

    def script(peer: Peer) -> None:
        peer.send(head(headers={"Content-Type": "text/event-stream"}) + chunked(REASONING_SSE))

    with hostile(script) as server:
        flag = ["--reasoning"] if asked else []
        result = aura("chat", "--dialect", "openai", "--base-url", server.base_url, *flag, "hi")
    assert result.returncode == 0, result.stderr
    if asked:  # before the answer, on lines of its own; the server's escape made harmless
        assert result.stdout == "The user greets. Greet back.\\x1b[31m\n\nHello!\n"
    else:
        assert result.stdout == "Hello!\n"
    assert "\x1b" not in result.stdout
