"""The messages of one ``aura chat`` conversation, and saving and loading them.

A saved conversation is the SDK's message format as JSON: a list of
``{"role": ..., "content": ...}`` objects (``Message``), the system prompt first
as a ``"system"`` message. It can be passed to ``client.chat`` as it is::

    client.chat(json.load(open("chat.json")))
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from .._exceptions import AuraValidationError
from .._messages import Message, assistant, system, user
from .._validation import check_messages

__all__ = ["MAX_FILE_BYTES", "Conversation", "ConversationError"]

MAX_FILE_BYTES = 64 * 1024 * 1024
"""The largest conversation file ``load`` reads."""


class ConversationError(Exception):
    """A conversation file could not be saved or loaded: one line for the user."""


@dataclass
class Conversation:
    """The system prompt and the user and assistant messages, in order.

    ``partial`` holds the indexes of assistant messages that broke off (Ctrl-C,
    a dropped connection): they stay, so the conversation goes on from them.
    ``unanswered`` is the last question that got no reply at all (``/retry``).
    """

    system: str | None = None
    messages: list[Message] = field(default_factory=list)
    partial: set[int] = field(default_factory=set)
    unanswered: str | None = None

    def ask(self, text: str) -> None:
        self.messages.append(user(text))
        self.unanswered = text

    def answer(self, text: str, *, partial: bool = False) -> None:
        if partial:
            self.partial.add(len(self.messages))
        self.messages.append(assistant(text))
        self.unanswered = None

    def unask(self) -> None:
        """Forget the last question (it got no reply): it can be sent again with /retry."""
        if self.messages and self.messages[-1]["role"] == "user":
            self.messages.pop()

    def retry(self) -> str | None:
        """The question to ask again, with its answer (if any) removed; None: nothing to retry."""
        if self.unanswered is not None:
            self.unask()
            return self.unanswered
        if len(self.messages) >= 2 and self.messages[-1]["role"] == "assistant":
            self.partial.discard(len(self.messages) - 1)
            self.messages.pop()
            return self.messages.pop()["content"]
        return None

    def clear(self) -> None:
        """Forget the messages (the system prompt stays)."""
        self.messages.clear()
        self.partial.clear()
        self.unanswered = None

    def to_messages(self) -> list[Message]:
        """The whole conversation, system prompt first, as the SDK takes it."""
        head = [] if self.system is None else [system(self.system)]
        return [*head, *self.messages]

    # --- files -----------------------------------------------------------------

    def save(self, path: str) -> int:
        """Write the conversation to ``path`` as JSON; how many messages were written."""
        if not self.messages:
            raise ConversationError("nothing to save yet")
        messages = self.to_messages()
        text = json.dumps(messages, ensure_ascii=False, indent=2) + "\n"
        try:
            with open(os.path.expanduser(path), "w", encoding="utf-8", newline="\n") as file:
                file.write(text)
        except OSError as exc:
            raise ConversationError(f"cannot save to {path}: {exc.strerror or exc}") from None
        except ValueError as exc:  # a NUL in the path
            raise ConversationError(f"cannot save to {path!r}: {exc}") from None
        return len(messages)

    @classmethod
    def load(cls, path: str) -> Conversation:
        """Read a saved conversation; a bad file is one ``ConversationError`` line."""
        try:
            with open(os.path.expanduser(path), "rb") as file:
                data = file.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise ConversationError(f"cannot read {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise ConversationError(f"cannot read {path!r}: {exc}") from None
        if len(data) > MAX_FILE_BYTES:
            raise ConversationError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB")
        try:
            loaded = json.loads(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise ConversationError(f"{path}: not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise ConversationError(
                f"{path}: not JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
            ) from None
        except RecursionError:
            raise ConversationError(f"{path}: not JSON (nested too deeply)") from None
        try:
            messages = check_messages(loaded)
        except AuraValidationError as exc:
            hint = ' (a saved conversation is a list of {"role", "content"} objects)'
            raise ConversationError(f"{path}: {exc}{hint}") from None
        systems = [m["content"] for m in messages if m["role"] == "system"]
        return cls(
            system="\n".join(systems) if systems else None,
            messages=[m for m in messages if m["role"] != "system"],
        )
