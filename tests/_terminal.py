"""A child process on a pseudo-terminal, for the ``aura chat`` conversation tests (POSIX).

``Terminal`` starts the real command with a pty as stdin, stdout and stderr
(``isatty()`` is true: the prompt, readline, the spinner and colours are on), and
reads what it shows with a bounded wait, so a CLI that misbehaves fails the
test instead of hanging it. ``transcript()`` is the session as plain text.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping

import pytest

TIMEOUT = 30
AURA = [sys.executable, "-m", "aura_sdk"]

_TOKEN = re.compile(
    r"\x1b\[([0-?]*)[ -/]*([@-~])"  # CSI: cursor moves and erases are played, the rest dropped
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC (a window title)
    r"|\x1b[=>()][0-9A-Za-z]?"  # keypad modes, character sets
    r"|[\x01\x02]"  # readline's invisible-prompt markers
    r"|[\r\b\n]|[^\x1b\r\b\n\x01\x02]+"
)


def plain(data: bytes) -> str:
    """Terminal output as the screen shows it, as text: a small line-by-line terminal.

    CR, backspace, cursor left and right and erase-to-end-of-line are played
    (readline redraws a line recalled with arrow-up so, and the spinner erases
    itself so); colours and other escapes are dropped.
    """
    lines: list[str] = []
    line: list[str] = []
    cursor = 0
    for match in _TOKEN.finditer(data.decode("utf-8", "replace")):
        token = match.group(0)
        final = match.group(2)
        count = int(match.group(1) or 1) if (match.group(1) or "").isdigit() else 1
        if token == "\n":
            lines.append("".join(line))
            line, cursor = [], 0
        elif token == "\r":
            cursor = 0
        elif token == "\b":
            cursor = max(cursor - 1, 0)
        elif final == "D":
            cursor = max(cursor - count, 0)
        elif final == "C":
            cursor += count
        elif final == "K" and match.group(1) in ("", "0"):
            del line[cursor:]
        elif final is None and not token.startswith(("\x1b", "\x01", "\x02")):
            for char in token:
                line.extend(" " * (cursor - len(line)))
                if cursor < len(line):
                    line[cursor] = char
                else:
                    line.append(char)
                cursor += 1
    lines.append("".join(line))
    return "\n".join(lines)


class Terminal:
    """A child process on a pseudo-terminal: ``isatty()`` is true, the prompt shows."""

    def __init__(self, args: list[str], env: Mapping[str, str] | None = None) -> None:
        master, slave = os.openpty()
        environ = {**os.environ, "AURA_HISTORY": "", "INPUTRC": os.devnull}
        environ.update(env or {})
        self.process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=environ)
        os.close(slave)
        self.master = master
        self.seen = b""
        self._pos = 0

    def expect(self, text: bytes, limit: float = TIMEOUT) -> bytes:
        """Wait (at most ``limit``) for ``text`` after what was expected last; what came before."""
        deadline = time.monotonic() + limit
        while text not in self.seen[self._pos :]:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.master], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"{text!r} never came; seen {self.seen[self._pos :]!r}")
            try:
                data = os.read(self.master, 4096)
            except OSError:  # EIO: the child has gone
                data = b""
            if not data:
                raise AssertionError(f"{text!r} never came; seen {self.seen[self._pos :]!r}")
            self.seen += data
        start = self._pos
        end = self.seen.index(text, start) + len(text)
        self._pos = end
        return self.seen[start:end]

    def rest(self, limit: float = TIMEOUT) -> bytes:
        """Everything until the child closes the terminal (it exited), at most ``limit``."""
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.master], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"the child never ended; seen {self.seen[self._pos :]!r}")
            try:
                data = os.read(self.master, 4096)
            except OSError:
                data = b""
            if not data:
                break
            self.seen += data
        start, self._pos = self._pos, len(self.seen)
        return self.seen[start:]

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)  # what the terminal sends on Ctrl-C

    def wait_until_reading(self) -> None:
        """Until the child waits in ``read()`` for the line.

        ``input()`` loses a signal that comes between its prompt and its ``read()``
        (CPython's ``my_fgets`` checks signals only on ``EINTR``), and readline
        drops typed keys that come before it has set the terminal up: a window of
        microseconds for a person, but a test reacts to the prompt at once.
        """
        deadline = time.monotonic() + TIMEOUT
        while _state(self.process.pid) != "S" and time.monotonic() < deadline:
            time.sleep(0.001)

    def interrupt_at_the_prompt(self) -> None:
        """Ctrl-C once the child waits in ``read()`` for the line."""
        self.wait_until_reading()
        self.interrupt()

    def transcript(self) -> str:
        return plain(self.seen)

    def close(self) -> None:
        self.process.kill()
        self.process.wait(TIMEOUT)
        os.close(self.master)


def _state(pid: int) -> str:
    """The process state from ``/proc`` (``S``: asleep, blocked in a system call)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:  # it has gone
        return "S"


@pytest.fixture
def terminal() -> Iterator[Callable[..., Terminal]]:
    started: list[Terminal] = []

    def start(args: list[str], env: Mapping[str, str] | None = None) -> Terminal:
        started.append(Terminal(args, env))
        return started[-1]

    yield start
    for one in started:
        one.close()
