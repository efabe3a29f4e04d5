"""A local Aura server that speaks openchat-ui's wire protocol, with fault injection.

Install with ``pip install 'aura-sdk[server]'``. Nothing here is imported by
``import aura_sdk``. Start it with ``aura serve`` or, in Python::

    from aura_sdk.server import AuraServer, Fault

    with AuraServer() as server:
        print(server.base_url)
"""

from ._faults import FAULT_HEADER, Fault
from ._protocol import mask_key
from ._responder import LocalResponder
from ._server import AuraServer, RecordedRequest

__all__ = ["FAULT_HEADER", "AuraServer", "Fault", "LocalResponder", "RecordedRequest", "mask_key"]
