"""The ``aura`` command line on hostile terminals, input and servers: real subprocesses.

No traceback ever: a closed pipe, a closed stdout, an ASCII terminal, undecodable
arguments or input, bad numbers, a taken port; Ctrl-C is exit status 130; what a
server sends never reaches the terminal raw.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from aura_sdk import user
from aura_sdk.cli import shown
from aura_sdk.server import AuraServer, Fault
from tests._hostile import Peer, chunked, head, hostile
from tests._terminal import Terminal, plain

TIMEOUT = 30
AURA = [sys.executable, "-m", "aura_sdk"]


def aura(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*AURA, *args],
        input=stdin,
        capture_output=True,
        timeout=TIMEOUT,
        env={**os.environ, **(env or {})},
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    """The stderr of a failed run, checked to be exactly one ``aura: error:`` line."""
    err = result.stderr.decode()
    assert "Traceback" not in err
    assert err.startswith("aura: error: "), err
    assert err.count("\n") == 1, err
    assert err.endswith("\n"), err
    return err


# --- Ctrl-C --------------------------------------------------------------------


def test_ctrl_c_in_one_shot_mode_exits_130(aura_server_factory: Callable[..., AuraServer]) -> None:
    server = aura_server_factory(pace=0.2)  # about 8 s for the whole reply
    with subprocess.Popen(
        [*AURA, "chat", "--base-url", server.base_url, "hi"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.read(7) == b"Hello! "  # the reply has started
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=TIMEOUT)
        finally:
            process.kill()
    assert process.returncode == 130, err
    assert b"Traceback" not in err
    assert out.endswith(b"\n")  # the cut line is ended
    assert b"[stopped]" not in out  # stdout holds only the reply


def test_ctrl_c_before_the_first_chunk_returns_to_the_prompt_with_the_history(
    aura_server: AuraServer, terminal: Callable[..., Terminal]
) -> None:
    aura_server.script(
        Fault(chunks=(b"reply one",)),
        Fault(delay=TIMEOUT),  # the server hangs before its status line
        Fault(chunks=(b"done",)),
    )
    tty = terminal([*AURA, "chat", "--base-url", aura_server.base_url])
    tty.expect(b"you> ")
    tty.type("one\n")
    tty.expect(b"reply one")
    tty.expect(b"you> ")
    tty.type("two\n")
    deadline = time.monotonic() + TIMEOUT
    while len(aura_server.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # until the request is at the server
    tty.interrupt()
    tty.expect(b"[interrupted: Ctrl-C]")
    tty.expect(b"you> ")
    tty.type("three\n")
    tty.expect(b"done")
    tty.expect(b"you> ")
    assert [m for m in aura_server.requests[2].json()["messages"]] == [
        user("one"),
        {"role": "assistant", "content": "reply one"},
        user("three"),  # "two" was never answered: left out, as after an error
    ]
    tty.interrupt_at_the_prompt()  # Ctrl-C at the prompt: a hint, and it stays
    tty.expect(b"Ctrl-C again or Ctrl-D leaves")
    tty.expect(b"you> ")
    assert tty.process.poll() is None
    tty.interrupt_at_the_prompt()
    assert tty.process.wait(TIMEOUT) == 130
    assert b"Traceback" not in tty.seen


def test_ctrl_d_leaves_with_status_0(
    aura_server: AuraServer, terminal: Callable[..., Terminal]
) -> None:
    tty = terminal([*AURA, "chat", "--base-url", aura_server.base_url])
    tty.expect(b"you> ")
    tty.interrupt_at_the_prompt()
    tty.expect(b"Ctrl-C again or Ctrl-D leaves")
    tty.expect(b"you> ")
    tty.wait_until_reading()
    tty.type("\x04")  # Ctrl-D on an empty line: end of input
    assert plain(tty.rest()) == "\n"  # the shell's prompt comes on a line of its own
    assert tty.process.wait(TIMEOUT) == 0
    assert aura_server.requests == []


# --- no traceback, whatever the terminal -----------------------------------------


def test_a_closed_pipe_ends_it_quietly(aura_server_factory: Callable[..., AuraServer]) -> None:
    server = aura_server_factory(pace=0.01)  # many writes: most after the reader left
    with subprocess.Popen(
        [*AURA, "chat", "--base-url", server.base_url, "hi"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.read(1) == b"H"  # `aura chat hi | head -c 1`
            process.stdout.close()
            assert process.stderr is not None
            err = process.stderr.read()
            process.wait(TIMEOUT)
        finally:
            process.kill()
    assert err == b""
    assert process.returncode == 1


def test_help_into_a_closed_pipe_is_quiet() -> None:
    with subprocess.Popen(
        [*AURA, "chat", "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.close()  # before anything is read
        err = process.stderr.read()
        process.wait(TIMEOUT)
    assert b"Traceback" not in err
    assert b"Exception ignored" not in err


@pytest.mark.parametrize("command", [["chat", "hi"], ["models"]])
def test_a_closed_stdout_is_one_error_line(aura_server: AuraServer, command: list[str]) -> None:
    result = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", *AURA, *command, "--base-url", aura_server.base_url],
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert one_error_line(result) == (
        "aura: error: cannot write the output: standard output is closed\n"
    )
    assert result.returncode == 1
    assert aura_server.requests == []  # nothing was sent


def test_a_closed_stdin_in_a_conversation_is_one_usage_line(aura_server: AuraServer) -> None:
    result = subprocess.run(
        ["sh", "-c", 'exec "$@" <&-', "sh", *AURA, "chat", "--base-url", aura_server.base_url],
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 2
    assert one_error_line(result) == (
        "aura: error: standard input is closed: give a PROMPT, or input to read\n"
    )


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("ascii", "\\u201cé ✓ 🙂\\u201d"),
        ("cp1252", "“é ✓ 🙂”"),
        ("latin-1", "\\u201cé ✓ 🙂\\u201d"),
    ],
)
def test_a_terminal_that_cannot_show_the_reply_gets_escapes(
    server: AuraServer, encoding: str, expected: str
) -> None:
    server.script(Fault(chunks=("“é ✓ 🙂”".encode(),)))
    result = aura("chat", "--base-url", server.base_url, "hi", env={"PYTHONIOENCODING": encoding})
    assert result.returncode == 0, result.stderr
    shown_as = expected.encode(encoding, "backslashreplace").decode(encoding)
    assert result.stdout.decode(encoding) == shown_as + "\n"


def test_undecodable_arguments_are_a_usage_error(aura_server: AuraServer) -> None:
    prompt = os.fsdecode(b"caf\xe9")  # not UTF-8: a Latin-1 terminal, say
    for args in (
        ["chat", "--base-url", aura_server.base_url, prompt],
        ["chat", "--system", prompt],
    ):
        result = aura(*args, env={"LC_ALL": "C.UTF-8"})
        assert result.returncode == 2
        assert one_error_line(result) == (
            "aura: error: an argument is not valid utf-8 text: 'caf\\udce9'\n"
        )
    assert aura_server.requests == []


def test_undecodable_input_line_is_refused_and_the_conversation_goes_on(
    server: AuraServer, terminal: Callable[..., Terminal]
) -> None:
    tty = terminal([*AURA, "chat", "--base-url", server.base_url], {"LC_ALL": "C"})
    tty.expect(b"you> ")
    tty.wait_until_reading()
    os.write(tty.master, b"caf\xe9\n")
    tty.expect(b"aura: error: that line is not valid utf-8 text; not sent")
    tty.expect(b"you> ")
    tty.wait_until_reading()
    tty.type("second\n")
    tty.expect(b"Hello, world")
    tty.expect(b"you> ")
    assert b"Traceback" not in tty.seen
    assert [r.json()["messages"] for r in server.requests] == [[user("second")]]


@pytest.mark.parametrize("prompt", [[], ["summarize"]])
def test_undecodable_piped_input_is_a_usage_error(server: AuraServer, prompt: list[str]) -> None:
    result = aura(
        "chat", "--base-url", server.base_url, *prompt, stdin=b"caf\xe9\n",
        env={"LC_ALL": "C.UTF-8"},
    )  # fmt: skip
    assert result.returncode == 2
    assert one_error_line(result) == "aura: error: the input is not valid utf-8 text; not sent\n"
    assert server.requests == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["chat", "--timeout", "-1", "hi"], "argument --timeout: expected a positive number of seconds, got '-1' (see 'aura chat --help')"),
        (["chat", "--timeout", "nan", "hi"], "argument --timeout: expected a positive number of seconds, got 'nan' (see 'aura chat --help')"),
        (["chat", "--timeout", "inf", "hi"], "argument --timeout: expected a positive number of seconds, got 'inf' (see 'aura chat --help')"),
        # Was the Python API's "None (or math.inf) switches the limit off", no option here.
        (["chat", "--timeout", "1e7", "hi"], "argument --timeout: expected at most 1000000 seconds (about 11.5 days), got '1e7' (see 'aura chat --help')"),
        (["models", "--timeout", "abc"], "argument --timeout: expected a positive number of seconds, got 'abc' (see 'aura models --help')"),
        (["serve", "--port", "-1"], "argument --port: expected a port from 0 to 65535, got '-1' (see 'aura serve --help')"),
        (["serve", "--port", "70000"], "argument --port: expected a port from 0 to 65535, got '70000' (see 'aura serve --help')"),
        (["serve", "--port", "abc"], "argument --port: expected a port from 0 to 65535, got 'abc' (see 'aura serve --help')"),
        (["serve", "--pace", "nan"], "argument --pace: expected a number of seconds >= 0, got 'nan' (see 'aura serve --help')"),
        (["chat", "--max-tokens", "abc", "hi"], "argument --max-tokens: invalid int value: 'abc' (see 'aura chat --help')"),
        (["chat", "--temperature", "nan", "hi"], "temperature: expected a number from 0 to 2, got nan"),
        (["chat", "--max-tokens", "0", "hi"], "max_tokens: expected 1 to 24576, got 0"),
        (["chat", "--model", " ", "hi"], "model: expected a non-empty model id, got ' '"),
        (["chat", "--bogus"], "unrecognized arguments: --bogus (see 'aura --help')"),
    ],
)  # fmt: skip
def test_bad_numbers_are_one_usage_line(args: list[str], expected: str) -> None:
    result = aura(*args, "--base-url", "http://127.0.0.1:9") if args[0] != "serve" else aura(*args)
    assert result.returncode == 2
    assert one_error_line(result) == f"aura: error: {expected}\n"


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--temperature", "9"], {}, "temperature: expected a number from 0 to 2, got 9.0"),
        (["--local", "--temperature", "9"], {}, "temperature: expected a number from 0 to 2, got 9.0"),
        (["--local", "--timeout", "0"], {}, "argument --timeout: expected a positive number of seconds, got '0' (see 'aura chat --help')"),
        ([], {"AURA_BASE_URL": "ftp://example.com"}, "$AURA_BASE_URL (base_url): expected an http:// or https:// URL such as 'http://127.0.0.1:8000', got 'ftp://example.com'"),
    ],
)  # fmt: skip
def test_bad_settings_in_a_conversation_are_one_usage_line_at_start_up(
    args: list[str], env: dict[str, str], expected: str
) -> None:
    result = aura("chat", *args, stdin=b"hi\nagain\n", env=env)
    assert result.returncode == 2
    assert one_error_line(result) == f"aura: error: {expected}\n"  # no banner, no prompt
    assert result.stdout == b""


def test_serve_on_a_port_in_use_is_one_error_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = aura("serve", "--port", str(port))
    assert result.returncode == 1
    assert one_error_line(result) == (
        f"aura: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


def test_serve_with_a_host_no_socket_can_take_is_a_usage_error() -> None:
    result = aura("serve", "--host", "ü" + "a" * 70, "--port", "0")  # IDNA: label too long
    assert result.returncode == 2
    assert one_error_line(result) == "aura: error: argument --host: Label too long\n"


def test_serve_on_ipv6_then_ctrl_c() -> None:
    with subprocess.Popen(
        [*AURA, "serve", "--host", "::1", "--port", "0"], stderr=subprocess.PIPE
    ) as serve:
        try:
            assert serve.stderr is not None
            line = serve.stderr.readline().decode()
            assert line.startswith("Local Aura emulator on http://[::1]:"), line
            serve.send_signal(signal.SIGINT)
            assert serve.wait(timeout=TIMEOUT) == 130
            assert serve.stderr.read() == b""
        finally:
            serve.kill()


# --- what a server sends is shown, never obeyed ---------------------------------------

ESCAPED = [
    ("\x1b[31m", "\\x1b[31m"),
    ("\x00", "\\x00"),
    ("\x07", "\\x07"),
    ("\x08", "\\x08"),
    ("\r", "\\x0d"),
    ("\x0b\x0c", "\\x0b\\x0c"),
    ("\x7f", "\\x7f"),
    ("\x9b2J", "\\x9b2J"),
    ("\x85", "\\x85"),
    ("\u202e", "\\u202e"),
    ("\u2066\u2069", "\\u2066\\u2069"),
]
UNCHANGED = [
    "plain",
    "two\nlines",
    "a\ttab",
    "café ✓ 🙂",
    "日本語",
    "Ελληνικά",
    "👨\u200d👩\u200d👧",
    "\\x1b",
]


@pytest.mark.parametrize(("text", "expected"), ESCAPED)
def test_control_characters_are_escaped(text: str, expected: str) -> None:
    assert shown(text) == expected


@pytest.mark.parametrize("text", UNCHANGED)
def test_normal_text_passes_unchanged(text: str) -> None:
    assert shown(text) == text


def test_a_reply_with_escapes_is_shown_escaped(server: AuraServer) -> None:
    reply = "red \x1b[31mALERT\x1b[0m\r\n\tcafé ✓ \u202eevil\x07\x9b"
    server.script(Fault(chunks=(reply[:9].encode(), reply[9:].encode())))
    result = aura("chat", "--base-url", server.base_url, "hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == (
        "red \\x1b[31mALERT\\x1b[0m\\x0d\n\tcafé ✓ \\u202eevil\\x07\\x9b\n"
    )


def _reason_with_escapes(peer: Peer) -> None:
    peer.send(b"HTTP/1.1 500 Rate \x9b2J limit \x1b\r\ncontent-length: 5\r\n\r\nError")


def _models_with_escapes(peer: Peer) -> None:
    listing = json.dumps([{"id": "m\x1b[2J", "name": "\u202eevil"}]).encode()
    peer.send(head("200 OK") + chunked(listing))


def test_an_error_reason_with_escapes_is_shown_escaped() -> None:
    with hostile(_reason_with_escapes) as server:
        result = aura("chat", "--base-url", server.base_url, "hi")
    assert result.returncode == 1
    err = one_error_line(result)
    assert "\x1b" not in err
    assert "\x9b" not in err
    assert "\\x9b2J" in err or "\\x1b" in err, err


def test_a_model_listing_with_escapes_is_shown_escaped() -> None:
    with hostile(_models_with_escapes) as server:
        result = aura("models", "--base-url", server.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == "m\\x1b[2J\t\\u202eevil\n"


def _busy_with_escapes(peer: Peer) -> None:
    peer.send("HTTP/1.1 503 Busy \u009b2J \u202eevil\r\ncontent-length: 5\r\n\r\nError".encode())


def test_a_reason_with_escapes_is_shown_escaped_in_the_log_too() -> None:
    # AURA_LOG's records name the reason phrase of each retried failure: they went
    # to the terminal raw (a C1 CSI, a bidi override), bypassing `shown`.
    with hostile(_busy_with_escapes) as server:
        result = aura("chat", "--base-url", server.base_url, "hi", env={"AURA_LOG": "info"})
    assert result.returncode == 1
    err = result.stderr.decode()
    assert "retry 1 of 2" in err, err
    assert "\x9b" not in err
    assert "\u202e" not in err
    assert err.count("503 Busy \\x9b2J \\u202eevil") == 4, err
