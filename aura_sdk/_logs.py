"""The SDK's logger, ``aura_sdk``: off unless ``AURA_LOG=debug|info`` or you configure it.

It logs method, URL, status, timings and retries, never a body or a header
value, so the API key (sent in the body) cannot reach a log record. What a
server sends back (a reason phrase, a header) might echo it: ``_secrets`` puts a
filter on this logger and httpx's, httpcore's and their parsers', which masks
every live client's secrets and URL passwords in each record.
"""

from __future__ import annotations

import logging
import os

from ._secrets import install_filters

__all__ = ["logger", "setup_from_env"]

logger = logging.getLogger("aura_sdk")
install_filters()  # again as each client is made, for loggers created since

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_configured = False


def setup_from_env() -> None:
    """Honour ``$AURA_LOG`` once: a stderr handler at that level."""
    global _configured
    if _configured:
        return
    _configured = True
    level = _LEVELS.get(os.environ.get("AURA_LOG", "").strip().lower())
    if level is None:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
