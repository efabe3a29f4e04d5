"""aura-sdk's benchmarks: ``make bench`` (or ``python -m benchmarks``)."""
