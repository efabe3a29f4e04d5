"""The ``aura`` command line: chat with an Aura server, list its models, or run one.

    aura chat "What is Aura?"            stream one reply (server: --base-url or $AURA_BASE_URL)
    aura chat                            a conversation on a terminal (/help lists its commands)
    cat notes.txt | aura chat "summarize"  one message: the prompt, a blank line, the piped text
    aura chat --local "hi"               talk to a local emulator started in-process
    aura chat --dialect openai --base-url http://127.0.0.1:18888/v1 "hi"
                                         OpenChat's own server (or vLLM, ollama, llama.cpp)
    aura models                          list the server's models
    aura serve --port 8000               run the local emulator (--dialect openai: OpenChat's server)

The API key, if any, comes from ``$AURA_API_KEY`` only, never from the command line.

Exit status: 0, 1 for an error (one line on stderr: ``aura: error: ...``), 2 for
bad input, 130 after Ctrl-C (in a conversation: Ctrl-C twice at the prompt). What
a server sends is shown with its control characters escaped (see ``shown``).
"""

from __future__ import annotations

import argparse
import errno
import io
import logging
import math
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from typing import NoReturn, TextIO

from . import AuraClient, AuraError, AuraValidationError, user
from ._cli.chat import EXIT_INTERRUPTED, Chat, loaded_note, stream_reply
from ._cli.conversation import Conversation, ConversationError
from ._cli.lines import LineReader, history_path
from ._cli.terminal import Output, OutputError, Spinner, Style, UsageError, say, shown
from ._dialects import resolve_dialect
from ._logs import LOG_FORMAT, setup_from_env
from ._params import ChatParams
from ._timeouts import MAX_SECONDS, to_timeout
from ._version import __version__

__all__ = ["main", "shown"]

EXIT_ERROR = 1
EXIT_USAGE = 2

_UsageError = UsageError
_OutputError = OutputError


class _ShownFormatter(logging.Formatter):
    """``$AURA_LOG``'s records on the terminal: a reason phrase in them is escaped too."""

    def format(self, record: logging.LogRecord) -> str:
        return shown(super().format(record))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    if value > MAX_SECONDS:  # here, not as the Python API's advice to pass None
        raise argparse.ArgumentTypeError(
            f"expected at most {MAX_SECONDS:.0f} seconds (about 11.5 days), got {text!r}"
        )
    return value


def _pace(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return value


_ENVIRONMENT = """
environment:
  AURA_BASE_URL   the server's URL when --base-url is not given
  AURA_API_KEY    the API key (never on the command line; never printed)
  AURA_DIALECT    aura (default) or openai, when --dialect is not given
  AURA_LOG        debug or info: log requests and retries on stderr
  AURA_HISTORY    the conversation's line history file (empty: none); default
                  $XDG_STATE_HOME/aura/history or ~/.local/state/aura/history
                  (macOS: ~/Library/Application Support/aura/history,
                  Windows: %LOCALAPPDATA%\\aura\\history)
  NO_COLOR        set (not empty): no colours, even on a terminal
"""

_MAIN_EPILOG = """examples:
  aura chat "What is Aura?"              stream one reply
  aura chat                              a conversation (/help lists its commands)
  cat notes.txt | aura chat "summarize"  the prompt, then the piped text, as one message
  aura chat --local "hi"                 talk to a local emulator started in-process
  aura models                            list the server's models
  aura serve --port 8000                 run the local emulator for other programs
"""

_CHAT_EPILOG = """examples:
  aura chat "What is Aura?"
  aura chat --system "Be brief." --temperature 0.2 "Hi"
  cat notes.txt | aura chat "summarize"  one message: the prompt, a blank line, the text
  aura chat                              a conversation; /save chat.json keeps it
  aura chat --load chat.json             ... and this goes on from it
  aura chat --dialect openai --base-url http://127.0.0.1:18888/v1 "Hi"

in a conversation: /help /system [TEXT] /clear /retry /save FILE /load FILE /exit;
\"\"\" on a line of its own starts and ends a multi-line message; Ctrl-C stops a
reply, Ctrl-C at the prompt clears the line (twice in a row: leaves); Ctrl-D leaves.
"""


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="aura",
        description="Chat with an Aura (openchat-ui) server from the terminal.",
        epilog=_MAIN_EPILOG + _ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aura-sdk {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def server_options(sub: argparse.ArgumentParser) -> None:
        where = sub.add_mutually_exclusive_group()
        where.add_argument(
            "--base-url", help="the server's URL (default: $AURA_BASE_URL; see below)"
        )
        where.add_argument(
            "--local", action="store_true", help="start a local emulator in-process and use it"
        )
        sub.add_argument(
            "--timeout", type=_seconds, default=None, help="seconds for every time limit"
        )
        dialect_option(sub)

    def dialect_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--dialect",
            choices=("aura", "openai"),
            default=None,
            help="aura: an openchat-ui server; openai: an OpenAI-compatible one (OpenChat's "
            "own, vLLM, ollama, llama.cpp; base URL ending in /v1). Default: $AURA_DIALECT, "
            "then aura",
        )

    chat = commands.add_parser(
        "chat",
        help="stream a reply, or chat interactively with no PROMPT",
        description="Stream one reply to PROMPT (and to what is piped in), or, with no "
        "PROMPT on a terminal, hold a conversation: /help lists its commands.",
        epilog=_CHAT_EPILOG + _ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    chat.add_argument(
        "prompt",
        nargs="?",
        help="the message (piped input follows it after a blank line); leave out for a "
        "conversation",
    )
    chat.add_argument(
        "--load",
        metavar="FILE",
        help='start from a conversation saved with /save (JSON: a list of {"role", "content"})',
    )
    chat.add_argument("--system", help="a system prompt")
    chat.add_argument("--temperature", type=float, default=0.5, help="0 to 2 (default 0.5)")
    chat.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        help="token budget (aura: default 8192; openai: default none, the rest of the context)",
    )
    chat.add_argument(
        "--stop",
        action="append",
        default=None,
        metavar="TEXT",
        help="end the reply before TEXT (repeatable; openai dialect)",
    )
    chat.add_argument("--model", default="openchat_3.6", help="model id (default openchat_3.6)")
    chat.add_argument(
        "--reasoning",
        action="store_true",
        help="show a reasoning model's reasoning, dimmed, before its answer (openai dialect)",
    )
    server_options(chat)

    models = commands.add_parser(
        "models",
        help="list the server's models",
        epilog=_ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    server_options(models)

    serve = commands.add_parser(
        "serve",
        help="run the local Aura emulator",
        description="Run the local emulator; one line per request on stderr "
        "(client, method, path, status, bytes, milliseconds).",
        epilog="example:\n  aura serve --port 8000 &\n"
        '  aura chat --base-url http://127.0.0.1:8000 "hi"\n',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--quiet", action="store_true", help="no line per request on stderr")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=_port, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    serve.add_argument(
        "--pace", type=_pace, default=0.03, help="seconds between two streamed words"
    )
    dialect_option(serve)
    serve.add_argument(
        "--enable-sys-prompt",
        action="store_true",
        help="openai dialect: keep the system message, as OpenChat's server started with "
        "this flag does (by default it drops it, as OpenChat's does)",
    )
    serve.add_argument(
        "--flavor",
        default=None,
        metavar="NAME",
        help="openai dialect: the server to play, quirks and all: openchat (OpenChat's own, "
        "the default), vllm, ollama, llama-cpp-python, llama-server (llama.cpp's), lmstudio "
        "or sglang",
    )
    return parser


def _is_text(value: str) -> bool:
    """False if ``value`` holds bytes the locale could not decode (surrogateescape)."""
    return not any("\udc80" <= c <= "\udcff" for c in value)


def _check_settings(args: argparse.Namespace) -> None:
    """Everything the command line can get wrong, checked before anything starts."""
    if args.timeout is not None:
        to_timeout(args.timeout)


def _params(args: argparse.Namespace) -> ChatParams:
    params: ChatParams = {"temperature": args.temperature, "system": args.system}
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    if args.stop:
        params["stop"] = args.stop
    return params


@contextmanager
def _client(args: argparse.Namespace) -> Iterator[AuraClient]:
    options = {} if args.timeout is None else {"timeout": args.timeout}
    model = getattr(args, "model", "openchat_3.6")
    with ExitStack() as stack:
        client = AuraClient(
            base_url=_LOCAL if args.local else args.base_url,
            model=model,
            dialect=args.dialect,
            **options,
        )
        if args.command == "chat":
            # The same checks as every request, once, with no request (a stream sends
            # nothing until it is read): bad input is exit 2 at start-up, before a
            # conversation too.
            client.stream([user("check")], **_params(args))
        if args.local:
            from .server import AuraServer

            # OpenChat's server drops system messages unless started with
            # --enable-sys-prompt: the local one is, so --system shows.
            server = AuraServer(
                pace=0.02, dialect=client.dialect, enable_sys_prompt=client.dialect == "openai"
            )
            client.close()
            base_url = stack.enter_context(server).base_url
            client = AuraClient(base_url=base_url, model=model, dialect=args.dialect, **options)
        yield stack.enter_context(client)


_LOCAL = "http://127.0.0.1:9"
"""A placeholder, only to check the settings before ``--local`` starts its server."""


def _error(exc: BaseException, err: TextIO) -> None:
    say(err, f"aura: error: {shown(str(exc))}\n")


_write = say


def _read_piped() -> str | None:
    """All of stdin when it is not a terminal (a pipe, a file); None when there is none."""
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        return None
    try:
        text = stdin.read()
    except OSError as exc:
        raise UsageError(f"cannot read standard input: {exc.strerror or exc}") from None
    if not _is_text(text):
        raise UsageError(f"the input is not valid {_encoding()} text; not sent")
    return text.rstrip("\r\n")  # the last line's end is not part of the message


def _encoding() -> str:
    return (getattr(sys.stdin, "encoding", None) or sys.getfilesystemencoding()).lower()


def _conversation(args: argparse.Namespace) -> Conversation:
    conversation = Conversation()
    if args.load is not None:
        try:
            conversation = Conversation.load(args.load)
        except ConversationError as exc:
            raise UsageError(str(exc)) from None
    if args.system is not None:
        conversation.system = args.system
    return conversation


def _chat(
    client: AuraClient,
    args: argparse.Namespace,
    conversation: Conversation,
    out: Output,
    err: TextIO,
) -> int:
    def params(conversation: Conversation) -> ChatParams:
        return {**_params(args), "system": conversation.system}

    spinner = Spinner.for_stream(err)
    if args.prompt is None and sys.stdin is not None and sys.stdin.isatty():
        reader = LineReader(
            tty=True,
            style=out.style,
            err=err,
            path=history_path(),
            secrets=[os.environ.get("AURA_API_KEY", "")],
        )
        intro = "" if args.load is None else loaded_note(conversation, args.load)
        chat = Chat(
            client,
            conversation,
            params,
            reader=reader,
            out=out,
            err=err,
            spinner=spinner,
            intro=intro,
            reasoning=args.reasoning,
        )
        return chat.run()
    # One message: the prompt, then what was piped in after a blank line (as `llm` does).
    if args.prompt is None and sys.stdin is None:  # started with stdin closed (`<&-`)
        raise UsageError("standard input is closed: give a PROMPT, or input to read")
    piped = _read_piped()
    parts = [p for p in (args.prompt, piped) if p is not None and p.strip()]
    if not parts:
        raise UsageError("nothing to send: give a PROMPT, or input to read")
    conversation.ask("\n\n".join(parts))
    _, mark = stream_reply(
        client, conversation.messages, params(conversation), out, spinner, reasoning=args.reasoning
    )
    if mark == "stopped":
        out.end_line()
        return EXIT_INTERRUPTED
    if mark is not None:  # on stderr: stdout holds only the reply
        say(err, f"aura: the reply ended: [{shown(mark)}]\n")
    return 0


def _run(args: argparse.Namespace, stdout: TextIO | None, err: TextIO) -> int:
    if args.command == "serve":
        return _serve(args, err)
    _check_settings(args)
    if stdout is None:  # started with stdout closed (`>&-`)
        raise OutputError(OSError(errno.EBADF, "standard output is closed"))
    out = Output(stdout, Style.for_stream(stdout))
    # A bad --load file is exit 2 before anything starts.
    conversation = _conversation(args) if args.command == "chat" else None
    with _client(args) as client:
        if conversation is None:
            for model in client.models():
                out.write(f"{shown(model.id)}\t{shown(model.name)}\n")
            return 0
        return _chat(client, args, conversation, out, err)


class _Announce:
    """The ``task_status`` of ``aura serve``: says where it listens, once it does."""

    def __init__(self, base_url: Callable[[], str], err: TextIO) -> None:
        self._base_url = base_url
        self._err = err

    def started(self, value: object = None) -> None:
        _write(self._err, f"Local Aura emulator on {self._base_url()} (Ctrl-C stops it)\n")


def _serve(args: argparse.Namespace, err: TextIO) -> int:
    import anyio

    from .server import AuraServer
    from .server._server import url_host

    dialect = resolve_dialect(args.dialect, os.environ).name
    if args.enable_sys_prompt and dialect != "openai":
        raise _UsageError("--enable-sys-prompt is OpenChat's flag: only with --dialect openai")
    if args.flavor is not None and dialect != "openai":
        raise _UsageError("--flavor plays an OpenAI-compatible server: only with --dialect openai")
    try:
        server = AuraServer(
            host=args.host,
            port=args.port,
            pace=args.pace,
            dialect=dialect,
            enable_sys_prompt=args.enable_sys_prompt,
            flavor=args.flavor,
        )
    except ValueError as exc:  # a flavor it does not play
        raise _UsageError(str(exc)) from None
    if not args.quiet:
        _log_requests(err)
    interrupted = False
    failure: list[Exception] = []

    async def run() -> None:
        # Ctrl-C through the event loop, not KeyboardInterrupt: on Python 3.9 and 3.10
        # anyio's runner lets a CancelledError out instead (no uncancel()).
        nonlocal interrupted
        with ExitStack() as stack:
            try:
                signals = stack.enter_context(anyio.open_signal_receiver(signal.SIGINT))
            except (NotImplementedError, ValueError, RuntimeError):  # pragma: no cover
                signals = None  # no loop signal handling here: KeyboardInterrupt it is
            async with anyio.create_task_group() as tasks:

                async def stop_on_sigint() -> None:
                    nonlocal interrupted
                    assert signals is not None
                    async for _ in signals:
                        interrupted = True
                        tasks.cancel_scope.cancel()
                        return

                if signals is not None:
                    tasks.start_soon(stop_on_sigint)
                try:
                    await server.serve(task_status=_Announce(lambda: server.base_url, err))
                except Exception as exc:  # raised below, not as an ExceptionGroup
                    failure.append(exc)
                    tasks.cancel_scope.cancel()
        if failure:
            raise failure[0]

    try:
        anyio.run(run)
    except (ValueError, UnicodeError) as exc:  # a host name no socket can take
        raise _UsageError(f"argument --host: {exc}") from None
    except OSError as exc:  # the port is taken, the host unknown
        where = f"{url_host(args.host)}:{args.port}"
        _write(err, f"aura: error: cannot listen on {shown(where)}: {exc.strerror or exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:  # pragma: no cover - where the loop cannot catch SIGINT
        return EXIT_INTERRUPTED
    return EXIT_INTERRUPTED if interrupted else 0


class _ErrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler that never fails: when stderr is gone the lines go nowhere."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def _log_requests(err: TextIO) -> None:
    """``aura serve``: the server's line per request on stderr, as they are."""
    from .server._server import request_log

    handler = _ErrHandler(err)
    handler.setFormatter(_ShownFormatter("%(message)s"))
    request_log.addHandler(handler)
    request_log.setLevel(logging.INFO)
    request_log.propagate = False  # not twice with $AURA_LOG


def _reconfigure() -> None:
    """Never a UnicodeError on the way in or out, whatever the locale or PYTHONIOENCODING."""
    for stream, errors in (
        (sys.stdout, "backslashreplace"),
        (sys.stderr, "backslashreplace"),
        (sys.stdin, "surrogateescape"),
    ):
        if isinstance(stream, io.TextIOWrapper):
            with suppress(OSError, ValueError):  # a closed stream
                stream.reconfigure(errors=errors)


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null, so the exit flush is silent too."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # pragma: no cover
        pass


class _NoStderr(io.StringIO):
    """Where messages go when stderr is closed."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``aura`` command; returns the exit status."""
    _reconfigure()
    # Before any client sets it up plainly: what a server sends reaches the log too.
    setup_from_env(_ShownFormatter(LOG_FORMAT))
    err: TextIO = sys.stderr if sys.stderr is not None else _NoStderr()
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        bad = next((a for a in arguments if not _is_text(a)), None)
        if bad is not None:
            raise _UsageError(
                f"an argument is not valid {sys.getfilesystemencoding()} text: {bad!r}"
            )
        args = _parser().parse_args(arguments)
        return _run(args, sys.stdout, err)
    except (_UsageError, AuraValidationError) as exc:
        _error(exc, err)
        return EXIT_USAGE
    except AuraError as exc:
        _error(exc, err)
        return EXIT_ERROR
    except KeyboardInterrupt:
        _write(err, "\n")
        return EXIT_INTERRUPTED
    except _OutputError as exc:
        if exc.broken_pipe:
            _quiet_stdout()  # the reader left (`| head`): nothing to say
        else:
            _error(exc, err)
        return EXIT_ERROR
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # --help into a closed pipe
            _quiet_stdout()
        else:
            _error(exc, err)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
