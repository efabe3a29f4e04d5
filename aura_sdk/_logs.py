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

__all__ = ["LOG_FORMAT", "logger", "setup_from_env"]

logger = logging.getLogger("aura_sdk")
install_filters()  # again as each client is made, for loggers created since

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_configured = False


LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def setup_from_env(formatter: logging.Formatter | None = None) -> None:
    """Honour ``$AURA_LOG`` once: a stderr handler at that level.

    ``formatter`` replaces the plain one (the command line's escapes what a
    server sent, as in everything else it writes to the terminal).
    """
    global _configured
    if _configured:
        return
    _configured = True
    level = _LEVELS.get(os.environ.get("AURA_LOG", "").strip().lower())
    if level is None:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(formatter or logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)
