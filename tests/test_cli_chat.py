"""``aura chat``'s conversation: piped input, slash commands, files, history, spinner, colours.

The interactive parts run the real command on a pseudo-terminal (``tests._terminal``)
against a real local server; the pieces that need no terminal are tested in-process.
``AURA_RECORD=1`` writes the session of ``test_a_recorded_session`` to
``docs/cli-session.txt`` (the transcript the README quotes).
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import stat
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from aura_sdk import AuraClient, user
from aura_sdk._cli.chat import HELP, stream_reply
from aura_sdk._cli.conversation import MAX_FILE_BYTES, Conversation, ConversationError
from aura_sdk._cli.lines import history_path
from aura_sdk._cli.terminal import Output, Spinner, Style
from aura_sdk.server import AuraServer, Fault
from tests._terminal import AURA, TIMEOUT, Terminal

DOCS = Path(__file__).resolve().parent.parent / "docs"


def aura(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AURA, *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, **(env or {})},
        check=False,
    )


def sent(server: AuraServer) -> list[list[dict[str, str]]]:
    """The messages of each chat request the server got."""
    return [r.json()["messages"] for r in server.requests]


def typed(tty: Terminal, line: str, prompt: bytes = b"you> ") -> None:
    """Wait for the prompt, then type ``line`` and Enter."""
    tty.expect(prompt)
    tty.wait_until_reading()
    tty.type(line + "\n")


# --- piped input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (["summarize"], "line a\nline b\n", "summarize\n\nline a\nline b"),
        ([], "a\nb", "a\nb"),
        ([], "a\nb\n", "a\nb"),
        (["hi"], "", "hi"),  # nothing piped: the prompt alone
        (["hi"], None, "hi"),  # stdin is /dev/null
    ],
)
def test_piped_input_is_one_message_after_the_prompt(
    aura_server: AuraServer, args: list[str], stdin: str | None, expected: str
) -> None:
    result = aura("chat", "--base-url", aura_server.base_url, *args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert sent(aura_server) == [[user(expected)]]
    assert result.stderr == ""


def test_nothing_to_send_is_a_usage_error(aura_server: AuraServer) -> None:
    result = aura("chat", "--base-url", aura_server.base_url, stdin=" \n")
    assert result.returncode == 2
    assert result.stderr == "aura: error: nothing to send: give a PROMPT, or input to read\n"
    assert aura_server.requests == []


def test_one_shot_goes_on_from_a_loaded_conversation(
    aura_server: AuraServer, tmp_path: Path
) -> None:
    saved = tmp_path / "chat.json"
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "reply one"},
    ]
    saved.write_text(json.dumps(messages))
    result = aura("chat", "--base-url", aura_server.base_url, "--load", str(saved), "two")
    assert result.returncode == 0, result.stderr
    body = aura_server.requests[0].json()
    assert body["prompt"] == "Be brief."
    assert body["messages"] == [*messages[1:], user("two")]


# --- saving and loading ----------------------------------------------------------------


def test_save_then_load_is_the_same_conversation(tmp_path: Path) -> None:
    conversation = Conversation(system="Be brief.")
    conversation.ask("caf\u00e9 \U0001f642")
    conversation.answer("reply")
    path = tmp_path / "c.json"
    assert conversation.save(str(path)) == 3
    assert json.loads(path.read_text("utf-8"))[0] == {"role": "system", "content": "Be brief."}
    loaded = Conversation.load(str(path))
    assert (loaded.system, loaded.messages) == (conversation.system, conversation.messages)


def test_save_refuses_an_empty_conversation(tmp_path: Path) -> None:
    with pytest.raises(ConversationError, match="nothing to save yet"):
        Conversation(system="x").save(str(tmp_path / "c.json"))
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "not JSON (Expecting value, line 1 column 1)"),
        (b"{]", "not JSON"),
        (b"\xff\xfe", "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON (nested too deeply)"),
        (b'{"role": "user", "content": "x"}', "messages: expected a list of messages, got dict"),
        (b"[]", "messages: must not be empty"),
        (b'[{"role": "bot", "content": "x"}]', "messages[0].role: expected one of"),
        (b'[{"role": "user"}]', "messages[0].content: missing"),
        (b'[{"role": "user", "content": 1}]', "messages[0].content: expected"),
        (b'[{"role": "user", "content": "x", "partial": true}]', "unexpected key 'partial'"),
        (b'[{"role": "system", "content": "x"}]', "need at least one user or assistant"),
        (b'[{"role": "user", "content": "\\ud800"}]', "messages[0].content"),
    ],
)
def test_load_refuses_a_bad_file_with_one_clear_line(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ConversationError) as caught:
        Conversation.load(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_load_refuses_a_missing_or_huge_file(tmp_path: Path) -> None:
    with pytest.raises(ConversationError, match=r"cannot read .*: No such file"):
        Conversation.load(str(tmp_path / "none.json"))
    huge = tmp_path / "huge.json"
    with huge.open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ConversationError, match="larger than 64 MiB"):
        Conversation.load(str(huge))


def test_a_bad_load_file_is_exit_2_before_anything_is_sent(
    aura_server: AuraServer, tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text("[1]")
    result = aura("chat", "--base-url", aura_server.base_url, "--load", str(path), "hi")
    assert result.returncode == 2
    assert result.stderr == (
        f"aura: error: {path}: messages[0]: expected a mapping with 'role' and 'content', "
        'got int (a saved conversation is a list of {"role", "content"} objects)\n'
    )
    assert aura_server.requests == []


def test_retry_replaces_the_last_answer_or_resends_an_unanswered_question() -> None:
    conversation = Conversation()
    assert conversation.retry() is None
    conversation.ask("one")
    conversation.answer("reply one", partial=True)
    assert conversation.retry() == "one"
    assert conversation.messages == []
    assert conversation.partial == set()
    conversation.ask("two")
    conversation.unask()  # the server failed
    assert conversation.retry() == "two"


# --- the history file ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({"HOME": "/h"}, "linux", "/h/.local/state/aura/history"),
        ({"HOME": "/h", "XDG_STATE_HOME": "/s"}, "linux", "/s/aura/history"),
        ({"HOME": "/h", "XDG_STATE_HOME": "rel"}, "linux", "/h/.local/state/aura/history"),
        ({"HOME": "/h"}, "darwin", "/h/Library/Application Support/aura/history"),
        ({"HOME": "/h", "LOCALAPPDATA": "/L"}, "win32", os.path.join("/L", "aura", "history")),
        ({"HOME": "/h", "AURA_HISTORY": "/x/h"}, "linux", "/x/h"),
        ({"HOME": "/h", "AURA_HISTORY": ""}, "linux", None),
    ],
)
def test_history_path(env: dict[str, str], platform: str, expected: str | None) -> None:
    assert history_path(env, platform) == expected


# --- colours and the spinner -----------------------------------------------------------


class FakeTTY(io.StringIO):
    def __init__(self, tty: bool = True, encoding: str = "utf-8") -> None:
        super().__init__()
        self._tty = tty
        self._encoding = encoding

    def isatty(self) -> bool:
        return self._tty

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding


@pytest.mark.parametrize(
    ("tty", "env", "colours"),
    [
        (True, {"TERM": "xterm"}, True),
        (True, {}, True),
        (False, {"TERM": "xterm"}, False),
        (True, {"TERM": "dumb"}, False),
        (True, {"TERM": "xterm", "NO_COLOR": "1"}, False),
        (True, {"TERM": "xterm", "NO_COLOR": "0"}, False),  # any value, not only 1
        (True, {"TERM": "xterm", "NO_COLOR": ""}, True),  # no-color.org: empty is unset
    ],
)
def test_colours_only_on_a_terminal_without_no_color(
    tty: bool, env: dict[str, str], colours: bool
) -> None:
    style = Style.for_stream(FakeTTY(tty), env)
    assert style.enabled is colours
    assert (style.dim("[length]") != "[length]") is colours


def test_the_spinner_is_cleared_before_the_text_and_stops(aura_server: AuraServer) -> None:
    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    class Recorder(FakeTTY):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def write(self, text: str) -> int:
            with lock:
                events.append((self.name, text))
            return len(text)

    err = Recorder("err")
    spinner = Spinner(err, enabled=True, delay=0)
    aura_server.script(Fault(delay=0.3, chunks=(b"Hello", b" there")))
    with AuraClient(base_url=aura_server.base_url) as client:
        text, mark = stream_reply(client, [user("hi")], {}, Output(Recorder("out")), spinner)
    assert (text, mark) == ("Hello there", None)
    frames = [i for i, (name, _) in enumerate(events) if name == "err" and _ != "\r\x1b[K"]
    first_text = events.index(("out", "Hello"))
    assert frames, events  # it turned while the server waited
    assert events[first_text - 1] == ("err", "\r\x1b[K")  # erased just before the text
    assert max(frames) < first_text
    assert not spinner._thread  # stopped and joined
    assert all(name == "out" for name, _ in events[first_text:])


def test_no_spinner_off_a_terminal_or_with_term_dumb(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not Spinner.for_stream(FakeTTY(tty=False)).enabled
    monkeypatch.setenv("TERM", "dumb")
    assert not Spinner.for_stream(FakeTTY()).enabled
    monkeypatch.setenv("TERM", "xterm")
    assert Spinner.for_stream(FakeTTY()).enabled
    off = FakeTTY(tty=False)
    spinner = Spinner.for_stream(off)
    spinner.start()
    spinner.stop()
    assert off.getvalue() == ""


@pytest.mark.parametrize("fault", [None, Fault(drop_after=2), Fault(status=500, reason="Boom")])
def test_no_spinner_and_no_colour_when_piped(aura_server: AuraServer, fault: Fault | None) -> None:
    """A terminal that says it could (TERM=xterm, no NO_COLOR), but pipes: not one ESC byte."""
    if fault is not None:
        aura_server.script(fault)
    env = {"TERM": "xterm", "NO_COLOR": "", "AURA_BASE_URL": aura_server.base_url}
    for stdin in ("a question\n", None):
        done = subprocess.run(
            [*AURA, "chat", *([] if stdin else ["hi"])],
            input=stdin.encode() if stdin else None,
            stdin=None if stdin else subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
            env={**os.environ, **env},
            check=False,
        )
        assert b"\x1b" not in done.stdout + done.stderr
        assert done.returncode == (0 if fault is None else 1)
        if fault is not None:
            aura_server.script(fault)


def test_the_spinner_uses_ascii_off_utf8() -> None:
    assert Spinner(FakeTTY(encoding="ascii"), enabled=True)._frames == "|/-\\"


# --- on a terminal ---------------------------------------------------------------------


def test_the_spinner_is_erased_on_ctrl_c(
    aura_server: AuraServer, terminal: Callable[..., Terminal]
) -> None:
    aura_server.script(Fault(delay=TIMEOUT))  # no answer at all
    tty = terminal([*AURA, "chat", "--base-url", aura_server.base_url], {"TERM": "xterm"})
    typed(tty, "hi")
    tty.expect(b"\r\xe2\xa0\x8b ")  # the first frame
    tty.interrupt()
    tty.expect(b"\r\x1b[K")
    tty.expect(b"[interrupted: Ctrl-C]")
    tty.expect(b"you> ")


def test_colours_on_a_terminal_and_none_with_no_color(
    aura_server: AuraServer, terminal: Callable[..., Terminal]
) -> None:
    for env, bold in [({"TERM": "xterm"}, True), ({"TERM": "xterm", "NO_COLOR": "1"}, False)]:
        aura_server.script(Fault(chunks=(b"cut",), drop_after=1))
        tty = terminal([*AURA, "chat", "--base-url", aura_server.base_url], env)
        typed(tty, "hi")
        tty.expect(b"[interrupted: the connection dropped]")
        tty.expect(b"you> ")
        assert (b"\x1b[1myou> " in tty.seen) is bold
        assert (b"\x1b[2m[interrupted: the connection dropped]" in tty.seen) is bold
        assert b"\x1b[2m" in tty.seen or not bold


def test_slash_commands(
    aura_server: AuraServer, terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    tty = terminal([*AURA, "chat", "--base-url", aura_server.base_url, "--system", "Be brief."])
    typed(tty, "/system")
    tty.expect(b"system prompt: Be brief.")
    typed(tty, "/nope")
    tty.expect(b"aura: unknown command /nope; the commands are /system /clear /retry")
    typed(tty, "//etc is a path")
    tty.expect(b"You said: \xe2\x80\x9c/etc is a path")
    typed(tty, "/retry")
    tty.expect(b"You said: \xe2\x80\x9c/etc is a path")
    typed(tty, "/clear")
    tty.expect(b"(conversation cleared)")
    typed(tty, "/system Answer in French.")
    tty.expect(b"(system prompt set)")
    typed(tty, "after")
    tty.expect(b"You said:")
    typed(tty, "/load " + str(tmp_path / "missing.json"))
    tty.expect(b"aura: error: cannot read ")
    typed(tty, "/save")
    tty.expect(b"usage: /save FILE")
    typed(tty, "/quit")
    assert tty.process.wait(TIMEOUT) == 0
    first, retried, after = sent(aura_server)
    assert first == retried == [user("/etc is a path")]  # /retry replaced the answer
    assert after == [user("after")]  # /clear forgot the rest
    prompts = [r.json()["prompt"] for r in aura_server.requests]
    assert prompts == ["Be brief.", "Be brief.", "Answer in French."]


def test_history_file_is_private_bounded_and_never_holds_the_key(
    aura_server: AuraServer, terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    path = tmp_path / "state" / "history"
    env = {"AURA_HISTORY": str(path), "AURA_API_KEY": "sk-secret-42"}
    tty = terminal([*AURA, "chat", "--base-url", aura_server.base_url], env)
    typed(tty, "my key is sk-secret-42")
    tty.expect(b"You said:")
    typed(tty, "a question")
    tty.expect(b"You said:")
    typed(tty, "/exit")
    assert tty.process.wait(TIMEOUT) == 0
    lines = path.read_text().splitlines()
    assert "a question" in lines
    assert "/exit" in lines
    assert not any("sk-secret-42" in line for line in lines)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The next conversation recalls it with arrow-up.
    tty = terminal([*AURA, "chat", "--base-url", aura_server.base_url], env)
    tty.expect(b"you> ")
    tty.wait_until_reading()
    tty.type("\x1b[A\x1b[A\n")  # up twice: "a question"
    tty.expect(b"You said: \xe2\x80\x9ca question")


def test_a_recorded_session(
    aura_server_factory: Callable[..., AuraServer],
    terminal: Callable[..., Terminal],
    tmp_path: Path,
) -> None:
    """The whole first hour in one session: what the README's transcript shows."""
    server = aura_server_factory(pace=0)
    saved = tmp_path / "chat.json"
    env = {"AURA_HISTORY": str(tmp_path / "history"), "TERM": "xterm", "COLUMNS": "100"}
    tty = terminal([*AURA, "chat", "--base-url", server.base_url], env)
    typed(tty, "What is Aura?")
    tty.expect(b"You said: \xe2\x80\x9cWhat is Aura?")
    typed(tty, "/help")
    tty.expect(HELP.splitlines()[-1].encode())
    typed(tty, "/system Be brief.")
    tty.expect(b"(system prompt set)")
    tty.expect(b"you> ")
    tty.wait_until_reading()
    tty.type("\x1b[A\x1b[A\x1b[A\n")  # arrow-up three times: the first question again
    tty.expect(b"Your system prompt says: \xe2\x80\x9cBe brief.")
    typed(tty, '"""')
    typed(tty, "Two lines:", b"... ")
    typed(tty, "the second.", b"... ")
    typed(tty, '"""', b"... ")
    tty.expect(b"the second.\xe2\x80\x9d")
    typed(tty, f"/save {saved}")
    tty.expect(b"(saved 7 messages to ")
    tty.expect(b"you> ")
    tty.wait_until_reading()
    tty.type("\x04")  # Ctrl-D
    tty.rest()
    assert tty.process.wait(TIMEOUT) == 0
    _, recalled, block = sent(server)
    assert [m["content"] for m in recalled] == [
        "What is Aura?",
        recalled[1]["content"],
        "What is Aura?",  # recalled with arrow-up
    ]
    assert block[-1] == user("Two lines:\nthe second.")
    again = terminal([*AURA, "chat", "--base-url", server.base_url, "--load", str(saved)], env)
    again.expect(b"(loaded 6 messages from ")
    typed(again, "And now?")
    again.expect(b"I can see 7 of the 7 messages you sent.")
    server.script(Fault(stall_after=2))  # the next reply stops halfway, connection open
    typed(again, "And then?")
    again.expect(b"And then?\r\nHello! I ")  # two chunks came
    again.interrupt()  # Ctrl-C during the reply
    again.expect(b"[interrupted: Ctrl-C]")
    again.expect(b"you> ")
    again.wait_until_reading()
    again.type("\x04")
    again.rest()
    assert again.process.wait(TIMEOUT) == 0
    assert server.requests[-1].json()["prompt"] == "Be brief."
    assert len(server.requests) == 5  # 3 turns, then 2 after --load (the last cut by Ctrl-C)

    session = _anonymous(tty.transcript() + again.transcript(), server, tmp_path)
    assert session.startswith("Chatting with http://127.0.0.1:PORT (openchat_3.6). /help lists")
    assert "\nyou> What is Aura?\nHello! I am the local Aura emulator" in session
    assert '\nyou> """\n... Two lines:\n... the second.\n... """\n' in session
    assert session.endswith("you> \n")  # Ctrl-D: the newline
    assert "\x1b" not in session
    assert "\r" not in session
    if os.environ.get("AURA_RECORD") == "1":
        (DOCS / "cli-session.txt").write_text(session, encoding="utf-8")


def _anonymous(text: str, server: AuraServer, tmp_path: Path) -> str:
    """The transcript with the port and the temporary directory made stable."""
    return text.replace(str(tmp_path), "/tmp").replace(f":{server.port}", ":PORT")


# --- aura serve's request log ------------------------------------------------------------


def test_the_server_logs_one_line_per_request(
    aura_server: AuraServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aura_sdk.server")
    aura_server.script(Fault(status=500, reason="Busy"))
    with AuraClient(base_url=aura_server.base_url, api_key="sk-logged-never", max_retries=0) as c:
        with pytest.raises(Exception, match="Busy"):
            c.chat([user("hi")])
        c.chat([user("hi")])
        c.models()
    # A query string may hold a key (some clients put one there): never logged.
    httpx.post(f"{aura_server.base_url}/api/models?api_key=sk-logged-never", timeout=TIMEOUT)
    deadline = time.monotonic() + TIMEOUT  # the line comes once the answer is out: wait for it
    while len(caplog.records) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    records = [r for r in caplog.records if r.name == "aura_sdk.server"]
    lines = [r.getMessage() for r in records]
    assert re.fullmatch(r"127\.0\.0\.1 POST /api/chat 500 \d+ B \d+ ms", lines[0]), lines
    assert re.fullmatch(r"127\.0\.0\.1 POST /api/chat 200 \d+ B \d+ ms", lines[1]), lines
    assert re.fullmatch(r"127\.0\.0\.1 POST /api/models 200 \d+ B \d+ ms", lines[2]), lines
    assert re.fullmatch(r"127\.0\.0\.1 POST /api/models 500 \d+ B \d+ ms", lines[3]), lines
    assert [r.status for r in records] == [500, 200, 200, 500]  # type: ignore[attr-defined]
    assert records[1].sent > 200  # type: ignore[attr-defined]
    assert "sk-logged-never" not in caplog.text


def test_aura_serve_logs_requests_unless_quiet(tmp_path: Path) -> None:
    for quiet in ([], ["--quiet"]):
        with subprocess.Popen(
            [*AURA, "serve", "--port", "0", "--pace", "0", *quiet],
            stderr=subprocess.PIPE,
            text=True,
        ) as serve:
            assert serve.stderr is not None
            try:
                match = re.search(r"http://127\.0\.0\.1:\d+", serve.stderr.readline())
                assert match
                result = aura("chat", "--base-url", match.group(0), "hi")
                assert result.returncode == 0, result.stderr
                serve.send_signal(2)
                rest = serve.stderr.read()
                serve.wait(TIMEOUT)
            finally:
                serve.kill()
        if quiet:
            assert rest == ""
        else:
            assert re.fullmatch(r"127\.0\.0\.1 POST /api/chat 200 \d+ B \d+ ms\n", rest), rest


# --- help ----------------------------------------------------------------------------------

ENVIRONMENT = [
    "AURA_BASE_URL",
    "AURA_API_KEY",
    "AURA_DIALECT",
    "AURA_LOG",
    "AURA_HISTORY",
    "NO_COLOR",
]


@pytest.mark.parametrize(
    ("args", "example"),
    [([], 'cat notes.txt | aura chat "summarize"'), (["chat"], "aura chat --load chat.json")],
)
def test_help_shows_examples_and_the_environment(args: list[str], example: str) -> None:
    result = aura(*args, "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout
    assert example in result.stdout
    assert all(f"  {name} " in result.stdout for name in ENVIRONMENT), result.stdout
    assert "openchat.team" not in result.stdout
