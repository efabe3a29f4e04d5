"""A local Aura server that speaks openchat-ui's wire protocol, with fault injection.

Install with ``pip install 'aura-sdk[server]'``. Nothing here is imported by
``import aura_sdk``. Start it with ``aura serve`` or, in Python::

    from aura_sdk.server import AuraServer, Fault

    with AuraServer() as server:
        print(server.base_url)

``AuraServer(dialect="openai")`` speaks OpenChat's own OpenAI-compatible server
instead (``base_url`` ends in ``/v1``; ``root_url`` never does)::

    with AuraServer(dialect="openai", api_keys={"sk-1"}) as server:
        server.script(Fault(error_event='{"message": "engine died"}', error_after=2))

``flavor=`` plays another OpenAI-compatible server, quirks and all
(``FLAVORS``: vLLM, ollama, llama-cpp-python, llama.cpp's llama-server, LM
Studio, SGLang)::

    with AuraServer(dialect="openai", flavor="llama-cpp-python", context=64) as server:
        ...  # a streamed prompt over 64 tokens: a 200 with an empty body
"""

from ._faults import FAULT_HEADER, Fault
from ._flavors import FLAVORS, FlavorName
from ._protocol import mask_key
from ._responder import LocalResponder
from ._server import AuraServer, RecordedRequest

__all__ = [
    "FAULT_HEADER",
    "FLAVORS",
    "AuraServer",
    "Fault",
    "FlavorName",
    "LocalResponder",
    "RecordedRequest",
    "mask_key",
]
