"""``aura chat``: one reply streamed to the terminal, and the interactive conversation.

In a conversation (stdin a terminal) a line starting with ``/`` is a command
(``COMMANDS``); replies go to stdout, everything else the CLI says to stderr.
A reply that did not end normally is followed by one dim line: ``[length]``
(``max_tokens`` reached), ``[stop]`` (a stop string), ``[incomplete]`` (the
server ended without saying why) or ``[interrupted: WHY]`` (Ctrl-C, a dropped
connection, a timeout: the partial text stays in the conversation, marked).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from .._client import AuraClient
from .._exceptions import (
    AuraError,
    ResponseTooLargeError,
    StreamInterruptedError,
    StreamTimeoutError,
)
from .._messages import Message
from .._params import ChatParams
from .._validation import redact_url
from .conversation import Conversation, ConversationError
from .lines import BLOCK, LineReader
from .terminal import Output, Spinner, say, shown

__all__ = ["COMMANDS", "EXIT_INTERRUPTED", "Chat", "interrupted_because", "stream_reply"]

EXIT_INTERRUPTED = 130

COMMANDS = {
    "/system": "/system TEXT   set the system prompt (/system alone shows it)",
    "/clear": "/clear         forget the conversation (the system prompt stays)",
    "/retry": "/retry         ask the last question again, replacing its answer",
    "/save": "/save FILE     save the conversation as JSON (the SDK's message format)",
    "/load": "/load FILE     continue a saved conversation (also: aura chat --load FILE)",
    "/help": "/help          this list",
    "/exit": "/exit, /quit   leave (Ctrl-D too)",
}
_ALIASES = {"/quit": "/exit", "/?": "/help"}
HELP = (
    "Commands:\n"
    + "".join(f"  {line}\n" for line in COMMANDS.values())
    + f"A line that is exactly {BLOCK} starts a multi-line message; the next {BLOCK} sends it.\n"
    "To send a line that starts with /, double it (//etc sends /etc) or start with a space.\n"
    "Ctrl-C stops a reply (what came stays, marked); at the prompt it clears the line,\n"
    "and a second Ctrl-C in a row leaves.\n"
)


def interrupted_because(exc: StreamInterruptedError) -> str:
    """Why a reply broke off, in a few words for the ``[interrupted: ...]`` line."""
    if isinstance(exc, StreamTimeoutError):
        return "the server went quiet (timeout)"
    if isinstance(exc, ResponseTooLargeError):
        return "the reply was too large"
    return "the connection dropped"


def stream_reply(
    client: AuraClient,
    messages: list[Message],
    params: ChatParams,
    out: Output,
    spinner: Spinner,
    *,
    reasoning: bool = False,
) -> tuple[str, str | None]:
    """Stream one reply to ``out``: its text, and a mark when it did not end normally.

    ``reasoning``: a reasoning model's reasoning is shown too, dimmed, before the
    text it came before (it arrives before the answer; the spinner turns meanwhile).

    The mark is ``"stopped"`` (Ctrl-C, before the first chunk or during the
    reply: what arrived is kept), ``"length"`` (``max_tokens`` reached),
    ``"stop"`` (a stop string), or ``"incomplete"`` (the server ended without
    saying why). A failure raises (a ``StreamInterruptedError`` carries the text
    printed so far). The spinner turns from the request to the first text.
    """
    stream = client.stream(messages, **params)
    spinner.start()
    thought = 0  # how much of the reasoning is shown
    try:
        with stream:  # entering sends the request
            for chunk in stream:
                if chunk:
                    spinner.stop()
                if reasoning and len(stream.reasoning) > thought:
                    thought = _think(out, stream.reasoning, thought)
                out.write(shown(chunk))
    except KeyboardInterrupt:
        return stream.text, "stopped"
    finally:
        spinner.stop()
        if reasoning and len(stream.reasoning) > thought:  # reasoning after the text, or alone
            out.end_line()
            _think(out, stream.reasoning, thought)
    out.write("\n")
    if client.dialect == "aura":
        return stream.text, None
    if stream.stop_sequence is not None:
        return stream.text, "stop"
    reason = stream.finish_reason
    return stream.text, ("incomplete" if reason is None else None if reason == "stop" else reason)


def _think(out: Output, reasoning: str, shown_so_far: int) -> int:
    """Show the reasoning not shown yet, dimmed, on lines of its own."""
    out.end_line()
    out.write(out.style.dim(shown(reasoning[shown_so_far:]).strip("\n")) + "\n\n")
    return len(reasoning)


class Chat:
    """The interactive conversation on a terminal: read, send, show, repeat."""

    def __init__(
        self,
        client: AuraClient,
        conversation: Conversation,
        params: Callable[[Conversation], ChatParams],
        *,
        reader: LineReader,
        out: Output,
        err: TextIO,
        spinner: Spinner,
        intro: str = "",
        reasoning: bool = False,
    ) -> None:
        self.intro = intro
        self.reasoning = reasoning
        self.client = client
        self.conversation = conversation
        self._params = params
        self.reader = reader
        self.out = out
        self.err = err
        self.spinner = spinner

    def _say(self, text: str) -> None:
        say(self.err, text)

    def _error(self, exc: BaseException) -> None:
        say(self.err, f"aura: error: {shown(str(exc))}\n")

    def run(self) -> int:
        """Until Ctrl-D or ``/exit`` (status 0), or Ctrl-C twice at the prompt (130)."""
        client = self.client
        self._say(
            f"Chatting with {shown(redact_url(client.base_url))} ({shown(client.model.id)}). "
            "/help lists commands; Ctrl-C stops a reply, Ctrl-D leaves.\n" + self.intro
        )
        interrupted = False  # Ctrl-C at the prompt once: a second one leaves
        while True:
            try:
                text = self.reader.read()
            except EOFError:
                self.out.write("\n")  # the shell's prompt on a line of its own
                return 0
            except KeyboardInterrupt:
                if interrupted:
                    self._say("\n")
                    return EXIT_INTERRUPTED
                interrupted = True
                self._say("\n(Ctrl-C again or Ctrl-D leaves)\n")
                continue
            interrupted = False
            if not _is_text(text):
                encoding = (getattr(sys.stdin, "encoding", None) or "utf-8").lower()
                self._say(f"aura: error: that line is not valid {encoding} text; not sent\n")
                continue
            if not text.strip():
                continue
            if text.startswith("/") and not text.startswith("//"):
                question = self.command(text)
                if question is _EXIT:
                    return 0
                if question is None:
                    continue
                assert isinstance(question, str)
                text = question
            elif text.startswith("//"):
                text = text[1:]
            self.turn(text)

    def command(self, line: str) -> str | _Leave | None:
        """Run one slash command; the text to send (``/retry``), ``_EXIT``, or None."""
        name, _, rest = line.partition(" ")
        name = _ALIASES.get(name, name)
        argument = rest.strip()
        conversation = self.conversation
        if name == "/help":
            self._say(HELP)
        elif name == "/exit":
            return _EXIT
        elif name == "/system":
            if argument:
                conversation.system = argument
                self._say("(system prompt set)\n")
            elif conversation.system is None:
                self._say("(no system prompt; /system TEXT sets one)\n")
            else:
                self._say(f"system prompt: {shown(conversation.system)}\n")
        elif name == "/clear":
            conversation.clear()
            self._say("(conversation cleared)\n")
        elif name == "/retry":
            question = conversation.retry()
            if question is None:
                self._say("(nothing to retry yet)\n")
            return question
        elif name in ("/save", "/load"):
            if not argument:
                self._say(f"usage: {name} FILE\n")
            elif name == "/save":
                try:
                    count = conversation.save(argument)
                except ConversationError as exc:
                    self._error(exc)
                else:
                    self._say(f"(saved {count} messages to {shown(argument)})\n")
            else:
                try:
                    self.conversation = Conversation.load(argument)
                except ConversationError as exc:
                    self._error(exc)
                else:
                    self._say(loaded_note(self.conversation, argument))
        else:
            names = " ".join([*COMMANDS, "/quit"])
            self._say(
                f"aura: unknown command {shown(name)}; the commands are {names} "
                "(//text sends a line starting with /)\n"
            )
        return None

    def turn(self, text: str) -> None:
        """Send ``text``, show the reply; a failure is one line and the conversation goes on."""
        conversation, out = self.conversation, self.out
        conversation.ask(text)
        try:
            reply, mark = stream_reply(
                self.client,
                conversation.messages,
                self._params(conversation),
                out,
                self.spinner,
                reasoning=self.reasoning,
            )
        except StreamInterruptedError as exc:
            if not exc.text:
                conversation.unask()  # nothing came: as after an error, /retry sends it again
                self._error(exc)
                return
            out.note(f"[interrupted: {interrupted_because(exc)}]")
            conversation.answer(exc.text, partial=True)
            return
        except AuraError as exc:
            conversation.unask()  # the server never answered it: /retry sends it again
            self._error(exc)
            return
        if mark == "stopped":
            out.note("[interrupted: Ctrl-C]")
            if reply:
                conversation.answer(reply, partial=True)
            else:
                conversation.unask()  # stopped before any answer: as if never sent
            return
        if mark is not None:
            out.note(f"[{shown(mark)}]")  # why the reply ended, when not a normal stop
        conversation.answer(reply)


class _Leave:
    """What ``Chat.command`` returns for ``/exit``."""


_EXIT = _Leave()


def loaded_note(conversation: Conversation, path: str) -> str:
    count = len(conversation.messages)
    system = "" if conversation.system is None else ", with a system prompt"
    return f"(loaded {count} messages from {shown(path)}{system})\n"


def _is_text(value: str) -> bool:
    """False if ``value`` holds bytes the locale could not decode (surrogateescape)."""
    return not any("\udc80" <= c <= "\udcff" for c in value)
