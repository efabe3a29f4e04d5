"""What reaches the terminal: escaped server text, colours, the spinner, stdout.

Nothing here decorates a stream that is not a terminal: colours need a tty,
``TERM`` other than ``dumb`` and no ``NO_COLOR`` (https://no-color.org); the
spinner needs the same of stderr (``NO_COLOR`` aside: it has no colour).
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Mapping
from typing import TextIO

__all__ = ["Output", "OutputError", "Spinner", "Style", "UsageError", "say", "shown"]

# What a server sends never reaches the terminal raw: every C0 control but tab and
# newline (ESC starts the terminal's escape sequences, CR rewrites the line), DEL, the
# C1 controls (U+0080-U+009F; U+009B is a one-character CSI) and the bidirectional
# overrides and isolates (which reorder what is shown) are written as visible escapes.
_ESCAPED = [
    *(c for c in range(0x20) if c not in (0x09, 0x0A)),
    *range(0x7F, 0xA0),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
_ESCAPES = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _ESCAPED}


def shown(text: str) -> str:
    r"""``text`` safe for a terminal: ``"\x1b[31m"`` becomes the visible ``\x1b[31m``.

    Newlines, tabs and all other characters (any script, emoji) pass unchanged.
    """
    return text.translate(_ESCAPES)


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


class OutputError(Exception):
    """Writing to stdout failed (a closed pipe, a full disk)."""

    def __init__(self, exc: OSError) -> None:
        super().__init__(f"cannot write the output: {exc.strerror or exc}")
        self.broken_pipe = isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE


def is_terminal(stream: object, environ: Mapping[str, str] | None = None) -> bool:
    """True if ``stream`` is a terminal that understands escape sequences."""
    env = os.environ if environ is None else environ
    if env.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):  # no such method, or closed
        return False


class Style:
    """Colours for one stream: ``dim`` for markers, ``bold`` for the prompt, or none.

    ``Style.for_stream(sys.stdout)`` has colours only on a terminal (not
    ``TERM=dumb``) with ``NO_COLOR`` unset or empty, as https://no-color.org asks.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: object, environ: Mapping[str, str] | None = None) -> Style:
        env = os.environ if environ is None else environ
        return cls(is_terminal(stream, env) and not env.get("NO_COLOR"))

    def dim(self, text: str) -> str:
        return f"\x1b[2m{text}\x1b[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return f"\x1b[1m{text}\x1b[0m" if self.enabled else text


class Output:
    """stdout for replies: every failure to write is an ``OutputError``."""

    def __init__(self, stream: TextIO, style: Style | None = None) -> None:
        self._stream = stream
        self.style = style or Style(False)
        self.dirty = False  # something written since the last newline

    def write(self, text: str) -> None:
        if text:  # first: Ctrl-C may come while the text is being written
            self.dirty = not text.endswith("\n")
        try:
            self._stream.write(text)
            self._stream.flush()
        except OSError as exc:
            raise OutputError(exc) from None

    def end_line(self) -> None:
        """A newline, if the last thing written did not end one."""
        if self.dirty:
            self.write("\n")

    def note(self, text: str) -> None:
        """One dim line of its own (``[length]``, ``[interrupted: ...]``)."""
        self.end_line()
        self.write(self.style.dim(text) + "\n")


def say(err: TextIO, text: str) -> None:
    """Write to stderr, never failing: when stderr is gone there is nowhere left to say it."""
    try:
        err.write(text)
        err.flush()
    except (OSError, ValueError):
        pass


class Spinner:
    """A spinner on ``err`` while a reply is awaited, in a thread; a no-op off a terminal.

    ``start()`` before the request, ``stop()`` before the first text is written
    (and on every error or interrupt): ``stop`` waits for the thread, then erases
    the spinner's line (``\\r`` and erase-line), so no frame comes after it.
    The first frame waits ``delay`` seconds: a quick reply shows none.
    """

    INTERVAL = 0.08

    def __init__(self, err: TextIO, *, enabled: bool, delay: float = 0.15) -> None:
        self._err = err
        self.enabled = enabled
        self._delay = delay
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = False
        encoding = (getattr(err, "encoding", None) or "").lower().replace("-", "")
        self._frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏" if encoding == "utf8" else "|/-\\"

    @classmethod
    def for_stream(cls, err: TextIO) -> Spinner:
        return cls(err, enabled=is_terminal(err))

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._drawn = False
        self._thread = threading.Thread(target=self._run, name="aura-spinner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self._stop.wait(self._delay):
            return
        index = 0
        while not self._stop.is_set():
            self._drawn = True
            say(self._err, f"\r{self._frames[index % len(self._frames)]} ")
            index += 1
            self._stop.wait(self.INTERVAL)

    def stop(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout=2)
        self._thread = None
        if self._drawn:
            say(self._err, "\r\x1b[K")
            self._drawn = False
