"""Parsing the non-streamed answers: the model list of ``POST /api/models``."""

from __future__ import annotations

import json

from ._exceptions import APIResponseValidationError, AuraValidationError, ResponseTooLargeError
from ._models import KNOWN_MODELS, Model
from ._secrets import scrub
from ._status import redact

__all__ = ["BodyBuffer", "invalid_answer", "parse_models"]


class BodyBuffer:
    """A whole (decoded) answer, read chunk by chunk, at most ``limit`` bytes of it.

    >>> buffer = BodyBuffer(4)
    >>> buffer.add(b"[]"), bytes(buffer.data)
    (None, b'[]')
    """

    __slots__ = ("data", "limit", "secret")

    def __init__(self, limit: int | None, secret: str = "") -> None:
        self.data = bytearray()
        self.limit = limit
        self.secret = secret

    def add(self, chunk: bytes) -> None:
        """Keep ``chunk``; past the limit, ``ResponseTooLargeError`` with the text up to it."""
        self.data += chunk
        if self.limit is not None and len(self.data) > self.limit:
            del self.data[self.limit :]
            text = scrub(redact(self.data.decode("utf-8", "replace"), self.secret))
            raise ResponseTooLargeError(
                f"the answer was cut off: it passed max_response_bytes={self.limit}",
                text=text,
            )


def parse_models(body: bytes, secret: str = "") -> list[Model]:
    """``[{"id": "openchat_3.6", "name": "OpenChat 3.6 (latest)"}]`` as ``Model``s.

    Known ids keep their built-in limits; anything unexpected (not UTF-8, not
    JSON, nested too deep, not a list of objects with a string ``id``) is an
    ``APIResponseValidationError`` that quotes the start of the body, with
    ``secret`` and any URL password masked.
    """
    try:
        data = json.loads(body.decode("utf-8"))
    except RecursionError:
        raise invalid_answer(body, "JSON nested too deep", secret) from None
    except ValueError as exc:
        raise invalid_answer(body, f"not JSON ({exc})", secret) from None
    if not isinstance(data, list):
        raise invalid_answer(body, "expected a JSON list of models", secret)
    models: list[Model] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise invalid_answer(body, f"item {index} has no string 'id'", secret)
        model_id: str = item["id"]
        name = item.get("name")
        name = name if isinstance(name, str) else None
        known = KNOWN_MODELS.get(model_id)
        try:
            if known is None:
                models.append(Model(model_id, name))
            else:
                models.append(Model(model_id, name, known.max_length, known.token_limit))
        except AuraValidationError as exc:  # an empty id, a lone surrogate: the server's fault
            raise invalid_answer(body, f"item {index}: {exc}", secret) from None
    return models


def invalid_answer(
    body: bytes, why: str, secret: str, where: str = "/api/models"
) -> APIResponseValidationError:
    """The error for a model list that makes no sense, quoting its start (secrets masked)."""
    sample = scrub(redact(body[:200].decode("utf-8", "replace"), secret))
    return APIResponseValidationError(f"unexpected {where} answer, {why}: {sample!r}", body=sample)
