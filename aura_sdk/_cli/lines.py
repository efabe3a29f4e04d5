"""Reading what the user types: readline line editing, its history file, ``\"\"\"`` blocks.

The stdlib ``readline`` (GNU readline or libedit) where it imports and stdin is a
terminal; plain ``input()`` otherwise. The history file lives in the user's state
directory (see ``history_path``), holds at most ``HISTORY_LENGTH`` lines, is
created private (mode 0600), and never gets a line that holds a secret.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection, Mapping
from types import ModuleType
from typing import TextIO

from .terminal import Style, say, shown

__all__ = ["HISTORY_LENGTH", "BLOCK", "LineReader", "history_path"]

HISTORY_LENGTH = 1000
"""The most lines the history file keeps (the newest)."""

BLOCK = '"""'
"""A line that is exactly this opens a multi-line message; the next one closes it."""


def history_path(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """Where the history goes: ``$AURA_HISTORY`` (empty: nowhere), else the state dir.

    ``$XDG_STATE_HOME/aura/history`` or ``~/.local/state/aura/history`` on Linux
    and other POSIX systems, ``~/Library/Application Support/aura/history`` on
    macOS, ``%LOCALAPPDATA%\\aura\\history`` on Windows.
    """
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if "AURA_HISTORY" in env:
        return os.path.expanduser(env["AURA_HISTORY"]) or None
    home = env.get("HOME") or os.path.expanduser("~")
    if platform == "win32":
        base = env.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return os.path.join(base, "aura", "history")
    if platform == "darwin":
        return os.path.join(home, "Library", "Application Support", "aura", "history")
    state = env.get("XDG_STATE_HOME", "")
    if not os.path.isabs(state):  # the XDG spec: a relative path is to be ignored
        state = os.path.join(home, ".local", "state")
    return os.path.join(state, "aura", "history")


def _import_readline() -> ModuleType | None:
    try:
        import readline
    except ImportError:  # Windows, or a Python built without it
        return None
    return readline


class LineReader:
    """``read()`` one message: a line, or a ``\"\"\"`` block; ``EOFError`` at the end.

    With ``readline`` (only when ``tty``): line editing, arrow-up recall, and the
    history file at ``path``. A line holding one of ``secrets`` is never added
    to the history. A failure to read or write the history file is said once on
    ``err`` and the conversation goes on without it.
    """

    def __init__(
        self,
        *,
        tty: bool,
        style: Style,
        err: TextIO,
        path: str | None,
        secrets: Collection[str] = (),
        readline: ModuleType | Callable[[], ModuleType | None] | None = _import_readline,
    ) -> None:
        self.tty = tty
        self._style = style
        self._err = err
        self._secrets = [s for s in secrets if s]
        self._path = path
        self._warned = False
        module = readline() if callable(readline) else readline
        self.readline = module if tty else None
        if self.readline is not None:
            self._set_up(self.readline)

    # --- the history -------------------------------------------------------------

    def _set_up(self, readline: ModuleType) -> None:
        if hasattr(readline, "set_auto_history"):
            readline.set_auto_history(False)  # what is kept is chosen here: no secrets
        readline.set_history_length(HISTORY_LENGTH)
        if self._path is not None and os.path.exists(self._path):
            try:
                readline.read_history_file(self._path)
            except OSError as exc:
                self._warn("read", exc)

    def remember(self, line: str) -> None:
        """Add ``line`` to the history (and its file), unless it is blank, a repeat or secret."""
        readline = self.readline
        if readline is None or not line.strip():
            return
        if any(secret in line for secret in self._secrets):
            return
        length = readline.get_current_history_length()
        if length and readline.get_history_item(length) == line:
            return
        readline.add_history(line)
        self._save(readline)

    def _save(self, readline: ModuleType) -> None:
        if self._path is None:
            return
        try:
            directory = os.path.dirname(self._path)
            if directory:
                os.makedirs(directory, mode=0o700, exist_ok=True)
            if not os.path.exists(self._path):
                os.close(os.open(self._path, os.O_WRONLY | os.O_CREAT, 0o600))
            readline.write_history_file(self._path)
        except OSError as exc:
            self._warn("write", exc)

    def _warn(self, doing: str, exc: OSError) -> None:
        if not self._warned:
            self._warned = True
            where = shown(self._path or "")
            say(
                self._err, f"aura: cannot {doing} the history file {where}: {exc.strerror or exc}\n"
            )

    # --- reading -----------------------------------------------------------------

    def _prompt(self, text: str) -> str:
        if not self.tty:
            return ""
        if not self._style.enabled:
            return text
        bold = self._style.bold(text)
        if self.readline is not None:
            # readline counts the prompt's width: its escapes are marked as invisible.
            bold = bold.replace("\x1b[1m", "\x01\x1b[1m\x02").replace("\x1b[0m", "\x01\x1b[0m\x02")
        return bold

    def line(self, prompt: str = "you> ") -> str:
        """One line as typed (``EOFError`` at the end, ``KeyboardInterrupt`` on Ctrl-C)."""
        text = input(self._prompt(prompt))
        self.remember(text)
        return text

    def read(self) -> str:
        """One message: a line, or the lines between two ``\"\"\"`` lines joined.

        Ctrl-C in a block drops the block (``KeyboardInterrupt``); end of input
        in a block raises ``EOFError`` and the unfinished block is not sent.
        """
        first = self.line()
        if first.strip() != BLOCK:
            return first
        lines: list[str] = []
        while True:
            line = self.line("... ")
            if line.strip() == BLOCK:
                return "\n".join(lines)
            lines.append(line)
