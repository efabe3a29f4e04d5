"""The ``aura`` command line, end to end: real subprocesses against a real local server."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest

from aura_sdk.server import AuraServer, Fault
from tests._terminal import AURA, Terminal

TIMEOUT = 30


def aura(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aura_sdk", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_chat_streams_the_reply(aura_server: AuraServer) -> None:
    result = aura(
        "chat", "--base-url", aura_server.base_url, "--system", "Be brief.", "What is Aura?"
    )
    assert result.returncode == 0, result.stderr
    assert "You said: “What is Aura?”" in result.stdout
    assert "Your system prompt says: “Be brief.”" in result.stdout
    assert result.stderr == ""
    body = aura_server.requests[0].json()
    assert (body["prompt"], body["temperature"], body["model"]["tokenLimit"]) == (
        "Be brief.",
        0.5,
        8192,
    )


def test_chat_options_reach_the_server(aura_server: AuraServer) -> None:
    result = aura(
        "chat", "--base-url", aura_server.base_url, "--temperature", "0.1", "--max-tokens", "100",
        "--model", "openchat_v3.2_mistral", "hi",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    body = aura_server.requests[0].json()
    assert (body["temperature"], body["model"]["tokenLimit"], body["model"]["id"]) == (
        0.1,
        100,
        "openchat_v3.2_mistral",
    )


def test_base_url_from_environment(aura_server: AuraServer) -> None:
    result = aura("chat", "hi", env={"AURA_BASE_URL": aura_server.base_url})
    assert result.returncode == 0, result.stderr
    assert "You said: “hi”" in result.stdout


def test_server_error_is_one_line_with_the_reason_phrase(aura_server: AuraServer) -> None:
    aura_server.script(Fault(status=500, reason="Rate limit reached for requests", repeat=3))
    result = aura(
        "chat",
        "--base-url",
        aura_server.base_url,
        "hi",
        env={"AURA_API_KEY": "sk-top-secret-key-1"},
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "aura: error: 500 Rate limit reached for requests "
        f"(POST {aura_server.base_url}/api/chat, after 2 retries)\n"
    )


def test_bad_key_error_never_prints_the_key(aura_server_factory: Callable[..., AuraServer]) -> None:
    server = aura_server_factory(api_keys={"sk-right"})
    result = aura(
        "chat", "--base-url", server.base_url, "hi", env={"AURA_API_KEY": "sk-top-secret-key-1"}
    )
    assert result.returncode == 1
    assert "Incorrect API key provided" in result.stderr
    assert "sk-top-secret-key-1" not in result.stderr + result.stdout


def test_connection_refused_is_one_line() -> None:
    result = aura("chat", "--base-url", "http://127.0.0.1:9", "--timeout", "2", "hi")
    assert result.returncode == 1
    assert result.stderr.startswith("aura: error: connection error")
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_bad_input_is_a_usage_error() -> None:
    result = aura("chat", "--base-url", "http://127.0.0.1:9", "--temperature", "9", "hi")
    assert result.returncode == 2
    assert result.stderr == "aura: error: temperature: expected a number from 0 to 2, got 9.0\n"


def test_models(aura_server: AuraServer) -> None:
    result = aura("models", "--base-url", aura_server.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "openchat_3.6\tOpenChat 3.6 (latest)",
        "openchat_v3.2_mistral\tOpenChat Aura",
    ]


def test_local_starts_its_own_server() -> None:
    result = aura("chat", "--local", "hello local")
    assert result.returncode == 0, result.stderr
    assert "You said: “hello local”" in result.stdout


def test_piped_lines_are_one_message(aura_server: AuraServer) -> None:
    # Was one turn per line; now the whole input is one message (issue 10).
    result = aura("chat", "--base-url", aura_server.base_url, stdin="first\n\nsecond\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("You said:") == 1
    assert [r.json()["messages"] for r in aura_server.requests] == [
        [{"role": "user", "content": "first\n\nsecond"}]
    ]
    assert result.stderr == ""  # no banner, no prompt: not a conversation


def test_a_conversation_keeps_the_history_and_goes_on_after_an_error(
    aura_server: AuraServer, terminal: Callable[..., Terminal]
) -> None:
    aura_server.script(Fault(), Fault(status=500, reason="Internal Server Error"))
    tty = terminal([*AURA, "chat", "--base-url", aura_server.base_url])
    for line, expected in [
        ("first", b"You said: \xe2\x80\x9cfirst"),
        ("broken", b"aura: error: 500 Internal Server Error"),
        ("second", b"You said: \xe2\x80\x9csecond"),
    ]:
        tty.expect(b"you> ")
        tty.wait_until_reading()
        tty.type(line + "\n")
        tty.expect(expected)
    tty.expect(b"you> ")
    second = aura_server.requests[2].json()["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert [second[0]["content"], second[2]["content"]] == ["first", "second"]  # not "broken"
    assert second[1]["content"].startswith("Hello! I am the local Aura emulator")


def test_ctrl_c_stops_the_reply_but_not_the_conversation(
    aura_server_factory: Callable[..., AuraServer], terminal: Callable[..., Terminal]
) -> None:
    server = aura_server_factory(pace=0.2)  # about 8 s for a whole reply
    server.script(Fault(), Fault(chunks=(b"done",)))  # the second reply comes at once
    tty = terminal([*AURA, "chat", "--base-url", server.base_url])
    tty.expect(b"you> ")
    tty.wait_until_reading()
    tty.type("first\n")
    tty.expect(b"Hello! ")  # the reply has started
    tty.interrupt()
    tty.expect(b"[interrupted: Ctrl-C]")
    tty.expect(b"you> ")
    tty.wait_until_reading()
    tty.type("second\n")
    tty.expect(b"done")
    tty.expect(b"you> ")
    assert b"Traceback" not in tty.seen
    messages = server.requests[1].json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"].startswith("Hello!")
    assert len(messages[1]["content"]) < 60  # only what arrived before Ctrl-C


def test_serve_then_chat_from_a_second_process() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "aura_sdk", "serve", "--port", "0", "--pace", "0"],
        stderr=subprocess.PIPE,
        text=True,
    ) as serve:
        assert serve.stderr is not None
        try:
            line = serve.stderr.readline()
            match = re.search(r"http://127\.0\.0\.1:\d+", line)
            assert match, line
            result = aura("chat", "--base-url", match.group(0), "hi from afar")
            assert result.returncode == 0, result.stderr
            assert "You said: “hi from afar”" in result.stdout
            serve.send_signal(signal.SIGINT)
            assert serve.wait(timeout=TIMEOUT) == 130
        finally:
            serve.kill()


@pytest.mark.parametrize("args", [(), ("chat",), ("models",), ("serve",)])
def test_help(args: tuple[str, ...]) -> None:
    result = aura(*args, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: aura")


def test_no_command_is_a_usage_error() -> None:
    result = aura()
    assert result.returncode == 2
    assert result.stderr == (
        "aura: error: the following arguments are required: COMMAND (see 'aura --help')\n"
    )


def test_console_script_is_installed() -> None:
    script = os.path.join(os.path.dirname(sys.executable), "aura")
    result = subprocess.run(
        [script, "--version"], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.stdout.startswith("aura-sdk ")
    assert json.dumps(result.returncode) == "0"


def test_url_password_is_never_printed(
    aura_server: AuraServer, terminal: Callable[..., Terminal]
) -> None:
    url = aura_server.base_url.replace("http://", "http://alice:hunter2@")
    tty = terminal([*AURA, "chat", "--base-url", url])
    tty.expect(b"Chatting with http://alice:***@127.0.0.1:")
    tty.expect(b"you> ")
    tty.wait_until_reading()
    tty.type("first\n")
    tty.expect(b"You said:")
    tty.expect(b"you> ")
    assert b"hunter2" not in tty.seen
    bad = aura("chat", "--base-url", "http://alice:hunter2@127.0.0.1:99999", "hi")
    assert bad.returncode != 0
    assert "invalid port '99999'" in bad.stderr
    assert "hunter2" not in bad.stdout + bad.stderr
