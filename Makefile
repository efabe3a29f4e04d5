# `make test` sets everything up on a fresh machine: the venv (the package, its
# extras and the dev tools, from the package index), lint and type checks on the
# default Python, then the whole suite on every Python 3.9-3.13 this machine has
# (nox, one venv each under .nox/).
PYTHON ?= python3

# A CI environment may set PYTHONDONTWRITEBYTECODE (this machine's does): then no
# Python run here caches bytecode, and every process (each pytest worker, each of
# the hundreds of subprocesses the suite starts, each benchmark worker) compiles
# pytest, hypothesis, trio, httpx and the SDK from source again, about 2.4 s of CPU
# for a pytest process. What make runs caches it (in __pycache__, gitignored).
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# pyenv keeps one interpreter per version; nox finds them as python3.X on PATH
# (ahead of pyenv's shims, which answer only for the active version).
PYENV_ROOT ?= $(or $(shell pyenv root 2>/dev/null),$(HOME)/.pyenv)
empty :=
space := $(empty) $(empty)
PYENV_BINS := $(subst $(space),:,$(wildcard $(PYENV_ROOT)/versions/3.*/bin))

.PHONY: test test-peers demo bench lint typecheck pytest pytest-matrix install clean $(addprefix nox-,$(PYTHONS))

test: install lint typecheck pytest-matrix

# The SDK's main job, with no server at hand: a streamed reply from the local
# emulator. Its own venv holds only the package and its `server` extra (httpx,
# anyio, h11 and what they need, from the package index), not the dev tools.
DEMO := .venv-demo
DEMO_STAMP := $(DEMO)/.installed

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(DEMO)
	$(DEMO)/bin/python -m pip install --quiet --disable-pip-version-check '.[server]'
	touch $(DEMO_STAMP)

# </dev/null: with stdin not a terminal, `aura chat PROMPT` reads it to the end (piped
# input joins the prompt), and a CI runner's stdin may never end.
demo: $(DEMO_STAMP)
	$(DEMO)/bin/aura chat --local --system "Answer like a tour guide." "What is Aura, and what am I looking at?" < /dev/null

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[server,bench]' --group dev
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The whole suite on every Python the package admits (its classifiers) and this
# machine has: one nox session per Python, three at a time (a session keeps about
# two thirds of a core busy: much of the suite waits on sockets and timers), each
# with its output whole.
PYTHONS := $(shell sed -n 's/.*"Programming Language :: Python :: \(3\.[0-9]*\)".*/\1/p' pyproject.toml)

# The longest sessions start first (the noxfile's: the default Python draws every
# example, and 3.10 and 3.12 leave out the subprocess suites), so that the last to
# start are short ones and the two cores stay busy to the end.
LIGHT := 3.10 3.12
MATRIX := $(filter-out $(LIGHT),$(PYTHONS)) $(filter $(LIGHT),$(PYTHONS))

pytest-matrix: install
	$(MAKE) --no-print-directory -j3 --output-sync=target $(addprefix nox-,$(MATRIX))

nox-%: install
	PATH="$(PYENV_BINS):$$PATH" $(BIN)/nox --no-color -s tests-$*

# The whole suite on the default Python only (quick, while working).
# Warnings are errors through pyproject's filterwarnings; a -W flag here would
# override its one documented exception (encode/httpx#3686).
pytest: install
	$(BIN)/python -m pytest

# The benchmarks, side by side in one run (about 6 minutes); writes docs/benchmarks.md
# and exits 1 if a target is missed. The peers are installed only for their import time.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[server,bench,bench-peers]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks

# The openai dialect against a real llama-cpp-python server (tests/peers): the server
# in its own venv, the suite in the SDK's. The first install builds llama.cpp from
# source (about 4 to 14 minutes on 2 cores); pip's wheel cache makes later ones take
# seconds. A peer that cannot be built stops here, loudly; its tests never skip.
# pip's wheel cache is keyed by the interpreter's version: hence one fixed Python
# (3.11 where there is one), so that every run after the first takes the cached wheel.
PEERS := .venv-peers
PEERS_STAMP := $(PEERS)/.installed
PEERS_PYTHON ?= $(or $(shell command -v python3.11 2>/dev/null),$(PYTHON))

$(PEERS_STAMP): tests/peers/requirements.txt
	$(PEERS_PYTHON) -m venv --clear $(PEERS)
	@echo "installing llama-cpp-python into $(PEERS) (the first build compiles llama.cpp: minutes)"
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(PEERS)/bin/python -m pip install --disable-pip-version-check \
		--progress-bar off -r tests/peers/requirements.txt
	touch $(PEERS_STAMP)

test-peers: install $(PEERS_STAMP)
	AURA_PEER_PYTHON=$(abspath $(PEERS))/bin/python $(BIN)/python -m pytest -p no:cacheprovider tests/peers

clean:
	rm -rf $(VENV) $(DEMO) $(PEERS) .nox .mypy_cache .pytest_cache .ruff_cache
