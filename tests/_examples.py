"""How many examples each hypothesis property draws in this run.

``make pytest`` and the matrix's default Python draw each property's full count;
the matrix's other Pythons draw a quarter of it (nox sets ``$AURA_EXAMPLES`` to
``quarter``): every property still runs on every Python, and ``make test`` stays
within its budget.
"""

from __future__ import annotations

import os

_FRACTIONS = {"full": 1.0, "quarter": 0.25}
FRACTION = _FRACTIONS.get(os.environ.get("AURA_EXAMPLES", "full"), 1.0)


def examples(count: int) -> int:
    """``count`` examples, scaled for this run (at least 10)."""
    return max(10, round(count * FRACTION))
