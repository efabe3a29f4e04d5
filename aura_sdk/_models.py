"""Model descriptors: what openchat-ui expects in the request's ``model`` field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._validation import MAX_JSON_INT, check_count, check_model_id, check_text

__all__ = ["DEFAULT_MODEL", "KNOWN_MODELS", "Model", "resolve_model"]

DEFAULT_MAX_LENGTH = 24576
DEFAULT_TOKEN_LIMIT = 8192


@dataclass(frozen=True)
class Model:
    """A model as openchat-ui describes it.

    Only ``id`` matters to the server; ``max_length`` is the client-side
    character limit of the web UI (it bounds ``max_tokens`` here) and
    ``token_limit`` the default context budget. Each field is checked here:
    ``id`` a non-empty str, ``name`` a str, the limits ints from 1 to 2**53 - 1
    (what the JavaScript server reads back exactly).

    >>> Model("openchat_3.6", "OpenChat 3.6 (latest)")
    Model(id='openchat_3.6', name='OpenChat 3.6 (latest)', max_length=24576, token_limit=8192)
    """

    __slots__ = ("id", "max_length", "name", "token_limit")

    id: str
    name: str
    max_length: int
    token_limit: int

    def __init__(
        self,
        id: str,
        name: str | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        token_limit: int = DEFAULT_TOKEN_LIMIT,
    ) -> None:
        check_model_id(id, "Model.id")
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "name", id if name is None else check_text("Model.name", name))
        object.__setattr__(
            self, "max_length", check_count("Model.max_length", max_length, 1, MAX_JSON_INT)
        )
        object.__setattr__(
            self, "token_limit", check_count("Model.token_limit", token_limit, 1, MAX_JSON_INT)
        )

    def descriptor(self, token_limit: int | None = None) -> dict[str, Any]:
        """The JSON object sent as ``model``, in the key order the web UI uses.

        ``token_limit`` replaces the model's own ``token_limit`` (a call's ``max_tokens``).
        """
        return {
            "id": self.id,
            "name": self.name,
            "maxLength": self.max_length,
            "tokenLimit": self.token_limit if token_limit is None else token_limit,
        }


KNOWN_MODELS: dict[str, Model] = {
    "openchat_3.6": Model("openchat_3.6", "OpenChat 3.6 (latest)"),
    "openchat_v3.2_mistral": Model("openchat_v3.2_mistral", "OpenChat Aura"),
}
"""The built-in descriptors, by id. Any other id is accepted as a custom model."""

DEFAULT_MODEL = "openchat_3.6"


def resolve_model(model: str | Model) -> Model:
    """The descriptor for ``model``: a built-in one by id, or a custom one."""
    if isinstance(model, Model):
        return model
    return KNOWN_MODELS.get(model) or Model(model)
