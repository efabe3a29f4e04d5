# `make test` sets everything up on a fresh machine: the venv, the package with
# its dev extras, then lint, type checks and the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo bench lint typecheck pytest install clean

test: install lint typecheck pytest

# The SDK's main job with no network: a streamed reply from a local emulator.
demo: install
	$(BIN)/aura chat --local --system "Answer like a tour guide." "What is Aura, and what am I looking at?"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The benchmarks, side by side in one run (about 6 minutes); writes docs/benchmarks.md
# and exits 1 if a target is missed. The peers are installed only for their import time.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench-peers]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks

# Warnings are errors through pyproject's filterwarnings; a -W flag here would
# override its one documented exception (encode/httpx#3686).
pytest: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
