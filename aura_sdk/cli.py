"""The ``aura`` command line: chat with an Aura server, list its models, or run one.

    aura chat "What is Aura?"            stream one reply (server: --base-url or $AURA_BASE_URL)
    aura chat                            an interactive conversation (Ctrl-C stops a reply, Ctrl-D leaves)
    aura chat --local "hi"               talk to a local emulator started in-process
    aura models                          list the server's models
    aura serve --port 8000               run the local emulator

The API key, if any, comes from ``$AURA_API_KEY`` only, never from the command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TextIO

from . import AuraClient, AuraError, AuraValidationError, Message, assistant, user
from ._validation import redact_url
from ._version import __version__

__all__ = ["main"]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aura", description="Chat with an Aura (openchat-ui) server from the terminal."
    )
    parser.add_argument("--version", action="version", version=f"aura-sdk {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def server_options(sub: argparse.ArgumentParser) -> None:
        where = sub.add_mutually_exclusive_group()
        where.add_argument(
            "--base-url", help="the server (default: $AURA_BASE_URL, then https://openchat.team)"
        )
        where.add_argument(
            "--local", action="store_true", help="start a local emulator in-process and use it"
        )
        sub.add_argument("--timeout", type=float, default=None, help="seconds for every time limit")

    chat = commands.add_parser("chat", help="stream a reply, or chat interactively with no PROMPT")
    chat.add_argument(
        "prompt", nargs="?", help="the message; leave out for an interactive conversation"
    )
    chat.add_argument("--system", help="a system prompt")
    chat.add_argument("--temperature", type=float, default=0.5, help="0 to 2 (default 0.5)")
    chat.add_argument(
        "--max-tokens", type=int, default=8192, help="context budget in tokens (default 8192)"
    )
    chat.add_argument("--model", default="openchat_3.6", help="model id (default openchat_3.6)")
    server_options(chat)

    models = commands.add_parser("models", help="list the server's models")
    server_options(models)

    serve = commands.add_parser("serve", help="run the local Aura emulator")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    serve.add_argument(
        "--pace", type=float, default=0.03, help="seconds between two streamed words"
    )
    return parser


@contextmanager
def _client(args: argparse.Namespace) -> Iterator[AuraClient]:
    with ExitStack() as stack:
        base_url = args.base_url
        if args.local:
            from .server import AuraServer

            base_url = stack.enter_context(AuraServer(pace=0.02)).base_url
        options = {} if args.timeout is None else {"timeout": args.timeout}
        model = getattr(args, "model", "openchat_3.6")
        yield stack.enter_context(AuraClient(base_url=base_url, model=model, **options))


def _say(client: AuraClient, history: list[Message], args: argparse.Namespace, out: TextIO) -> str:
    """Stream one reply to ``out``; Ctrl-C stops it and keeps what arrived."""
    # Entering sends the request: a failure raises here, before anything is printed.
    with client.stream(
        history, temperature=args.temperature, max_tokens=args.max_tokens, system=args.system
    ) as stream:
        try:
            for chunk in stream:
                out.write(chunk)
                out.flush()
        except KeyboardInterrupt:
            out.write(" [stopped]")
        finally:
            out.write("\n")
            out.flush()
    return stream.text


def _interactive(client: AuraClient, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    tty = sys.stdin.isatty()
    err.write(
        f"Chatting with {redact_url(client.base_url)} ({client.model.id}). Ctrl-C stops a reply, Ctrl-D leaves.\n"
    )
    history: list[Message] = []
    while True:
        try:
            line = input("you> " if tty else "")
        except EOFError:
            return 0
        except KeyboardInterrupt:
            err.write("\n(Ctrl-D leaves)\n")
            continue
        if not line.strip():
            continue
        history.append(user(line))
        try:
            text = _say(client, history, args, out)
        except AuraError as exc:
            history.pop()  # the server never answered it: let the user try again
            _error(exc, err)
            continue
        if text:
            history.append(assistant(text))


def _error(exc: BaseException, err: TextIO) -> None:
    err.write(f"aura: error: {exc}\n")
    err.flush()


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.command == "serve":
        return _serve(args, err)
    with _client(args) as client:
        if args.command == "models":
            for model in client.models():
                out.write(f"{model.id}\t{model.name}\n")
            return 0
        if args.prompt is None:
            return _interactive(client, args, out, err)
        _say(client, [user(args.prompt)], args, out)
        return 0


def _serve(args: argparse.Namespace, err: TextIO) -> int:
    import anyio

    from .server import AuraServer

    server = AuraServer(host=args.host, port=args.port, pace=args.pace)

    async def run() -> None:
        async with anyio.create_task_group() as tasks:
            await tasks.start(server.serve)
            err.write(f"Local Aura emulator on {server.base_url} (Ctrl-C stops it)\n")
            err.flush()

    try:
        anyio.run(run)
    except OSError as exc:
        _error(exc, err)
        return EXIT_ERROR
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``aura`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return _run(args, sys.stdout, sys.stderr)
    except AuraValidationError as exc:
        _error(exc, sys.stderr)
        return EXIT_USAGE
    except AuraError as exc:
        _error(exc, sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
