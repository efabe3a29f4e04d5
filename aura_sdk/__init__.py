"""aura-sdk: a typed sync and async Python client for Aura (openchat-ui) chat servers.

Example::

    from aura_sdk import AuraClient, user

    with AuraClient() as client:
        print(client.chat([user("Hi")]))
"""

from ._async_client import AsyncAuraClient, AsyncStream
from ._client import AuraClient, Stream
from ._config import DEFAULT_BASE_URL
from ._decoder import DecodeErrors, UTF8Decoder
from ._dialects import DialectName
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuraDecodeError,
    AuraError,
    AuraUsageError,
    AuraValidationError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContextLengthError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseTooLargeError,
    StreamInterruptedError,
    StreamTimeoutError,
    TimeoutLimit,
    UnprocessableEntityError,
)
from ._messages import Message, Role, assistant, system, user
from ._models import DEFAULT_MODEL, KNOWN_MODELS, Model
from ._params import ChatParams
from ._request import chat_body
from ._retry import RetryPolicy
from ._timeouts import DEFAULT_TIMEOUT, Timeout
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncAuraClient",
    "AsyncStream",
    "AuraClient",
    "AuraDecodeError",
    "AuraError",
    "AuraUsageError",
    "AuraValidationError",
    "AuthenticationError",
    "BadRequestError",
    "ChatParams",
    "ConflictError",
    "ContextLengthError",
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "DEFAULT_TIMEOUT",
    "DecodeErrors",
    "DialectName",
    "InternalServerError",
    "KNOWN_MODELS",
    "Message",
    "Model",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "Role",
    "Stream",
    "StreamInterruptedError",
    "StreamTimeoutError",
    "Timeout",
    "TimeoutLimit",
    "UTF8Decoder",
    "UnprocessableEntityError",
    "__version__",
    "assistant",
    "chat_body",
    "system",
    "user",
]
