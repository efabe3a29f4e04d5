"""The local emulator's replies: deterministic, readable, built from the conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LocalResponder", "sized_reply", "split_inside_character", "to_utf8"]


@dataclass(frozen=True)
class LocalResponder:
    """Builds a reply that visibly uses the last user message and the system prompt.

    It says plainly that it is an emulator; ``pace`` is the pause between two
    words when streaming, so the streaming is visible in a terminal.
    """

    pace: float = 0.03

    def reply(self, messages: Sequence[dict[str, str]], prompt: str, seen: int) -> str:
        """The reply to ``messages`` (all that were sent), with the system ``prompt``
        and ``seen``, how many of the messages the server's window let the model see."""
        last = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        instructions = (
            f"Your system prompt says: “{prompt}”." if prompt else "No system prompt was sent."
        )
        return (
            "Hello! I am the local Aura emulator, not a real model: I stream a fixed "
            f"kind of answer so you can see the SDK work offline. You said: “{last}”. "
            f"{instructions} I can see {seen} of the {len(messages)} messages you sent. ✓"
        )

    @staticmethod
    def words(text: str) -> list[bytes]:
        """``text`` cut into one chunk per word (with its trailing space), as UTF-8."""
        parts = to_utf8(text).split(b" ")
        return [p + b" " for p in parts[:-1]] + [parts[-1]]


def to_utf8(text: str) -> bytes:
    """``text`` as UTF-8, a lone surrogate (JSON's ``"\\ud800"``) as U+FFFD, as Node.js does."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()


def split_inside_character(chunks: list[bytes]) -> list[bytes]:
    """The same chunks, with the first one holding a multibyte character cut inside it."""
    for n, chunk in enumerate(chunks):
        for i, byte in enumerate(chunk):
            if byte >= 0xC0:  # the lead byte of a multibyte character
                return [*chunks[:n], chunk[: i + 1], chunk[i + 1 :], *chunks[n + 1 :]]
    return chunks


def sized_reply(size: int, chunk_size: int) -> list[bytes]:
    """Exactly ``size`` bytes of valid UTF-8 text (some of it multibyte), in chunks."""
    pattern = "Aura ✓ café 🙂 ".encode()
    data = (pattern * (size // len(pattern) + 1))[:size]
    # Do not end inside a character: pad the cut one with ASCII instead.
    while data:
        try:
            data.decode()
            break
        except UnicodeDecodeError as exc:
            data = data[: exc.start] + b"." * (len(data) - exc.start)
    return [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
