"""Parsing the non-streamed answers: the model list of ``POST /api/models``."""

from __future__ import annotations

import json

from ._exceptions import APIResponseValidationError, AuraValidationError
from ._models import KNOWN_MODELS, Model

__all__ = ["parse_models"]


def parse_models(body: bytes) -> list[Model]:
    """``[{"id": "openchat_3.6", "name": "OpenChat 3.6 (latest)"}]`` as ``Model``s.

    Known ids keep their built-in limits; anything unexpected is an
    ``APIResponseValidationError`` that quotes the start of the body.
    """
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise _invalid(body, f"not JSON ({exc})") from None
    if not isinstance(data, list):
        raise _invalid(body, "expected a JSON list of models")
    models: list[Model] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise _invalid(body, f"item {index} has no string 'id'")
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
            raise _invalid(body, f"item {index}: {exc}") from None
    return models


def _invalid(body: bytes, why: str) -> APIResponseValidationError:
    sample = body[:200].decode("utf-8", "replace")
    return APIResponseValidationError(
        f"unexpected /api/models answer, {why}: {sample!r}", body=sample
    )
