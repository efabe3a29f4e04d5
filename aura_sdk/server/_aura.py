"""The ``aura`` dialect: openchat-ui's ``/api/chat`` and ``/api/models``.

What the requests must hold and how they fail is in ``_protocol``; this module
turns that into answers for the server to send.
"""

from __future__ import annotations

import json

from .._models import KNOWN_MODELS
from ._answers import Answer, RecordedRequest, Route, Settings, Streamed, Whole, phrase
from ._faults import Fault
from ._protocol import Failure, parse_chat, parse_models
from ._responder import sized_reply, split_inside_character

__all__ = ["AuraDialect"]

_TEXT_PLAIN = "text/plain;charset=UTF-8"


def _whole(failure: Failure, content_type: str = _TEXT_PLAIN) -> Whole:
    return Whole(failure.status, failure.body, content_type, failure.reason)


class AuraDialect:
    """openchat-ui's wire behaviour: plain-text streams, errors in the reason phrase."""

    prefix = ""

    def route(self, request: RecordedRequest, path: str, settings: Settings) -> Route:
        if path not in ("/api/chat", "/api/models"):
            return _whole(Failure("Not Found", status=404))
        if request.method != "POST":
            return _whole(Failure())  # openchat-ui: any other method is a 500
        return "chat" if path == "/api/chat" else "models"

    def models(self, request: RecordedRequest, settings: Settings) -> Whole:
        failure = parse_models(request.body, settings.api_keys)
        if failure is not None:
            return _whole(failure, "application/json")
        listing = [
            {"id": m, "name": KNOWN_MODELS[m].name if m in KNOWN_MODELS else m}
            for m in settings.models
        ]
        return Whole(200, json.dumps(listing), _TEXT_PLAIN)

    def check_fault(self, fault: Fault) -> None:
        extra = fault.openai_only()
        if extra:
            raise ValueError(f"only the openai dialect has these Fault fields: {extra}")

    def fault_answer(self, fault: Fault) -> Whole:
        reason = fault.reason or phrase(fault.status or 500)
        return Whole(
            fault.status or 500, fault.body, _TEXT_PLAIN, reason, tuple(fault.headers.items())
        )

    def bad_fault(self, message: str) -> Whole:
        return _whole(Failure(message))

    def chat(self, request: RecordedRequest, fault: Fault, settings: Settings) -> Answer:
        call = parse_chat(request.body, settings.models, settings.api_keys)
        if isinstance(call, Failure):
            return _whole(call)
        pace = settings.responder.pace
        if fault.chunks is not None:
            chunks = list(fault.chunks)
        elif fault.reply_bytes is not None:
            chunks, pace = sized_reply(fault.reply_bytes, fault.chunk_size), 0.0
        else:
            text = settings.responder.reply(call.messages, call.prompt, len(call.kept))
            chunks = settings.responder.words(text)
            if fault.split_multibyte:
                chunks = split_inside_character(chunks)
        # openchat-ui's success: 200, no Content-Type, chunked plain UTF-8 text.
        return Streamed(
            pieces=[(chunk,) for chunk in chunks],
            pauses=[pace if index else 0.0 for index in range(len(chunks))],
            drop_at=fault.drop_after,
            stall_at=fault.stall_after,
        )
