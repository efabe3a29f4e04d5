"""Chat messages: the typed shape users pass in, and small constructors for it.

A list literal assigned to an unannotated variable is inferred by type checkers
as ``list[dict[str, str]]``, which does not match ``Message``. Either annotate
(``messages: list[aura_sdk.Message] = [...]``) or build it with the
constructors here, which keep the role check::

    from aura_sdk import system, user
    messages = [system("Be brief."), user("Hi")]
"""

from __future__ import annotations

from typing import Literal, TypedDict

__all__ = ["Message", "Role", "assistant", "system", "user"]

Role = Literal["system", "user", "assistant"]
"""The roles Aura understands."""


class Message(TypedDict):
    """One chat message: ``{"role": "user", "content": "Hi"}``."""

    role: Role
    content: str


def system(content: str) -> Message:
    """A system message whose text is ``content``: ``system("Answer in French.")``.

    System messages are not sent as messages: they are joined into the prompt.
    """
    return {"role": "system", "content": content}


def user(content: str) -> Message:
    """A user message whose text is ``content``: ``user("Hi")``."""
    return {"role": "user", "content": content}


def assistant(content: str) -> Message:
    """An assistant message whose text is ``content``, for replaying a conversation:
    ``assistant("Hello!")``."""
    return {"role": "assistant", "content": content}
