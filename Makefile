# `make test` sets everything up on a fresh machine: the venv, the package with
# its dev extras, then lint, type checks and the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint typecheck pytest install clean

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

# Warnings are errors through pyproject's filterwarnings; a -W flag here would
# override its one documented exception (encode/httpx#3686).
pytest: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
